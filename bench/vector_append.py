"""Appending one image's vectors to a large project's vector store (the embed job does it
once per image): this code, which indexes only the new records, against re-indexing from
every record after each append (the code before it), same store, same run.

    .venv/bin/python bench/vector_append.py [--vectors 1000000] [--appends 20] [--per-append 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.embeddings.store import VectorStore  # noqa: E402
from bench.scale_data import DIM, clustered_chunks  # noqa: E402


def time_appends(store: VectorStore, first_id: int, appends: int, per: int) -> list[float]:
    times = []
    for i in range(appends):
        ids = np.arange(first_id + i * per, first_id + (i + 1) * per)
        vectors = np.ones((per, DIM), np.float16)
        start = time.perf_counter()
        store.append(ids, vectors)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=20)
    parser.add_argument("--per-append", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lassolabel-append-") as root:
        store = VectorStore(Path(root), DIM)
        for start, chunk, _ in clustered_chunks(args.vectors, seed=1):
            store.append(np.arange(start, start + len(chunk)), chunk)
        ours = time_appends(store, args.vectors, args.appends, args.per_append)
        store._catch_up = lambda file, rows: False  # type: ignore[method-assign]
        peer = time_appends(
            store, args.vectors + args.appends * args.per_append, args.appends, args.per_append
        )
    ms = statistics.median(ours) * 1e3, statistics.median(peer) * 1e3
    print(f"{args.vectors:,} x {DIM} vectors, append {args.per_append} ({args.appends} times)")
    print(f"{'':<28}{'median ms':>10}")
    print(f"{'index the new records':<28}{ms[0]:>10.1f}")
    print(f"{'re-index every record':<28}{ms[1]:>10.1f}")
    print(f"{'ratio':<28}{ms[1] / ms[0]:>9.0f}x")


if __name__ == "__main__":
    main()
