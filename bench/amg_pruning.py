"""Automatic-mask point pruning: how many grid points it decodes and what recall it keeps.

Every grid point of each image is decoded once with the product's code (FastAutoMasks, no
pruning) and its kept masks are recorded (cached under --workdir); the product's generator then
runs again on the recorded masks instead of the decoder, with and without its PointPruner, so
each rule is compared on exactly the same masks. Recall of the objects at IoU 0.5.

    nice -n 10 .venv/bin/python bench/amg_pruning.py --checkpoint PATH [--sets nuclei camvid]
        [--images 6] [--skip 0] [--points-per-side 32]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation.datasets import Sample, camvid_samples, nuclei_samples  # noqa: E402
from app.evaluation.metrics import greedy_matches, iou_matrix  # noqa: E402
from app.evaluation.report import table  # noqa: E402
from app.inference.auto_masks import AutoParams, FastAutoMasks  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"

Recorded = dict[tuple[float, float], list[tuple[np.ndarray, float, float]]]


class RecordingAutoMasks(FastAutoMasks):
    """Decodes like the product and records each point's kept (mask, iou, stability)."""

    recorded: Recorded

    def _batch(self, state, features, projected, coords, params, kept):  # type: ignore[no-untyped-def]
        start = len(kept.masks)
        shares = super()._batch(state, features, projected, coords, params, kept)
        for point, point_shares in zip(coords, shares, strict=True):
            stop = start + len(point_shares)
            entries = zip(
                kept.masks[start:stop],
                kept.ious[start:stop],
                kept.stabilities[start:stop],
                strict=True,
            )
            self.recorded[_key(point)] = list(entries)
            start = stop
        return shares


class ReplayAutoMasks(FastAutoMasks):
    """The product's generator (grid, pruning, NMS) on recorded masks instead of the decoder."""

    def __init__(self, generator: FastAutoMasks, recorded: Recorded) -> None:
        super().__init__(generator.runner, generator.transform, generator.threshold)
        self.recorded = recorded
        self.decoded = 0

    def _batch(self, state, features, projected, coords, params, kept):  # type: ignore[no-untyped-def]
        self.decoded += len(coords)
        shares = []
        for point in coords:
            entries = self.recorded[_key(point)]
            for mask, iou, stability in entries:
                kept.masks.append(mask)
                kept.ious.append(iou)
                kept.stabilities.append(stability)
            shares.append([float(mask.mean()) for mask, _, _ in entries])
        return shares


def _key(point: np.ndarray) -> tuple[float, float]:
    return round(float(point[0]), 2), round(float(point[1]), 2)


def record(
    generator: FastAutoMasks, segmenter: Any, sample: Sample, params: AutoParams, cache: Path
) -> Recorded:
    """Every point's kept masks of one image (from the cache file when present)."""
    if cache.is_file():
        return _load(cache)
    state = segmenter.prepare([sample.image])[0]
    recording = RecordingAutoMasks(generator.runner, generator.transform, generator.threshold)
    recording.recorded = {}
    recording(state, AutoParams(**{**params.__dict__, "prune": False}))
    cache.parent.mkdir(parents=True, exist_ok=True)
    _save(cache, recording.recorded, sample.image.shape[:2], state)
    return _load(cache)


def _save(path: Path, recorded: Recorded, shape: tuple[int, ...], state: Any) -> None:
    keys = [(k, i) for k, entries in recorded.items() for i in range(len(entries))]
    masks = [np.packbits(recorded[k][i][0]) for k, i in keys]
    np.savez_compressed(
        path,
        points=np.array([k for k, _ in keys], np.float64).reshape(-1, 2),
        all_points=np.array(list(recorded), np.float64).reshape(-1, 2),
        masks=np.array(masks).reshape(len(keys), -1),
        scores=np.array([recorded[k][i][1:] for k, i in keys], np.float64).reshape(-1, 2),
        shape=np.array(shape),
        features=state.arrays["features"],
        sizes=np.array([state.original_size, state.input_size]),
    )


def _load(path: Path) -> Recorded:
    data = np.load(path)
    height, width = data["shape"]
    recorded: Recorded = {(float(x), float(y)): [] for x, y in data["all_points"]}
    for (x, y), packed, (iou, stability) in zip(
        data["points"], data["masks"], data["scores"], strict=True
    ):
        mask = np.unpackbits(packed)[: height * width].reshape(height, width).astype(bool)
        recorded[(float(x), float(y))].append((mask, float(iou), float(stability)))
    return recorded


def replay_state(cache: Path) -> Any:
    from app.inference.base import PreparedImage

    data = np.load(cache)
    original, input_size = (tuple(int(v) for v in size) for size in data["sizes"])
    return PreparedImage("recorded", {"features": data["features"]}, original, input_size)


def samples(args: argparse.Namespace, name: str) -> list[Sample]:
    if name == "nuclei":
        found = nuclei_samples(args.data / "nuclei", images=args.skip + args.images, per_image=None)
    else:
        found = camvid_samples(
            args.data / "camvid-dev", images=args.skip + args.images, per_image=None
        )
    return list(found)[args.skip :]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sets", nargs="+", default=["nuclei", "camvid"])
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--skip", type=int, default=0, help="start after this many images")
    parser.add_argument("--points-per-side", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "amg-pruning")
    args = parser.parse_args()
    from app.inference.sam_loader import load_sam_segmenter
    from tests.fixtures.settings import make_settings

    settings = make_settings(
        args.workdir / "data", sam_checkpoint=args.checkpoint, model_dir=args.workdir / "models",
        torch_threads=args.threads,
    )  # fmt: skip
    segmenter = load_sam_segmenter(settings)
    segmenter.auto(
        segmenter.prepare([np.zeros((32, 32, 3), np.uint8)])[0], None, {"points_per_side": 1}
    )
    generator = segmenter._auto
    assert generator is not None
    params = AutoParams(points_per_side=args.points_per_side)
    for name in args.sets:
        rows = [
            ["image", "objects", "points", "recall (all)", "decoded (pruned)", "recall (pruned)"]
        ]
        totals = np.zeros(5)
        for sample in samples(args, name):
            cache = args.workdir / f"{name}-{sample.name}-{args.points_per_side}.npz"
            recorded = record(generator, segmenter, sample, params, cache)
            row = [len(sample.objects), len(recorded)]
            for prune in (False, True):
                replay = ReplayAutoMasks(generator, recorded)
                masks = [
                    m.mask
                    for m in replay(
                        replay_state(cache), AutoParams(**{**params.__dict__, "prune": prune})
                    )
                ]
                found = len(greedy_matches(iou_matrix(sample.objects, masks), 0.5)) if masks else 0
                row += [found] if not prune else [replay.decoded, found]
            totals += row
            rows.append([sample.name, *(str(v) for v in row)])
        n, points, found_all, decoded, found_pruned = totals
        rows.append(
            [
                "all",
                str(int(n)),
                str(int(points)),
                f"{found_all / n:.3f}",
                f"{decoded / points:.0%}",
                f"{found_pruned / n:.3f}",
            ]
        )
        print(
            f"\n{name}: {args.points_per_side}x{args.points_per_side} grid, images {args.skip}..{args.skip + args.images - 1}"
        )
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
