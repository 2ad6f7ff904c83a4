"""Assign and undo of every segment of a project through the real server, this checkout against
another one (the peer: an older revision as a `git worktree`), same run, alternating.

    git worktree add --detach /tmp/peer <revision>
    nice -n 10 timeout 1800 .venv/bin/python bench/assign_ab.py --segments 1000000 --peer /tmp/peer

One synthetic project (bench/scale_data.py, no vectors) is built once and copied per side; each
repetition starts one server per side in turn (a fresh process: the copy's own migrations run
at start-up) and times, request to response, an assign of all N ids with expected_versions as
the map page sends it (the body encoded before the clock starts) and the undo of that batch,
with the server process's CPU seconds for each. Prints the medians and this/peer ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from bench import scale_server as srv  # noqa: E402
from bench.scale import ENV  # noqa: E402
from bench.scale_data import Built, add_segments, create_project  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402


def one_side(checkout: Path, data: Path, built: Built, body: bytes) -> dict[str, float]:
    """Assign (the pre-encoded body) then undo, on a server running `checkout`'s code."""
    with ServerProcess(data, env=ENV, log=data / "server.log", checkout=checkout) as server:
        process = psutil.Process(server.process.pid)
        project = f"{server.url}/api/projects/{built.project_id}"
        cpu = sum(process.cpu_times()[:2])
        start = time.perf_counter()
        response = srv.httpx.post(
            f"{project}/assign",
            content=body,
            headers={"content-type": "application/json"},
            timeout=srv.TIMEOUT,
        )
        assign_s = time.perf_counter() - start
        response.raise_for_status()
        assign_cpu = sum(process.cpu_times()[:2]) - cpu
        start = time.perf_counter()
        undo = srv.httpx.post(
            f"{project}/history/{response.json()['batch_id']}/undo", timeout=srv.TIMEOUT
        )
        undo_s = time.perf_counter() - start
        undo.raise_for_status()
        undo_cpu = sum(process.cpu_times()[:2]) - cpu - assign_cpu
    return {
        "assign_s": assign_s,
        "assign_cpu_s": assign_cpu,
        "undo_s": undo_s,
        "undo_cpu_s": undo_cpu,
    }


def run(n: int, peer: Path, repeat: int, root: Path) -> dict[str, list[dict[str, float]]]:
    built = create_project(root / "this", images=min(20_000, max(1, n // 50)))
    ids = add_segments(root / "this", built, n, seed=1)
    shutil.copytree(root / "this", root / "peer")
    sides = {"this": HERE, "peer": peer}
    out: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for rep in range(repeat):
        # Every assign + undo bumps each version twice: the next assign expects that.
        expected = dict.fromkeys(ids.tolist(), 1 + 2 * rep)
        label = built.label_ids[rep % len(built.label_ids)]
        body = json.dumps(
            {"segment_ids": ids.tolist(), "label_id": label, "expected_versions": expected}
        ).encode()
        for name, checkout in sides.items():
            out[name].append(one_side(checkout, root / name, built, body))
            shown = " ".join(f"{key} {value:.2f}" for key, value in out[name][-1].items())
            print(f"rep {rep} {name:<5} {shown} load {os.getloadavg()[0]:.1f}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--peer", type=Path, required=True, help="the other checkout")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lassolabel-assign-ab-") as root:
        out = run(args.segments, args.peer.resolve(), args.repeat, Path(root))
    print(f"\n{args.segments:,} segments, medians of {args.repeat} (load {os.getloadavg()[0]:.1f})")
    print(f"{'step':<14}{'this':>10}{'peer':>10}{'this/peer':>11}")
    for key in out["this"][0]:
        mine = statistics.median(r[key] for r in out["this"])
        theirs = statistics.median(r[key] for r in out["peer"])
        print(f"{key:<14}{mine:>10.2f}{theirs:>10.2f}{mine / theirs:>11.2f}")


if __name__ == "__main__":
    main()
