"""Reads a page waits on, on a big project, through the real server: this checkout against
another one (the peer: an older revision as a `git worktree`), same run.

    git worktree add --detach /tmp/peer-hist <revision>
    nice -n 10 timeout 1800 .venv/bin/python bench/interactive_reads.py --segments 1000000 \
        --peer /tmp/peer-hist

One synthetic project (bench/scale_data.py, no vectors): every other segment labelled, every
unlabelled one with a suggestion, written in SQL. Per side, one server; each request is timed
(median of --repeat on one keep-alive connection), the best median of two server starts.
Prints a table with this/peer ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from bench.scale import ENV  # noqa: E402
from bench.scale_data import add_segments, create_project, database_url  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402

READS = {
    "project header": "/api/projects/{pid}",
    "review page": "/api/projects/{pid}/review?limit=50",
    "suggestion map json": "/api/projects/{pid}/suggestions/map",
    "suggestion map binary": "/api/projects/{pid}/suggestions/map?format=binary",
}


def build(data: Path, n: int) -> int:
    built = create_project(data, images=min(20_000, max(1, n // 50)))
    add_segments(data, built, n, seed=1)
    engine = create_engine(database_url(data))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE segments SET label_class_id = :first + id % 4 WHERE id % 2 = 0"),
            {"first": built.label_ids[0]},
        )
        conn.execute(
            text(
                "INSERT INTO suggestions (project_id, segment_id, kind, label_id, confidence, "
                "created_at) SELECT project_id, id, 'propagate', :first + id % 4, "
                "(id % 1000) / 1000.0, created_at FROM segments WHERE label_class_id IS NULL"
            ),
            {"first": built.label_ids[0]},
        )
    engine.dispose()
    return built.project_id


def one_side(checkout: Path, data: Path, project_id: int, repeat: int) -> dict[str, float]:
    with (
        ServerProcess(data, env=ENV, log=data / "server.log", checkout=checkout) as server,
        httpx.Client(base_url=server.url, timeout=600) as http,
    ):
        out = {}
        for name, path in READS.items():
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                http.get(path.format(pid=project_id)).raise_for_status()
                times.append(time.perf_counter() - start)
            out[name] = 1000 * statistics.median(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--peer", type=Path, required=True, help="the other checkout")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lassolabel-reads-") as tmp:
        data = Path(tmp) / "data"
        project_id = build(data, args.segments)
        sides = {"this": HERE, "peer": args.peer.resolve()}
        runs = [
            {name: one_side(path, data, project_id, args.repeat) for name, path in sides.items()}
            for _ in range(2)
        ]
    print(f"\n{args.segments:,} segments, half labelled, the rest suggested (ms, median of "
          f"{args.repeat}, best of 2 starts; load {os.getloadavg()[0]:.1f})")  # fmt: skip
    print(f"{'GET':<24}{'this':>10}{'peer':>10}{'this/peer':>11}")
    for name in READS:
        mine, theirs = (min(run[side][name] for run in runs) for side in ("this", "peer"))
        print(f"{name:<24}{mine:>10.1f}{theirs:>10.1f}{mine / theirs:>11.2f}")


if __name__ == "__main__":
    main()
