"""Cluster-and-label effort on real photographs: human actions to label 80/90/95% of the
segments correctly, through the product's own HTTP API, against one action per segment.

For each automatic-mask setting a real `lassolabel serve` runs on its own data dir under
--work (kept: a rerun reuses the segmentation, vectors and maps; SAM's image embeddings are
shared by the settings, under --work/image-cache). The frames are uploaded,
their label maps imported as ground truth, the segment job run; then for each embedder the
embed and projection jobs, and for each policy a simulated person (app/evaluation/
annotator.py: knows only what gallery pages showed) labels the project from scratch.
A segment's true class is the majority of its non-void pixels; "ambiguous" ones (majority
under half the segment) are left out of accuracy. mIoU: pixel IoU of the labelled segments
painted into class maps (larger first, as the export does) against the label maps.

    nice -n 10 timeout 5400 .venv/bin/python bench/effort.py \\
        --data ../shared/datasets/camvid-dev --work /tmp/effort --settings sam-8 sam-16 \\
        --checkpoint ~/.cache/lassolabel/models/mobile_sam.pt
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation.annotator import Annotator, Policy  # noqa: E402
from app.evaluation.ledger import CHECKPOINTS, Ledger  # noqa: E402
from app.evaluation.report import table  # noqa: E402
from app.evaluation.truth import paint, pixel_tally, segment_truth  # noqa: E402
from bench.effort_api import (  # noqa: E402
    Dataset,
    HttpProduct,
    create_project,
    find_project,
    images_by_name,
    segment_masks,
    stop_segmenting,
    wait_job,
)
from tests.server_process import ServerProcess  # noqa: E402

# name -> (segmenter, segment job params: SAM's argument names; unset ones keep the
# backend's defaults). Granularity: a sparser point grid finds fewer, larger (whole) masks.
MASK_SETTINGS = {
    "classic": ("classic", {}),
    "sam-8": ("sam", {"points_per_side": 8}),
    "sam-16": ("sam", {"points_per_side": 16}),
}
EMBEDDERS = ("timm:tf_efficientnet_lite0", "sam-pool", "sam-pool+timm:tf_efficientnet_lite0")
POLICIES = {
    p.name: p
    for p in (
        Policy("lasso", review=False),
        Policy("lasso+review"),
        Policy("propagate+review", propagate_every=10, accept_at=0.9),
        # Small, purer lassos; propagation (confirmed seeds, parts) after every second one.
        Policy("small+propagate", lasso_size=20, propagate_every=2, accept_at=0.9),
    )
}
# The product's defaults (the segment job's 8x8 grid, embedder "auto" = sam-pool with SAM), as
# this table picked them on camvid-dev; the last line reports them.
DEFAULT = ("sam-8", "sam-pool", "lasso")


@dataclass
class Frames:
    """Every segment of the project, row-aligned: ids (N,), truth (N,), ambiguous (N,)."""

    data: Dataset
    files: list[str]
    rows: list[np.ndarray]  # per frame: row indices of its segments
    masks: list[np.ndarray]  # per frame: (K, H, W) bool
    ids: np.ndarray
    truth: np.ndarray
    ambiguous: np.ndarray

    @classmethod
    def load(cls, client: httpx.Client, project_id: int, data: Dataset) -> Frames:
        per_frame = segment_masks(client, project_id, data)
        ids = np.concatenate([ids for _, ids, _ in per_frame])
        order = np.argsort(ids)
        ids = ids[order]
        truth, ambiguous, rows, masks = [], [], [], []
        for file, frame_ids, frame_masks in per_frame:
            label_map = data.label_map(file)
            found = [segment_truth(m, label_map, data.void) for m in frame_masks]
            truth += [c for c, _ in found]
            ambiguous += [a for _, a in found]
            rows.append(np.searchsorted(ids, frame_ids))
            masks.append(frame_masks)
        truth_a, ambiguous_a = np.array(truth)[order], np.array(ambiguous, bool)[order]
        files = [file for file, _, _ in per_frame]
        return cls(data, files, rows, masks, ids, truth_a, ambiguous_a)

    def miou(self, labels: np.ndarray) -> tuple[float | None, dict[str, float | None]]:
        """Pixel mIoU (and per class) of the labelled segments against the label maps."""
        painted = [
            paint(
                ((m, int(labels[r])) for m, r in zip(masks, rows, strict=True) if labels[r] >= 0),
                masks.shape[1:] if len(masks) else self.data.label_map(file).shape,
                self.data.void,
            )
            for file, rows, masks in zip(self.files, self.rows, self.masks, strict=True)
        ]
        maps = [self.data.label_map(file) for file in self.files]
        tally = pixel_tally(painted, maps, self.data.names, self.data.void)
        return tally.miou(), tally.ious()


def simulate(client, project_id, frames: Frames, policy: Policy) -> Ledger:
    product = HttpProduct(client, project_id, frames.ids)
    product.clear()
    scored = np.where(frames.ambiguous, -1, frames.truth)
    ledger = Ledger.start(scored)
    truth = frames.truth
    return Annotator(product, lambda row: int(truth[row]), ledger, budget=len(truth)).run(policy)


def fmt(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def result_row(setting, embedder, policy, frames: Frames, ledger: Ledger) -> list[str]:
    n = len(frames.ids)
    a90 = ledger.actions_to(0.9)
    at90 = ledger.labels_at("t0.9")
    miou90 = frames.miou(at90)[0] if at90 is not None else None
    curve = [frames.miou(ledger.labels_at(f"n{k}"))[0] for k in CHECKPOINTS]  # type: ignore[arg-type]
    spent = " ".join(f"{k}:{v}" for k, v in sorted(ledger.kinds.items()))
    return [
        setting, str(len(frames.files)), embedder, policy.name, str(n), str(int(frames.ambiguous.sum())),
        *(fmt(ledger.actions_to(t)) for t in (0.8, 0.9, 0.95)),
        fmt(n / a90 if a90 else None, 1), fmt(miou90), *(fmt(m) for m in curve),
        f"{ledger.now_correct() / ledger.scored:.3f}", spent,
    ]  # fmt: skip


HEADER = [
    "masks", "frames", "embedder", "policy", "segments", "ambiguous", "to80", "to90", "to95", "ratio90",
    "mIoU@90", *(f"mIoU@{k}" for k in CHECKPOINTS), "final acc", "actions",
]  # fmt: skip


def run_setting(args, name: str, rows: list, finals: dict) -> None:
    segmenter, params = MASK_SETTINGS[name]
    data = Dataset.open(args.data, args.frames)
    data_dir = args.work / name / "data"
    share_image_cache(args.work, data_dir)
    env = {"LASSOLABEL_SEGMENTER": segmenter, "LASSOLABEL_SEED_DEMO": "false"}
    if args.checkpoint:
        env["LASSOLABEL_SAM_CHECKPOINT"] = str(args.checkpoint)
    with (
        ServerProcess(data_dir, env=env) as server,
        httpx.Client(base_url=server.url, timeout=600) as client,
    ):
        project_id = find_project(client) or create_project(client, data, params)
        if args.use_partial:
            stop_segmenting(client, project_id)
        data = data.only(set(images_by_name(client, project_id)))  # a cached run's frames
        frames = Frames.load(client, project_id, data)
        print(f"# {name}: {len(frames.ids)} segments on {len(data.files)} frames", flush=True)
        for embedder in args.embedders:
            try:
                wait_job(client, project_id, "embed", {"embedder": embedder})
                wait_job(client, project_id, "projection", {})
            except RuntimeError as exc:
                print(f"# {name} {embedder}: {exc}", flush=True)
                continue
            for policy in (POLICIES[p] for p in args.policies):
                ledger = simulate(client, project_id, frames, policy)
                rows.append(result_row(name, embedder, policy, frames, ledger))
                finals[(name, embedder, policy.name)] = (frames, ledger)
                print("  ".join(rows[-1]), flush=True)


def share_image_cache(work: Path, data_dir: Path) -> None:
    """Every setting's server reads one SAM image-embedding cache (keyed by model and image
    content): the frames are encoded once, not once per mask setting."""
    shared = work / "image-cache"
    shared.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "cache").exists():
        (data_dir / "cache").symlink_to(shared.resolve(), target_is_directory=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="camvid-like folder")
    parser.add_argument("--work", type=Path, default=Path("/tmp/lassolabel-effort"))
    parser.add_argument("--frames", type=int, default=None, help="only the first N frames")
    parser.add_argument(
        "--use-partial", action="store_true",
        help="a cached project still segmenting: cancel that and score the frames it finished",
    )  # fmt: skip
    parser.add_argument("--checkpoint", type=Path, help="SAM checkpoint (e.g. mobile_sam.pt)")
    parser.add_argument(
        "--settings", nargs="+", default=list(MASK_SETTINGS), choices=list(MASK_SETTINGS)
    )
    parser.add_argument("--embedders", nargs="+", default=list(EMBEDDERS))
    parser.add_argument("--policies", nargs="+", default=list(POLICIES), choices=list(POLICIES))
    args = parser.parse_args()
    rows: list[list[str]] = [HEADER]
    finals: dict = {}
    for name in args.settings:
        run_setting(args, name, rows, finals)
    print(table(rows))
    default = finals.get(DEFAULT) or next(iter(finals.values()))
    print_defaults(*default)


def print_defaults(frames: Frames, ledger: Ledger) -> None:
    a90 = ledger.actions_to(0.9)
    labels = ledger.labels_at("t0.9")
    miou, per_class = frames.miou(labels if labels is not None else ledger.labels)
    print(
        table([["class", "IoU"], *([k, fmt(v)] for k, v in per_class.items()), ["mean", fmt(miou)]])
    )
    n = len(frames.ids)
    print(
        f"effort segments={n} ambiguous={int(frames.ambiguous.sum())} actions_to_90={fmt(a90)} "
        f"one_by_one={n} ratio={fmt(n / a90 if a90 else None, 1)} miou={fmt(miou)}"
    )


if __name__ == "__main__":
    main()
