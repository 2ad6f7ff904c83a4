"""SAM quality and speed with real weights: the product's /predict and automatic masks against
segment-anything's SamPredictor / SamAutomaticMaskGenerator on the same checkpoint, and the
classic segmenter, on the shared nuclei and camvid-dev objects.

Standard simulated clicker (app/evaluation/noc.py): first click at the object's deepest point,
each next one at the deepest point of the largest error, previous low-res logits fed back,
at most 20 clicks. The product and classic rows go through POST /predict of a real app
(TestClient); the reference row is SamPredictor as its users use it (top-scored mask, its
logits fed back). Automatic masks: the `segment` job's code (worker.auto_blocking) against
SamAutomaticMaskGenerator, recall of the objects at IoU 0.5 and seconds per image, same run.

    nice -n 10 .venv/bin/python bench/sam_quality.py --checkpoint PATH [--quick] [--json out]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation.datasets import Sample, camvid_samples, nuclei_samples  # noqa: E402
from app.evaluation.metrics import greedy_matches, iou_matrix  # noqa: E402
from app.evaluation.noc import ClickTrace, box_iou, click_trace, summarize  # noqa: E402
from app.evaluation.predictors import HttpPredictor, Prediction, Predictor  # noqa: E402
from app.evaluation.report import table  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
COLUMNS = [
    "row", "objects", "box", "1-click top", "1-click shown", "1-click best3", "NoC@85", "NoC@90", "never@85",
    "never@90", "worse", "worse>.05", "enc s/img", "dec ms/click",
]  # fmt: skip


class ReferencePredictor:
    """segment-anything's SamPredictor on one image: top-scored mask, its logits fed back."""

    def __init__(self, sam: Any, image: np.ndarray) -> None:
        from segment_anything import SamPredictor

        self.predictor = SamPredictor(sam)
        started = time.perf_counter()
        self.predictor.set_image(image)
        self.encode_ms = (time.perf_counter() - started) * 1000

    def __call__(self, points, labels, *, box=None, mask_input=None, multimask=False) -> Prediction:
        started = time.perf_counter()
        masks, scores, logits = self.predictor.predict(
            point_coords=points if len(points) else None,
            point_labels=labels if len(points) else None,
            box=box,
            mask_input=mask_input,
            multimask_output=multimask,
        )
        decode_ms = (time.perf_counter() - started) * 1000
        order = np.argsort(-scores)
        encode_ms, self.encode_ms = self.encode_ms, 0.0
        return Prediction(
            masks[order[0]], float(scores[order[0]]), logits[order[0]][None],
            tuple(masks[order]), tuple(scores[order]), encode_ms=encode_ms, decode_ms=decode_ms,
        )  # fmt: skip


def interactive(samples: list[Sample], predictor_for: Any) -> dict[str, float]:
    """The quality columns of one row over every object of `samples`. A predictor that can
    `accept` saves each object's last mask, as an annotator would before the next object."""
    traces, boxes = [], []
    for index, sample in enumerate(samples):
        predictor: Predictor = predictor_for(index, sample)
        for gt in sample.objects:
            traces.append(click_trace(predictor, gt))
            if hasattr(predictor, "accept"):
                predictor.accept()
            boxes.append(box_iou(predictor, gt))
    summary = summarize([t.ious for t in traces], boxes)
    n = summary.objects
    decode = [ms for t in traces for ms in t.decode_ms[1:]]  # the first click may encode
    return {
        "objects": n,
        "box": summary.box_miou or float("nan"),
        "1-click top": float(np.mean([_top_scored(t) for t in traces])),
        "1-click shown": float(np.mean([t.first_candidates[0] for t in traces])),
        "1-click best3": float(np.mean([max(t.first_candidates) for t in traces])),
        "NoC@85": summary.noc[0.85],
        "NoC@90": summary.noc[0.9],
        "never@85": summary.failures[0.85] / n,
        "never@90": summary.failures[0.9] / n,
        "worse": summary.worse_share,
        "worse>.05": summary.much_worse_share,
        "enc s/img": sum(t.encode_ms for t in traces) / 1000 / len(samples),
        "dec ms/click": float(np.median(decode)) if decode else float("nan"),
    }


def _top_scored(trace: ClickTrace) -> float:
    return trace.first_candidates[int(np.argmax(trace.first_scores))]


@contextmanager
def product_app(workdir: Path, name: str, **settings: Any) -> Iterator[Any]:
    """A real app (TestClient, lifespan run) with its own data dir under workdir; the
    embedding cache persists there between runs, so rerunning skips the encoder."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.fixtures.settings import make_settings

    config = make_settings(
        workdir / name, model_dir=workdir / "models", prefetch_ahead=0, **settings
    )
    with TestClient(create_app(config)) as client:
        yield client


def upload_all(client: Any, samples: list[Sample], project: str) -> list[int]:
    """Image ids of `samples` imported into a new project (the original PNG bytes)."""
    pid = client.post("/api/projects", json={"name": f"{project} {time.time()}"}).json()["id"]
    ids = []
    for sample in samples:
        files = [("files", (sample.path.name, sample.path.read_bytes(), "image/png"))]
        report = client.post(f"/api/projects/{pid}/images", files=files).json()
        ids.append(report["imported"][0]["id"])
    return ids


def http_row(client: Any, samples: list[Sample], project: str) -> dict[str, float]:
    ids = upload_all(client, samples, project)
    return interactive(samples, lambda i, _: HttpPredictor(client, ids[i]))


def recall(samples: list[Sample], masks_for: Any) -> tuple[float, float]:
    """(recall of the objects at IoU 0.5, mean seconds per image) of an automatic generator."""
    found = total = 0
    spent = []
    for sample in samples:
        started = time.perf_counter()
        masks = masks_for(sample)
        spent.append(time.perf_counter() - started)
        found += len(greedy_matches(iou_matrix(sample.objects, masks), 0.5))
        total += len(sample.objects)
    return found / max(total, 1), float(np.mean(spent))


def product_auto(client: Any, samples: list[Sample], project: str, points_per_side: int) -> Any:
    """The segment job's automatic masks (worker.auto_blocking, SegmentParams' defaults)."""
    from app.models import Image
    from app.pipeline.params import SegmentParams
    from app.pipeline.worker import image_loader

    ctx = client.app.state.context
    ids = dict(zip((s.name for s in samples), upload_all(client, samples, project), strict=True))

    def masks_for(sample: Sample) -> list[np.ndarray]:
        with ctx.db.read() as session:
            image = session.get(Image, ids[sample.name])
        loader = image_loader(ctx, image)
        params = SegmentParams(points_per_side=points_per_side).generator_args()
        return [m.mask for m in ctx.inference.auto_blocking(image.sha256, loader, params)]

    return masks_for


def reference_auto(sam: Any, points_per_side: int) -> Any:
    from segment_anything import SamAutomaticMaskGenerator

    generator = SamAutomaticMaskGenerator(sam, points_per_side=points_per_side)
    return lambda sample: [r["segmentation"] for r in generator.generate(sample.image)]


def load_reference(checkpoint: Path) -> Any:
    """The checkpoint as a plain segment-anything `Sam` (architecture read from its shapes)."""
    from app.inference.architecture import infer_architecture, load_sam, read_state_dict

    state = read_state_dict(checkpoint)
    return load_sam(state, infer_architecture(state))


def datasets(args: argparse.Namespace) -> dict[str, list[Sample]]:
    found = {}
    if (args.data / "nuclei" / "images").is_dir():
        found["nuclei"] = list(nuclei_samples(
            args.data / "nuclei", images=args.images, per_image=args.per_image, min_area=16
        ))  # fmt: skip
    if (args.data / "camvid-dev" / "images").is_dir():
        found["camvid"] = list(camvid_samples(
            args.data / "camvid-dev", images=args.images, per_image=args.per_image, min_area=200
        ))  # fmt: skip
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    torch.set_num_threads(args.threads)
    sam = load_reference(args.checkpoint)
    results: dict[str, Any] = {}
    product = {"sam_checkpoint": args.checkpoint, "segmenter": "sam", "torch_threads": args.threads}
    for name, samples in datasets(args).items():
        rows: dict[str, dict[str, float]] = {}
        with product_app(args.workdir, "product", **product) as client:
            rows["product"] = http_row(client, samples, name)
            auto_samples = amg_samples(args, name)
            rows["product"]["recall@.5"], rows["product"]["amg s/img"] = recall(
                auto_samples,
                product_auto(client, auto_samples, f"{name} auto", args.points_per_side),
            )
        if not args.skip_reference:
            rows["reference"] = interactive(samples, lambda _, s: ReferencePredictor(sam, s.image))
            rows["reference"]["recall@.5"], rows["reference"]["amg s/img"] = recall(
                auto_samples, reference_auto(sam, args.points_per_side)
            )
        if not args.skip_classic:
            with product_app(args.workdir, "classic", segmenter="classic") as client:
                rows["classic"] = http_row(client, samples, name)
        results[name] = rows
        report(name, samples, rows)
    return results


def amg_samples(args: argparse.Namespace, name: str) -> list[Sample]:
    """The first --amg-images images of the dataset with every object (for recall)."""
    if name == "nuclei":
        found = nuclei_samples(args.data / "nuclei", images=args.amg_images, per_image=None)
    else:
        found = camvid_samples(args.data / "camvid-dev", images=args.amg_images, per_image=None)
    return list(found)


def report(name: str, samples: list[Sample], rows: dict[str, dict[str, float]]) -> None:
    columns = [*COLUMNS, "recall@.5", "amg s/img"]
    lines = [columns]
    for row, values in rows.items():
        cells = [_cell(values.get(c)) for c in columns[1:]]
        lines.append([row, *cells])
    print(f"\n{name}: {sum(len(s.objects) for s in samples)} objects on {len(samples)} images")
    print(table(lines))
    if "recall@.5" in rows.get("reference", {}):
        ratio = rows["reference"]["amg s/img"] / rows["product"]["amg s/img"]
        print(f"automatic masks: product {ratio:.1f}x faster than SamAutomaticMaskGenerator")


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() and value > 1 else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="the SAM checkpoint")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--images", type=int, default=25, help="images per dataset")
    parser.add_argument("--per-image", type=int, default=4, help="objects per image")
    parser.add_argument("--amg-images", type=int, default=2, help="images for automatic masks")
    parser.add_argument("--points-per-side", type=int, default=32, help="automatic masks grid")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-classic", action="store_true")
    parser.add_argument(
        "--skip-reference",
        action="store_true",
        help="product rows only (the reference's depend on the checkpoint alone)",
    )
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "sam-quality")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not (args.data / "nuclei").is_dir() and not (args.data / "camvid-dev").is_dir():
        print(f"no datasets under {args.data}: skipped")
        return 0
    results = run(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
