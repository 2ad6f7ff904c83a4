"""Dataset segmentation speed: automatic masks per image, and segments embedded per second.

    .venv/bin/python bench/segment.py [--images 2] [--points-per-side 16] [--device cuda]

(a) plain SamAutomaticMaskGenerator.generate (encodes the image itself, as its users call it)
vs (b) ours: the image encoded once into the cache, then SamSegmenter.auto on the cached
state (what the segment job does); plus the offline segmenter, and each embedder's
segments per second on the masks produced. vit_b with random weights: speed does not
depend on weight values (random masks are plentiful with thresholds at 0).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from segment_anything import SamAutomaticMaskGenerator
from skimage import data

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.embeddings.registry import build_embedder  # noqa: E402
from app.inference.classic import ClassicSegmenter  # noqa: E402
from app.inference.sam_loader import load_sam_segmenter  # noqa: E402
from bench.interactive import random_vit_b  # noqa: E402
from tests.fixtures.settings import make_settings  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--points-per-side", type=int, default=16)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "lassolabel-bench"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = [getattr(data, name)() for name in PHOTOS[: args.images]]
    workdir = Path(args.workdir)
    checkpoint = random_vit_b(workdir)
    settings = make_settings(
        workdir / "data",
        sam_checkpoint=checkpoint,
        model_dir=workdir / "models",
        device=args.device,
    )
    ours = load_sam_segmenter(settings)
    params = {
        "points_per_side": args.points_per_side,
        "pred_iou_thresh": 0.0,
        "stability_score_thresh": 0.0,
    }

    plain = SamAutomaticMaskGenerator(ours.sam, **params)
    rows, masks_of = [], []
    plain_s = [timed(lambda im=im: plain.generate(im))[1] for im in images]
    states, encode_s = zip(
        *[timed(lambda im=im: ours.prepare([im])[0]) for im in images], strict=True
    )
    auto_results = [
        timed(lambda s=s, im=im: ours.auto(s, im, params))
        for s, im in zip(states, images, strict=True)
    ]
    masks_of = [[m.mask for m in result] for result, _ in auto_results]
    auto_s = [t for _, t in auto_results]
    classic = ClassicSegmenter()
    classic_prep = [timed(lambda im=im: classic.prepare([im])[0]) for im in images]
    classic_auto = [
        timed(lambda s=s, im=im: classic.auto(s, im, {}))[1]
        for (s, _), im in zip(classic_prep, images, strict=True)
    ]

    rows.append(("(a) plain SamAutomaticMaskGenerator", statistics.median(plain_s)))
    rows.append(("(b) ours: encode once (cached)", statistics.median(encode_s)))
    rows.append(("(b) ours: auto on cached embedding", statistics.median(auto_s)))
    rows.append(("offline segmenter: prepare", statistics.median(t for _, t in classic_prep)))
    rows.append(("offline segmenter: auto", statistics.median(classic_auto)))
    print(
        f"automatic masks, vit_b random weights, {args.device}, {args.threads} threads, "
        f"{args.images} photos, points_per_side={args.points_per_side}"
    )
    print(f"{'step':<40}{'s/image':>10}{'images/s':>10}")
    for name, seconds in rows:
        print(f"{name:<40}{seconds:>10.2f}{1 / seconds:>10.3f}")
    fresh = statistics.median(plain_s) / (statistics.median(encode_s) + statistics.median(auto_s))
    rerun = statistics.median(plain_s) / statistics.median(auto_s)
    print(
        f"ratio (a)/(b): {fresh:.2f}x for a new image, {rerun:.2f}x for a re-run (embedding cached)"
    )

    print(f"\n{'embedder':<34}{'segments':>10}{'segments/s':>12}")
    for name in ("timm:tf_efficientnet_lite0", "sam-pool"):
        embedder = build_embedder(name)
        count, seconds = 0, 0.0
        for image, state, masks in zip(images, states, masks_of, strict=True):
            if not masks:
                continue
            if name == "sam-pool":
                _, t = timed(lambda s=state, m=masks, e=embedder: e.embed_prepared(s, m))
            else:
                _, t = timed(lambda im=image, m=masks, e=embedder: e.embed(im, m))
            count, seconds = count + len(masks), seconds + t
        print(f"{name:<34}{count:>10}{count / max(seconds, 1e-9):>12.1f}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
