"""Crash consistency: SIGKILL a real uvicorn at random moments under concurrent batch assigns,
20 times; after each kill the database is intact, no batch is partial, and every batch the
server acknowledged is there exactly as sent."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from app.models import Role
from tests.conftest import png_bytes
from tests.server_process import free_port
from tests.team import consistency
from tests.team.conftest import add_segments, api_token, bearer, database, make_user, server_env
from tests.team.forkserver import ForkServer

pytestmark = pytest.mark.slow

CYCLES, WRITERS, SEGMENTS = 20, 4, 3_000


def wait_healthy(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"server at {url} did not start")


def hammer(url: str, token: str, pid: int, ids: list[int], labels: list[int | None],
           seed: int, stop: threading.Event, acked: list) -> None:  # fmt: skip
    """Assign until the server dies (or `stop`); record only acknowledged batches."""
    rng = random.Random(seed)
    with httpx.Client(base_url=url, headers=bearer(token), timeout=10) as http:
        while not stop.is_set():
            size = rng.choice([1, 10, 100, 500])
            start = rng.randrange(0, len(ids) - size)
            batch, label = ids[start : start + size], rng.choice(labels)
            try:
                response = http.post(f"/api/projects/{pid}/assign",
                                     json={"segment_ids": batch, "label_id": label})  # fmt: skip
            except httpx.TransportError:
                return  # killed mid-request: not acknowledged, may or may not have committed
            assert response.status_code == 200, response.text
            acked.append((response.json()["batch_id"], batch, label))


def test_sigkill_under_load_loses_no_acknowledged_batch(
    tmp_path: Path, database_url: str | None
) -> None:
    data_dir = tmp_path / "data"
    db = database(data_dir, database_url)
    token = api_token(db, make_user(db, "admin", Role.admin))
    env = {**os.environ, **server_env(database_url), "LASSOLABEL_DATA_DIR": str(data_dir)}
    rng = random.Random(7)
    acked: list = []
    with ForkServer(env, tmp_path) as forks:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        pid = forks.serve(port)
        wait_healthy(url)
        with httpx.Client(base_url=url, headers=bearer(token), timeout=30) as http:
            project = http.post("/api/projects", json={"name": "crash"}).json()["id"]
            files = [("files", ("a.png", png_bytes(), "image/png"))]
            image = http.post(f"/api/projects/{project}/images", files=files).json()["imported"][0]
            labels = [http.post(f"/api/projects/{project}/labels", json={"name": n}).json()["id"]
                      for n in ("a", "b")] + [None]  # fmt: skip
        ids = add_segments(db, project, image["id"], SEGMENTS)
        db.dispose()
        for cycle in range(CYCLES):
            stop = threading.Event()
            writers = [
                threading.Thread(
                    target=hammer,
                    args=(url, token, project, ids, labels, cycle * WRITERS + i, stop, acked),
                )  # fmt: skip
                for i in range(WRITERS)
            ]
            for writer in writers:
                writer.start()
            # Kill at a random moment once this cycle's load is flowing (its first batch
            # acknowledged), however slow the machine is.
            baseline, deadline = len(acked), time.monotonic() + 60
            while len(acked) == baseline and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 1.2))
            os.kill(pid, signal.SIGKILL)
            stop.set()
            for writer in writers:
                writer.join(30)
            counts = consistency.check(db.url, project, list(acked))
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            pid = forks.serve(port)
            wait_healthy(url)
        os.kill(pid, signal.SIGKILL)
    assert len(acked) > CYCLES  # the kills really landed under load
    print(f"\n{CYCLES} SIGKILLs, {len(acked)} acknowledged batches, "
          f"{counts['batches']} in the log, all intact")  # fmt: skip
