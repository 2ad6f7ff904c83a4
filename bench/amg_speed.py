"""Automatic masks per image: seconds and recall@0.5 of the product's `segment` code
(SamSegmenter.prepare + auto, what the job runs) and, with --reference, of segment-anything's
SamAutomaticMaskGenerator on the same checkpoint, both timed from the image (encoder included).

    nice -n 10 .venv/bin/python bench/amg_speed.py --checkpoint PATH --data DIR
        --names nuclei/0999dab07b11 nuclei/0f1f896d9ae5 camvid/0016E5_07959 [--reference]

Wall seconds depend on what else loads the machine; CPU seconds (this process, its threads
included, onnxruntime's spin-waits too) much less. Prints one row per image; run it from an
older checkout (copy the file there) for the product's previous path under the same
conditions.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation.datasets import Sample, camvid_samples, nuclei_samples  # noqa: E402
from app.evaluation.metrics import greedy_matches, iou_matrix  # noqa: E402
from app.evaluation.report import table  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


def sample(data: Path, name: str) -> Sample:
    """'nuclei/<id>' or 'camvid/<frame>' with every object of the image."""
    kind, stem = name.split("/")
    if kind == "nuclei":
        found = nuclei_samples(data / "nuclei", images=10**6, per_image=None)
    else:
        found = camvid_samples(data / "camvid-dev", images=10**6, per_image=None)
    return next(s for s in found if s.name == stem)


def timed_recall(item: Sample, masks_for: Any) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of this process, recall@0.5) of one image."""
    started, cpu = time.perf_counter(), time.process_time()
    masks = masks_for(item.image)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    found = len(greedy_matches(iou_matrix(item.objects, masks), 0.5)) if masks else 0
    return seconds, cpu, found / max(len(item.objects), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--names", nargs="+", required=True)
    parser.add_argument("--points-per-side", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reference", action="store_true")
    parser.add_argument("--label", default="product")
    parser.add_argument("--model-dir", type=Path, default=None, help="exported decoder graphs")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "amg-speed")
    args = parser.parse_args()
    from segment_anything import SamAutomaticMaskGenerator

    from app.inference.sam_loader import load_sam_segmenter
    from tests.fixtures.settings import make_settings

    settings = make_settings(
        args.workdir / "data", sam_checkpoint=args.checkpoint, torch_threads=args.threads,
        model_dir=args.model_dir or args.workdir / "models",
    )  # fmt: skip
    segmenter = load_sam_segmenter(settings)
    params = {"points_per_side": args.points_per_side}
    warm = segmenter.prepare([np.zeros((32, 32, 3), np.uint8)])[0]
    segmenter.auto(
        warm, np.zeros((32, 32, 3), np.uint8), {"points_per_side": 1}
    )  # builds (exports) the batch decoder

    def product(image: np.ndarray) -> list[np.ndarray]:
        state = segmenter.prepare([image])[0]
        return [m.mask for m in segmenter.auto(state, image, params)]

    reference = SamAutomaticMaskGenerator(segmenter.sam, points_per_side=args.points_per_side)
    paths = {args.label: product}
    if args.reference:
        paths["reference"] = lambda image: [r["segmentation"] for r in reference.generate(image)]
    columns = ("s", "cpu s", "recall")
    rows = [["image", "size", "objects", *(f"{p} {c}" for p in paths for c in columns)]]
    for name in args.names:
        item = sample(args.data, name)
        cells = [name, "x".join(map(str, item.image.shape[:2])), str(len(item.objects))]
        for masks_for in paths.values():
            seconds, cpu, recall = timed_recall(item, masks_for)
            cells += [f"{seconds:.1f}", f"{cpu:.1f}", f"{recall:.3f}"]
        rows.append(cells)
        print(" ".join(cells), f"load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"\n{args.points_per_side}x{args.points_per_side} grid, {args.threads} threads")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
