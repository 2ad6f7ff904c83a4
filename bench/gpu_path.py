"""SAM's CUDA path against its CPU path on the same images, in one run: encoder seconds an image,
decoder ms a click (median; a point, a refining click), automatic-mask seconds a 512 px image, how
well each device's masks agree with the last device's, the CPU by default (IoU of the best mask
of a click; share of automatic masks found on both at IoU >= 0.9, the worse direction).

    python3 bench/gpu_path.py --checkpoint mobile_sam.pt --images DIR [--devices cuda cpu]

A device is anything Settings.device takes ('cuda', 'cpu', 'cuda:1'), or 'cpu-bf16': the CUDA
configuration (eager PyTorch decoders, bf16 encoder autocast) on the CPU, for the numbers that
tests/inference/test_cuda.py's bounds stand on when no GPU is at hand. Images are PNG/JPEG files
scaled to --side px on their longer side; clicks are a 3x3 grid of points inside each image.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation.metrics import iou_matrix, mask_iou  # noqa: E402
from app.evaluation.report import table  # noqa: E402
from app.inference.base import Prompt  # noqa: E402
from app.inference.sam import SamSegmenter  # noqa: E402


@dataclass
class Run:
    """One device's timings and masks over every image (clicks in image order)."""

    encode_s: list[float] = field(default_factory=list)
    point_ms: list[float] = field(default_factory=list)
    refine_ms: list[float] = field(default_factory=list)
    auto_s: list[float] = field(default_factory=list)
    points: list[np.ndarray] = field(default_factory=list)
    refined: list[np.ndarray] = field(default_factory=list)
    auto: list[list[np.ndarray]] = field(default_factory=list)


def read_images(folder: Path, side: int, limit: int) -> list[np.ndarray]:
    """Up to `limit` images of folder (sorted by name) as HxWx3 uint8 RGB, longer side `side`."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    images = []
    for path in paths[:limit]:
        image = Image.open(path).convert("RGB")
        scale = side / max(image.size)
        size = (round(image.width * scale), round(image.height * scale))
        images.append(np.asarray(image.resize(size, Image.Resampling.BILINEAR)))
    return images


def segmenter_for(device: str, checkpoint: Path, workdir: Path) -> SamSegmenter:
    import torch

    from app.inference.decoder import TorchDecoder
    from app.inference.sam_loader import load_sam_segmenter
    from tests.fixtures.settings import make_settings

    emulated = device == "cpu-bf16"
    settings = make_settings(
        workdir / "data",
        sam_checkpoint=checkpoint,
        model_dir=workdir / "models",
        device="cpu" if emulated else device,
    )
    segmenter = load_sam_segmenter(settings)
    if emulated:  # what sam_loader does on CUDA, bar SDPA (a ViT-only, exact rewrite)
        sam = segmenter.sam
        return SamSegmenter(
            sam, segmenter.model_id, TorchDecoder(sam), autocast_dtype=torch.bfloat16
        )
    return segmenter


def clicks(image: np.ndarray) -> list[Prompt]:
    height, width = image.shape[:2]
    return [
        Prompt(points=np.array([[x, y]], np.float32), point_labels=np.ones(1, np.int32))
        for y in np.linspace(0, height, 5)[1:-1]
        for x in np.linspace(0, width, 5)[1:-1]
    ]


def measure(segmenter: SamSegmenter, images: list[np.ndarray]) -> Run:
    """Timings and masks of one device; one untimed image first (kernels, ONNX export)."""
    warm = segmenter.prepare(images[:1])[0]
    segmenter.predict(warm, clicks(images[0])[0])
    segmenter.auto(warm, images[0], {"points_per_side": 2})
    run = Run()
    for image in images:
        started = time.perf_counter()
        state = segmenter.prepare([image])[0]
        run.encode_s.append(time.perf_counter() - started)
        for prompt in clicks(image):
            started = time.perf_counter()
            first = segmenter.predict(state, prompt)[0]
            run.point_ms.append((time.perf_counter() - started) * 1000)
            refine = replace(
                prompt,
                mask_input=first.low_res_logits[None],
                multimask=False,
                previous_score=first.score,
            )
            started = time.perf_counter()
            refined = segmenter.predict(state, refine)[0]
            run.refine_ms.append((time.perf_counter() - started) * 1000)
            run.points.append(first.mask)
            run.refined.append(refined.mask)
        started = time.perf_counter()
        run.auto.append([m.mask for m in segmenter.auto(state, image, {})])
        run.auto_s.append(time.perf_counter() - started)
    return run


def matched(masks: list[np.ndarray], others: list[np.ndarray]) -> float:
    """Share of masks with a mask among others at IoU >= 0.9 (1 when both are empty)."""
    if not masks or not others:
        return float(len(masks) == len(others))
    return float((iou_matrix(masks, others) >= 0.9).any(axis=1).mean())


def agreement(run: Run, reference: Run) -> list[str]:
    """Mean IoU of the clicks' masks, and the automatic masks' worse matched share."""
    points = [mask_iou(a, b) for a, b in zip(run.points, reference.points, strict=True)]
    refined = [mask_iou(a, b) for a, b in zip(run.refined, reference.refined, strict=True)]
    shares = [
        min(matched(a, b), matched(b, a)) for a, b in zip(run.auto, reference.auto, strict=True)
    ]
    return [f"{np.mean(points):.4f}", f"{min(points):.3f}", f"{np.mean(refined):.4f}",
            f"{np.mean(shares):.3f}"]  # fmt: skip


def row(name: str, run: Run, reference: Run) -> list[str]:
    masks = np.mean([len(a) for a in run.auto])
    return [
        name,
        f"{np.mean(run.encode_s):.3f}",
        f"{np.median(run.point_ms):.1f}",
        f"{np.median(run.refine_ms):.1f}",
        f"{np.mean(run.auto_s):.2f}",
        f"{masks:.1f}",
        *agreement(run, reference),
    ]


def ratio_row(name: str, slow: Run, fast: Run) -> list[str]:
    pairs = [
        (np.mean(slow.encode_s), np.mean(fast.encode_s)),
        (np.median(slow.point_ms), np.median(fast.point_ms)),
        (np.median(slow.refine_ms), np.median(fast.refine_ms)),
        (np.mean(slow.auto_s), np.mean(fast.auto_s)),
    ]
    return [name, *(f"{a / b:.1f}x" for a, b in pairs), *["-"] * 5]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--devices", nargs="+", default=["cuda", "cpu"])
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--limit", type=int, default=6)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "gpu-path")
    args = parser.parse_args()
    images = read_images(args.images, args.side, args.limit)
    runs = {}
    for device in args.devices:
        runs[device] = measure(segmenter_for(device, args.checkpoint, args.workdir), images)
        print(f"{device} done", flush=True)
    columns = ["encoder s", "point ms", "refine ms", "auto s", "auto masks"]
    agree = ["point IoU", "point min", "refine IoU", "auto matched"]
    reference = runs[args.devices[-1]]
    rows = [["device", *columns, *(f"{c} vs {args.devices[-1]}" for c in agree)]]
    rows += [row(device, run, reference) for device, run in runs.items()]
    if len(runs) > 1:
        first, last = runs[args.devices[0]], reference
        rows.append(ratio_row(f"{args.devices[-1]} / {args.devices[0]}", last, first))
    sizes = sorted({"x".join(map(str, i.shape[:2])) for i in images})
    print(f"\n{len(images)} images ({', '.join(sizes)}), {len(clicks(images[0]))} clicks each")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
