"""Exemplar prompting's min_score on real weights: precision of the proposals against the
nuclei ground truth, and the share of correct proposals kept, for each threshold.

A few ground-truth nuclei of the first image are the exemplars (as labelled segments would
be); `propose` (app/similar/exemplar.py, the exemplar job's code) then runs on the next
images. A proposal is correct when it matches an unmatched nucleus at IoU >= 0.5.

    nice -n 10 .venv/bin/python bench/exemplar_min_score.py --checkpoint PATH [--images 8]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation.datasets import nuclei_samples  # noqa: E402
from app.evaluation.metrics import greedy_matches, iou_matrix  # noqa: E402
from app.evaluation.report import table  # noqa: E402
from app.similar.exemplar import propose, target_feature  # noqa: E402

THRESHOLDS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]


def scored_proposals(args: argparse.Namespace) -> list[tuple[float, bool]]:
    """(score, correct) of every proposal on images 2.. of the sample."""
    from app.inference.sam_loader import load_sam_segmenter
    from tests.fixtures.settings import make_settings

    settings = make_settings(
        None, sam_checkpoint=args.checkpoint, torch_threads=args.threads,
        model_dir=args.workdir / "models",
    )  # fmt: skip
    segmenter = load_sam_segmenter(settings)
    samples = list(nuclei_samples(args.data, images=args.images + 1, per_image=None))
    first = segmenter.prepare([samples[0].image])[0]
    exemplars = samples[0].objects[: args.exemplars]
    target = target_feature([first] * len(exemplars), exemplars)
    results = []
    for sample in samples[1:]:
        state = segmenter.prepare([sample.image])[0]
        found = propose(segmenter, state, target, args.per_image)
        matched = {
            p
            for _, p, _ in greedy_matches(iou_matrix(sample.objects, [f.mask for f in found]), 0.5)
        }
        results += [(f.score, i in matched) for i, f in enumerate(found)]
        print(f"{sample.name}: {len(found)} proposals, {len(matched)} correct", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets/nuclei"))
    parser.add_argument("--images", type=int, default=8, help="images searched")
    parser.add_argument("--exemplars", type=int, default=3)
    parser.add_argument("--per-image", type=int, default=16, help="max_per_image")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/exemplar-bench"))
    args = parser.parse_args()
    if not (args.data / "images").is_dir():
        print(f"no dataset at {args.data}: skipped")
        return 0
    results = scored_proposals(args)
    correct_total = sum(c for _, c in results)
    rows = [["min_score", "proposals", "precision", "correct kept", "F1"]]
    for t in THRESHOLDS:
        kept = [c for s, c in results if s >= t]
        precision = float(np.mean(kept)) if kept else float("nan")
        recall = sum(kept) / max(correct_total, 1)
        f1 = 2 * precision * recall / (precision + recall) if kept and precision + recall else 0.0
        rows.append([f"{t:.1f}", str(len(kept)), f"{precision:.3f}", f"{recall:.3f}", f"{f1:.3f}"])
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
