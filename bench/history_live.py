"""A whole-project assign seen by another client, and its history, through the real server:
this checkout against another one (the peer: an older revision as a `git worktree`), same run.

    git worktree add --detach /tmp/peer-hist <revision>
    nice -n 10 timeout 1800 .venv/bin/python bench/history_live.py --segments 1000000 \
        --peer /tmp/peer-hist

One synthetic project (bench/scale_data.py, no vectors) is built once and copied per side. Per
side, one server with one live client connected (GET .../events in a thread, reading what a
map page needs: the `labels` event and, when the event leaves the changes out, the batch's
columns): the assign of all N ids (body encoded before the clock starts), timed request to
response and until the client holds every change; the server's RSS growth and CPU seconds
over assign + delivery; then the history detail of that batch (what the server answers by
default: the peer every change, this checkout a page), the project header request and the
undo (with the client connected again). Prints a table with this/peer ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from app.history.block import decode  # noqa: E402
from bench.scale import ENV  # noqa: E402
from bench.scale_data import Built, add_segments, create_project  # noqa: E402
from bench.scale_server import TIMEOUT, RssSampler, peak_rss_gb  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402


class LiveClient:
    """One SSE client of the project; `wait(batch_id)` returns when it holds that batch's
    changes (from the event, or from GET .../columns when the event has only the count)."""

    def __init__(self, url: str, project_id: int) -> None:
        self.url, self.project_id = url, project_id
        self.opened = threading.Event()
        self.got: dict[int, tuple[float, int, int, int]] = {}  # id -> (t, event B, columns B, n)
        self._done = threading.Condition()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        with contextlib.suppress(httpx.TransportError):  # the server stopped
            self._read()

    def _read(self) -> None:
        with httpx.stream(
            "GET", f"{self.url}/api/projects/{self.project_id}/events", timeout=TIMEOUT
        ) as stream:
            event = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                    self.opened.set()
                elif line.startswith("data: ") and event == "labels":
                    self._receive(line)

    def _receive(self, line: str) -> None:
        batch = json.loads(line[6:])
        columns_bytes = 0
        if batch["changes"] is None:
            answer = httpx.get(
                f"{self.url}/api/projects/{self.project_id}/history/{batch['batch_id']}/columns",
                timeout=TIMEOUT,
            )
            columns_bytes = len(answer.content)
            count = len(decode(answer.content))
        else:
            count = len(batch["changes"])
        with self._done:
            self.got[batch["batch_id"]] = (time.perf_counter(), len(line), columns_bytes, count)
            self._done.notify_all()

    def wait(self, batch_id: int) -> tuple[float, int, int, int]:
        with self._done:
            if not self._done.wait_for(lambda: batch_id in self.got, timeout=1800):
                raise RuntimeError(f"batch {batch_id} never reached the live client")
            return self.got[batch_id]


def _timed(method: str, url: str, **kwargs: object) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    response = httpx.request(method, url, timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]
    response.raise_for_status()
    return time.perf_counter() - start, response


def _cpu(process: psutil.Process) -> float:
    return sum(process.cpu_times()[:2])


def one_side(checkout: Path, data: Path, built: Built, body: bytes, n: int) -> dict[str, float]:
    with ServerProcess(data, env=ENV, log=data / "server.log", checkout=checkout) as server:
        process = psutil.Process(server.process.pid)  # type: ignore[union-attr]
        project = f"{server.url}/api/projects/{built.project_id}"
        live = LiveClient(server.url, built.project_id)
        if not live.opened.wait(60):
            raise RuntimeError("the live stream did not open")
        out: dict[str, float] = {}
        cpu = _cpu(process)
        with RssSampler(process.pid) as rss:
            start = time.perf_counter()
            out["assign_s"], response = _timed(
                "POST",
                f"{project}/assign",
                content=body,
                headers={"content-type": "application/json"},
            )
            batch_id = response.json()["batch_id"]
            arrived, event_bytes, columns_bytes, count = live.wait(batch_id)
        if count != n:
            raise RuntimeError(f"the live client got {count} changes, not {n}")
        out["live_all_changes_s"] = arrived - start
        out["live_event_mb"] = event_bytes / 1e6
        out["live_columns_mb"] = columns_bytes / 1e6
        out["assign_live_cpu_s"] = _cpu(process) - cpu
        out["assign_live_rss_mb"] = rss.growth_gb * 1024
        with RssSampler(process.pid) as rss:
            out["history_detail_s"], detail = _timed("GET", f"{project}/history/{batch_id}")
        out["history_detail_mb"] = len(detail.content) / 1e6
        out["history_detail_rss_mb"] = rss.growth_gb * 1024
        out["header_ms"] = 1000 * statistics.median(_timed("GET", project)[0] for _ in range(5))
        start = time.perf_counter()
        out["undo_s"], undo = _timed("POST", f"{project}/history/{batch_id}/undo")
        out["live_undo_all_changes_s"] = live.wait(undo.json()["batch_id"])[0] - start
        out["server_peak_rss_gb"] = peak_rss_gb(process.pid)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--peer", type=Path, required=True, help="the other checkout")
    args = parser.parse_args()
    n = args.segments
    with tempfile.TemporaryDirectory(prefix="lassolabel-history-live-") as tmp:
        root = Path(tmp)
        built = create_project(root / "this", images=min(20_000, max(1, n // 50)))
        ids = add_segments(root / "this", built, n, seed=1)
        shutil.copytree(root / "this", root / "peer")
        body = json.dumps(
            {
                "segment_ids": ids.tolist(),
                "label_id": built.label_ids[0],
                "expected_versions": dict.fromkeys(ids.tolist(), 1),
            }
        ).encode()
        sides = {"this": HERE, "peer": args.peer.resolve()}
        out = {name: one_side(path, root / name, built, body, n) for name, path in sides.items()}
    print(f"\n{n:,} segments, one live client (load {os.getloadavg()[0]:.1f})")
    print(f"{'step':<26}{'this':>10}{'peer':>10}{'this/peer':>11}")
    for key, mine in out["this"].items():
        theirs = out["peer"][key]
        ratio = mine / theirs if theirs else float("nan")
        print(f"{key:<26}{mine:>10.3f}{theirs:>10.3f}{ratio:>11.2f}")


if __name__ == "__main__":
    main()
