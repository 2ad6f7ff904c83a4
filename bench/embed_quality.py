"""Benchmark: do embedders put same-class pictures together, and how fast are they?

On imagenette-mini (150 photos, 10 classes): leave-one-out 5-NN accuracy (cosine), cluster
purity (k-means, k = number of classes) and segments per second, for

  whole image        the photo squashed to 224 px (the reference the README quotes, ~0.94)
  masked crop        our segment path on a stand-in "segment": the photo has no masks, so the
                     mask is a centred ellipse spanning 70% of width and height (objects in
                     these photos are mostly central); background outside it suppressed
  masked crop keep   the same with background_keep (outside pixels blended, not erased)

sam-pool is listed when --sam-checkpoint is given (it needs a real SAM model).

    .venv/bin/python bench/embed_quality.py --data ../shared/datasets/imagenette-mini
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from sklearn.cluster import KMeans

from app.embeddings.crops import resized_image
from app.embeddings.timm_embedder import TimmEmbedder


def load_dataset(root: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """RGB uint8 images and their (N,) string labels, in labels.csv order."""
    with open(root / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    images = [_load_rgb(_find(root, row["file"])) for row in rows]
    return images, np.array([row["label"] for row in rows])


def _find(root: Path, name: str) -> Path:
    direct = root / name
    return direct if direct.exists() else next(root.rglob(Path(name).name))


def _load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def centre_ellipse(shape: tuple[int, ...], extent: float = 0.7) -> np.ndarray:
    """HxW bool ellipse centred in the image, axes `extent` of height and width."""
    h, w = shape[:2]
    y, x = np.ogrid[:h, :w]
    return ((x - w / 2) / (extent * w / 2)) ** 2 + ((y - h / 2) / (extent * h / 2)) ** 2 <= 1


def knn_accuracy(vectors: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-NN accuracy with cosine similarity (rows are unit vectors)."""
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    neighbours = np.argsort(-similarity, axis=1)[:, :k]
    hits = 0
    for i, row in enumerate(neighbours):
        names, counts = np.unique(labels[row], return_counts=True)
        winners = set(names[counts == counts.max()])
        # ties go to the closest neighbour among the tied classes
        hits += next(labels[j] for j in row if labels[j] in winners) == labels[i]
    return hits / len(labels)


def cluster_purity(vectors: np.ndarray, labels: np.ndarray) -> float:
    """k-means with one cluster per class; fraction of points in their cluster's majority."""
    n_classes = len(np.unique(labels))
    clusters = KMeans(n_classes, n_init=10, random_state=0).fit_predict(vectors)
    majority = sum(
        np.unique(labels[clusters == c], return_counts=True)[1].max() for c in np.unique(clusters)
    )
    return majority / len(labels)


def timed_embed(
    embed: Callable[[np.ndarray], np.ndarray], images: list[np.ndarray]
) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    vectors = np.concatenate([embed(image) for image in images])
    return vectors, len(images) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets/imagenette-mini"))
    parser.add_argument("--keep", type=float, default=0.3, help="background_keep of the 3rd row")
    parser.add_argument("--margin", type=float, default=0.1)
    args = parser.parse_args()
    images, labels = load_dataset(args.data)
    plain = TimmEmbedder(margin=args.margin)
    keep = TimmEmbedder(margin=args.margin, background_keep=args.keep)
    variants = {
        "whole image": lambda im: plain.embed_crops(resized_image(im, plain.size)[None]),
        "masked crop (centre ellipse)": lambda im: plain.embed(im, [centre_ellipse(im.shape)]),
        f"masked crop, keep {args.keep}": lambda im: keep.embed(im, [centre_ellipse(im.shape)]),
    }
    timed_embed(variants["whole image"], images[:4])  # first-call allocations off the clock
    print(f"{plain.name} on {args.data} ({len(images)} images, {len(set(labels))} classes)")
    print(f"{'variant':34} {'5-NN acc':>8} {'purity':>7} {'seg/s':>7}")
    for title, embed in variants.items():
        vectors, rate = timed_embed(embed, images)
        print(
            f"{title:34} {knn_accuracy(vectors, labels):8.3f} "
            f"{cluster_purity(vectors, labels):7.3f} {rate:7.1f}"
        )


if __name__ == "__main__":
    main()
