"""Benchmark: placing M new points on a fitted N-point map (the projection job's no-refit
path), exact neighbours against the faiss IVF neighbours used above EXACT_MAX_POINTS.

Data: N + M clustered points in the projector's pre-reduced space (50-d, 50 clusters, an
8-d spread each), the fitted map their first two principal axes (any fixed map will do: the
placement only averages neighbours' positions). Prints seconds per method, their ratio,
recall@k of the approximate neighbours and how far its placements land from the exact ones,
in units of the map's extent.

    .venv/bin/python bench/placement.py                                  # 100k x 10k
    nice -n 10 timeout 1800 .venv/bin/python bench/placement.py --points 1000000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.projection.placement import (  # noqa: E402
    approximate_neighbours,
    exact_neighbours,
    place_by_neighbours,
    weighted_positions,
)

DIM, K = 50, 15


def clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, DIM) float32 points around 50 fixed centres."""
    shape = np.random.default_rng(7)
    centres = shape.normal(size=(50, DIM)) * 3
    spans = shape.normal(size=(50, 8, DIM))
    which = rng.integers(0, 50, n)
    spread = np.einsum("ni,nid->nd", rng.normal(size=(n, 8)), spans[which])
    return (centres[which] + spread + rng.normal(size=(n, DIM)) * 0.3).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    points, queries = clustered(args.points, rng), clustered(args.new, rng)
    centred = points - points.mean(axis=0)
    axes = np.linalg.svd(centred[:20_000], full_matrices=False)[2][:2]
    coords = (centred @ axes.T).astype(np.float32)
    timed = {}
    for name, search in (("exact", exact_neighbours), ("faiss IVF", approximate_neighbours)):
        start = time.perf_counter()
        indices, distances = search(queries, points, K)
        timed[name] = (time.perf_counter() - start, indices, distances)
    (exact_s, exact, exact_d), (ann_s, found, found_d) = timed["exact"], timed["faiss IVF"]
    recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(found, exact, strict=True)])
    shift = (
        np.linalg.norm(
            weighted_positions(exact, exact_d, coords) - weighted_positions(found, found_d, coords),
            axis=1,
        )
        / np.ptp(coords, axis=0).max()
    )
    print(f"placing {args.new:,} new points on a {args.points:,}-point map, k={K}, {DIM}-d")
    print(f"{'method':<12}{'s':>10}")
    print(f"{'exact':<12}{exact_s:>10.2f}")
    print(f"{'faiss IVF':<12}{ann_s:>10.2f}")
    print(
        f"exact / faiss time: {exact_s / ann_s:.1f}x; recall@{K}: {recall:.3f}; placement "
        f"shift vs exact (share of map extent): median {np.median(shift):.4f}, "
        f"p99 {np.percentile(shift, 99):.4f}"
    )
    # the product's own call, for the record (same path as the job takes above 50k points)
    start = time.perf_counter()
    place_by_neighbours(queries, points, coords, K)
    print(f"place_by_neighbours (the job's call): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
