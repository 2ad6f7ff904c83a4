"""Benchmark: our UMAP projector vs plain `umap.UMAP().fit_transform` on the raw vectors.

Data: N synthetic L2-normalised 1280-d vectors in 30 clusters. Each cluster is a centre plus an
8-d random linear subspace of spread plus isotropic noise, so within-cluster neighbourhoods mean
something (as in real embeddings) and trustworthiness measures more than cluster separation.

Per N it prints wall and CPU seconds (CPU is the fairer figure on a shared machine), peak RSS
growth, trustworthiness (sklearn, 10 neighbours, on a 3k
subsample, measured against the raw 1280-d vectors) and ours/plain ratios, then the time to
place 1k new points on our fitted map with transform(). numba compiles first (timed, reported),
so neither contender pays it.

    .venv/bin/python bench/projection.py                   # N = 10k, 100k
    .venv/bin/python bench/projection.py --big             # adds 1M (needs ~16 GiB)
    .venv/bin/python bench/projection.py --sizes 100000 --n-epochs 100   # try a variant
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import umap
from sklearn.manifold import trustworthiness

from app.projection.umap_projector import UmapProjector, warm_numba


def clustered_vectors(
    n: int, *, dim: int = 1280, clusters: int = 30, intrinsic: int = 8, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(n, dim) float32 unit rows and (n,) int cluster labels (see module docstring)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)
    spans = rng.standard_normal((clusters, intrinsic, dim), dtype=np.float32) * 0.2
    labels = rng.integers(0, clusters, n)
    vectors = rng.standard_normal((n, dim), dtype=np.float32) * 0.3
    vectors += centres[labels]
    for c in range(clusters):
        rows = np.flatnonzero(labels == c)
        vectors[rows] += rng.standard_normal((rows.size, intrinsic), dtype=np.float32) @ spans[c]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, labels


class PeakRss:
    """Context manager sampling this process's RSS every 20 ms; .peak_mib is growth over entry."""

    def __enter__(self) -> PeakRss:
        self._base = self._peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self._peak = max(self._peak, _rss_bytes())

    @property
    def peak_mib(self) -> float:
        return (self._peak - self._base) / 2**20


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    peak_mib: float
    trust: float

    def row(self, title: str) -> str:
        return (
            f"{title:36} {self.seconds:8.1f} {self.cpu_seconds:8.1f} "
            f"{self.peak_mib:9.0f} {self.trust:7.4f}"
        )


def measure(
    fit: Callable[[np.ndarray], np.ndarray], vectors: np.ndarray, sample: np.ndarray
) -> Run:
    with PeakRss() as rss:
        start, cpu_start = time.perf_counter(), time.process_time()
        coords = fit(vectors)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert coords.shape == (len(vectors), 2) and np.isfinite(coords).all()
    trust = trustworthiness(vectors[sample], coords[sample], n_neighbors=10)
    return Run(seconds, cpu, rss.peak_mib, trust)


def plain_umap(vectors: np.ndarray) -> np.ndarray:
    return umap.UMAP().fit_transform(vectors)


def bench_size(n: int, args: argparse.Namespace) -> None:
    vectors, _ = clustered_vectors(n + args.new, dim=args.dim, clusters=args.clusters)
    vectors, new = vectors[:n], vectors[n:]
    sample = np.random.default_rng(1).choice(n, min(n, 3000), replace=False)
    plain = None if args.skip_plain else measure(plain_umap, vectors, sample)
    print(f"\nN = {n:,} x {args.dim}-d, {args.clusters} clusters")
    print(f"{'':36} {'seconds':>8} {'cpu s':>8} {'peak MiB':>9} {'trust':>7}")
    if plain:
        print(plain.row("plain umap.UMAP().fit_transform"), flush=True)
    for n_epochs in args.n_epochs:
        ours = UmapProjector(
            n_epochs=n_epochs,
            init=args.init,
            metric=args.metric,
            pca_components=args.pca,
            n_neighbors=args.n_neighbors,
        )
        mine = measure(ours.fit_transform, vectors, sample)
        added = [_timed(lambda ours=ours: ours.transform(new)) for _ in range(2)]
        print(mine.row(f"ours pca{args.pca} {args.init} ep{n_epochs} {args.metric}"))
        if plain:
            print(
                f"{'  ratio ours/plain (trust: diff)':36} {mine.seconds / plain.seconds:8.2f} "
                f"{mine.cpu_seconds / plain.cpu_seconds:8.2f} "
                f"{mine.peak_mib / max(plain.peak_mib, 1):9.2f} {mine.trust - plain.trust:+7.4f}"
            )
        print(
            f"  transform {args.new} new points: first {added[0]:.2f} s, again {added[1]:.2f} s",
            flush=True,
        )


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--big", action="store_true", help="also N = 1,000,000")
    parser.add_argument("--dim", type=int, default=1280)
    parser.add_argument("--clusters", type=int, default=30)
    parser.add_argument("--new", type=int, default=1000, help="points added with transform()")
    parser.add_argument("--skip-plain", action="store_true")
    defaults = UmapProjector()
    parser.add_argument("--n-epochs", type=int, nargs="+", default=[defaults.n_epochs])
    parser.add_argument("--init", default=defaults.init)
    parser.add_argument("--metric", default=defaults.metric)
    parser.add_argument("--pca", type=int, default=defaults.pca_components)
    parser.add_argument("--n-neighbors", type=int, default=defaults.n_neighbors)
    args = parser.parse_args()
    print(f"numba warm-up (compile or load cache): {warm_numba():.1f} s")
    for n in args.sizes + ([1_000_000] if args.big else []):
        bench_size(n, args)


if __name__ == "__main__":
    main()
