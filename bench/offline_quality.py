"""Mask quality of the offline `classic` segmenter against the trivial box baselines.

For every ground-truth instance, three prompt types (the box; the box plus one positive
click; three clicks by the standard simulated annotator, no box), the mIoU of `classic`
beside the box-as-mask and ellipse-in-box baselines computed in the same run.

    .venv/bin/python bench/offline_quality.py --data ../shared/datasets/nuclei

Photographs: scikit-image sample photos with exact ground truth (tests/classic/photo_set.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.inference.base import Prompt  # noqa: E402
from app.inference.classic import ClassicSegmenter  # noqa: E402

PROMPT_TYPES = ("box", "box+1click", "3clicks")


class Timed:
    """A segmenter wrapper recording wall-clock seconds of prepare and predict calls."""

    def __init__(self, segmenter) -> None:
        self.segmenter = segmenter
        self.seconds: dict[str, list[float]] = {"prepare": [], "predict": []}

    def _timed(self, kind: str, fn, *args):
        start = time.perf_counter()
        out = fn(*args)
        self.seconds[kind].append(time.perf_counter() - start)
        return out

    def prepare(self, images):
        return self._timed("prepare", self.segmenter.prepare, images)

    def predict(self, state, prompt):
        return self._timed("predict", self.segmenter.predict, state, prompt)


def gt_box(mask: np.ndarray) -> np.ndarray:
    """4 float32 XYXY pixel edges of a mask's tight bounding box."""
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


def box_mask(box: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """HxW bool: pixels whose centres lie in the box."""
    x0, y0, x1, y1 = box.astype(int)
    out = np.zeros(shape, bool)
    out[y0:y1, x0:x1] = True
    return out


def ellipse_mask(box: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """HxW bool: pixels whose centres lie in the ellipse inscribed in the box."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    x0, y0, x1, y1 = box
    rx, ry = (x1 - x0) / 2, (y1 - y0) / 2
    return ((xs - (x0 + x1) / 2) / rx) ** 2 + ((ys - (y0 + y1) / 2) / ry) ** 2 <= 1.0


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(int((a | b).sum()), 1))


def next_click(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, int]:
    """Standard simulated annotator: the point of the largest error region farthest from
    its boundary; positive for a false negative, negative for a false positive."""
    best = (-1, None, 1)
    for error, label in ((gt & ~pred, 1), (pred & ~gt, 0)):
        regions, count = ndimage.label(error)
        if count == 0:
            continue
        sizes = ndimage.sum_labels(error, regions, np.arange(1, count + 1))
        if sizes.max() > best[0]:
            best = (sizes.max(), regions == (int(np.argmax(sizes)) + 1), label)
    region = best[1] if best[1] is not None else gt
    dist = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return np.array([x + 0.5, y + 0.5], np.float32), best[2]


def classic_ious(seg, state, gt: np.ndarray) -> dict[str, float]:
    """IoU of the classic segmenter's top mask for each prompt type on one instance."""
    box = gt_box(gt)
    out = {"box": iou(seg.predict(state, Prompt(box=box, multimask=False))[0].mask, gt)}
    centre, _ = next_click(np.zeros_like(gt), gt)
    one = Prompt(centre[None], np.ones(1, np.int32), box=box, multimask=False)
    out["box+1click"] = iou(seg.predict(state, one)[0].mask, gt)
    points, labels = [centre], [1]
    mask = seg.predict(state, Prompt(np.array(points), np.array(labels, np.int32)))[0]
    for _ in range(2):
        click, label = next_click(mask.mask, gt)
        points.append(click)
        labels.append(label)
        prompt = Prompt(np.array(points), np.array(labels, np.int32), None,
                        mask.low_res_logits[None], multimask=False)  # fmt: skip
        mask = seg.predict(state, prompt)[0]
    out["3clicks"] = iou(mask.mask, gt)
    return out


def evaluate(seg, samples, max_instances: int) -> dict[str, dict[str, list[float]]]:
    """samples: iterable of (HxWx3 uint8, [HxW bool]). Returns {prompt: {method: [iou]}}."""
    scores = {p: {"classic": [], "box": [], "ellipse": []} for p in PROMPT_TYPES}
    for image, masks in samples:
        state = seg.prepare([image])[0]
        for gt in masks[:max_instances]:
            box = gt_box(gt)
            baselines = {"box": iou(box_mask(box, gt.shape), gt),
                         "ellipse": iou(ellipse_mask(box, gt.shape), gt)}  # fmt: skip
            for prompt, value in classic_ious(seg, state, gt).items():
                scores[prompt]["classic"].append(value)
                for name, base in baselines.items():
                    scores[prompt][name].append(base)
    return scores


def nuclei_samples(root: Path, limit: int):
    """(HxWx3 uint8, [HxW bool per nucleus]) for each image of the nuclei set."""
    for path in sorted((root / "images").glob("*.png"))[:limit]:
        image = np.array(Image.open(path).convert("RGB"))
        instances = np.array(Image.open(root / "instances" / path.name))
        ids = [i for i in np.unique(instances) if i != 0]
        yield image, [instances == i for i in ids]


def print_table(title: str, scores) -> None:
    count = len(scores["box"]["classic"])
    print(f"\n{title} ({count} instances)")
    print(f"{'prompt':<12} {'classic':>8} {'box':>8} {'ellipse':>8} {'vs best':>8}")
    for prompt, methods in scores.items():
        means = {name: float(np.mean(v)) if v else float("nan") for name, v in methods.items()}
        margin = means["classic"] - max(means["box"], means["ellipse"])
        print(f"{prompt:<12} {means['classic']:8.3f} {means['box']:8.3f} "
              f"{means['ellipse']:8.3f} {margin:+8.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets/nuclei"))
    parser.add_argument("--images", type=int, default=50, help="nuclei images to use")
    parser.add_argument("--per-image", type=int, default=40, help="instances per image")
    parser.add_argument("--no-photos", action="store_true")
    args = parser.parse_args()
    seg = Timed(ClassicSegmenter())
    start = time.perf_counter()
    if args.data.is_dir():
        nuclei = evaluate(seg, nuclei_samples(args.data, args.images), args.per_image)
        print_table(f"nuclei: {args.data}", nuclei)
    else:
        print(f"nuclei skipped: {args.data} not found")
    if not args.no_photos:
        from tests.classic.photo_set import photo_set

        for name, samples in photo_set().items():
            print_table(f"photos: {name}", evaluate(seg, samples, 100))
    print("\nlatency (ms)   median      p95      max")
    for kind, values in seg.seconds.items():
        ms = np.array(values) * 1000
        print(f"{kind:<12} {np.median(ms):8.1f} {np.percentile(ms, 95):8.1f} {ms.max():8.1f}")
    print(f"\ntotal {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
