"""The write-heavy steps of bench/scale.py at one size, without the projection or the browser:
quicker to rerun while working on one of them.

    .venv/bin/python bench/scale_steps.py --segments 50000
    nice -n 10 timeout 1800 .venv/bin/python bench/scale_steps.py --segments 1000000

A synthetic project as bench/scale.py builds it, served by a real server: assign all N
(with expected_versions) and undo it, label 10% of the segments unseen (a lasso's tail) and
2,000 by cluster (bench/scale.py's state when it propagates), run the propagate job, delete
one label (unlabelling its segments, audited). Prints each step's seconds and the server's
peak RSS.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scale_server as srv  # noqa: E402
from bench.scale import ENV, _label_some  # noqa: E402
from bench.scale_data import add_segments, add_vectors, create_project  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402


def run(n: int, root: Path) -> dict[str, float]:
    built = create_project(root, images=min(20_000, max(1, n // 50)))
    ids = add_segments(root, built, n, seed=1)
    clusters = add_vectors(root, built.project_id, ids, seed=1)
    pid, out = built.project_id, {}
    with ServerProcess(root, env=ENV, log=root / "server.log") as server:
        url = server.url
        versions = np.ones(len(ids), np.int64)
        out["assign_s"], out["undo_s"] = srv.assign_and_undo(
            url, pid, ids, versions, built.label_ids[2]
        )
        lasso = np.random.default_rng(6).choice(ids, len(ids) // 10, replace=False)
        srv.httpx.post(
            f"{url}/api/projects/{pid}/assign",
            json={"segment_ids": lasso.tolist(), "label_id": built.label_ids[0]},
            timeout=srv.TIMEOUT,
        ).raise_for_status()
        _label_some(url, pid, ids, clusters, built.label_ids)
        out["propagate_s"] = srv.run_job(url, pid, "propagate", {"embed_missing": False})
        start = time.perf_counter()
        srv.httpx.delete(
            f"{url}/api/projects/{pid}/labels/{built.label_ids[0]}", timeout=srv.TIMEOUT
        ).raise_for_status()
        out["delete_label_s"] = time.perf_counter() - start
        out["peak_rss_gb"] = srv.peak_rss_gb(server.process.pid)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lassolabel-steps-") as root:
        out = run(args.segments, Path(root))
    print(f"{'step':<20}{args.segments:>12,}")
    for key, value in out.items():
        print(f"{key:<20}{value:>12.2f}")


if __name__ == "__main__":
    main()
