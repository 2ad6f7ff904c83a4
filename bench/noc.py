"""Labelling effort on real microscopy: NoC@85/90, 1-click and box mIoU per segmenter.

Runs the simulated annotator of app/evaluation/noc.py (standard NoC protocol, 20 clicks at
most) on every ground-truth nucleus, for each segmenter available here: `classic` always,
SAM when a checkpoint is configured (LASSOLABEL_SAM_CHECKPOINT or --sam-checkpoint).

    .venv/bin/python bench/noc.py --data ../shared/datasets/nuclei [--limit 300] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Settings  # noqa: E402
from app.evaluation.datasets import load_nuclei  # noqa: E402
from app.evaluation.effort import measure_effort  # noqa: E402
from app.evaluation.predictors import SegmenterPredictor  # noqa: E402
from app.evaluation.report import table  # noqa: E402
from app.inference.base import ModelUnavailable, Segmenter  # noqa: E402
from app.inference.classic import ClassicSegmenter  # noqa: E402


def objects(dataset):
    """(image index, HxW bool mask) of every instance, image by image."""
    for index, (_, _, instances) in enumerate(dataset):
        for value in np.unique(instances[instances > 0]):
            yield index, instances == value


def segmenters(args: argparse.Namespace) -> dict[str, Segmenter]:
    found: dict[str, Segmenter] = {"classic": ClassicSegmenter()}
    settings = Settings(**({"sam_checkpoint": args.sam_checkpoint} if args.sam_checkpoint else {}))
    try:
        from app.inference.sam_loader import load_sam_segmenter, resolve_checkpoint

        found["sam"] = load_sam_segmenter(settings, resolve_checkpoint(settings))
    except ModelUnavailable as exc:
        print(f"sam: not measured ({str(exc)[:90]}...)")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets/nuclei"))
    parser.add_argument("--limit", type=int, default=None, help="at most this many objects")
    parser.add_argument("--max-clicks", type=int, default=20)
    parser.add_argument("--sam-checkpoint", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not (args.data / "images").is_dir():
        print(f"no dataset at {args.data}: skipped")
        return 0
    dataset = load_nuclei(args.data)
    rows, results = (
        [["segmenter", "objects", "NoC@85", "NoC@90", ">20@90", "1-click mIoU", "box mIoU", "s"]],
        {},
    )
    for name, segmenter in segmenters(args).items():
        start = time.perf_counter()
        summary = measure_effort(
            objects(dataset), lambda i, s=segmenter: SegmenterPredictor(s, dataset[i][1]),
            max_clicks=args.max_clicks, limit=args.limit,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        results[name] = {**summary.as_dict(), "seconds": seconds}
        rows.append([
            name, str(summary.objects), f"{summary.noc[0.85]:.2f}", f"{summary.noc[0.9]:.2f}",
            str(summary.failures[0.9]), f"{summary.first_click_miou:.3f}",
            f"{summary.box_miou:.3f}", f"{seconds:.0f}",
        ])  # fmt: skip
    print(table(rows))
    if "sam" in results:
        ratio = results["classic"]["noc@90"] / results["sam"]["noc@90"]
        print(f"NoC@90 classic / sam: {ratio:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
