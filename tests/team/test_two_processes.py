"""Two real `lassolabel serve` processes on one PostgreSQL behave as one server: annotators
split between them write overlapping batches, one process is SIGKILLed mid-load, and still no
acknowledged write is lost, nothing answers 5xx, every acknowledged batch is in the history,
and a client of the surviving process saw live every batch, whichever process took it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.models import Role
from tests.conftest import png_bytes
from tests.postgres import PostgresCluster
from tests.server_process import ServerProcess
from tests.team import consistency
from tests.team.conftest import add_segments, api_token, bearer, database, make_user, server_env
from tests.team.load_client import run

pytestmark = pytest.mark.slow

WRITERS_PER_PROCESS, ASSIGNS, SEGMENTS = 3, 120, 3_000


@pytest.fixture
def postgres_url(postgres: PostgresCluster) -> Iterator[str]:
    url = postgres.create_database()
    yield url
    postgres.drop_database(url)


class Listener:
    """Collects the ids of `labels` events from one server's project stream, in a thread."""

    def __init__(self, url: str, token: str, project_id: int) -> None:
        self.seen: list[int] = []
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._args = (url, token, project_id)
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        try:
            self._read()
        except httpx.HTTPError:
            if not self._stop.is_set():  # the server closing a finished test's stream is fine
                raise

    def _read(self) -> None:
        url, token, pid = self._args
        with httpx.Client(base_url=url, headers=bearer(token), timeout=30) as http, \
                http.stream("GET", f"/api/projects/{pid}/events") as stream:  # fmt: skip
            event = None
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                    self.connected.set()
                elif line.startswith("data: ") and event == "labels":
                    self.seen.append(json.loads(line[6:])["batch_id"])
                if self._stop.is_set():
                    return

    def wait_for(self, ids: set[int], timeout: float = 60) -> set[int]:
        """The ids not seen yet after waiting up to `timeout` seconds for them."""
        deadline = time.monotonic() + timeout
        while (missing := ids - set(self.seen)) and time.monotonic() < deadline:
            time.sleep(0.1)
        self._stop.set()
        return missing


def test_two_processes_one_killed_mid_load(tmp_path: Path, postgres_url: str) -> None:
    data_dir = tmp_path / "data"
    db = database(data_dir, postgres_url)
    token = api_token(db, make_user(db, "admin", Role.admin))
    env = server_env(postgres_url)
    with ServerProcess(data_dir, env=env) as first, ServerProcess(data_dir, env=env) as second:
        with httpx.Client(base_url=first.url, headers=bearer(token), timeout=60) as http:
            pid = http.post("/api/projects", json={"name": "shared"}).json()["id"]
            files = [("files", ("a.png", png_bytes(), "image/png"))]
            image = http.post(f"/api/projects/{pid}/images", files=files).json()["imported"][0]
            labels = [http.post(f"/api/projects/{pid}/labels", json={"name": n}).json()["id"]
                      for n in ("a", "b", "c")]  # fmt: skip
        ids = add_segments(db, pid, image["id"], SEGMENTS)
        listener = Listener(second.url, token, pid)
        assert listener.connected.wait(60)

        outcomes: dict[str, list[list]] = {}

        def write(name: str, url: str, seed: int) -> None:
            outcomes[name] = run(url, token, pid, ids, [*labels, None], seed, ASSIGNS)

        writers = [
            threading.Thread(target=write, args=(f"{side}{i}", server.url, seed))
            for seed, (side, server, i) in enumerate(
                (side, server, i)
                for side, server in (("first", first), ("second", second))
                for i in range(WRITERS_PER_PROCESS)
            )
        ]
        for writer in writers:
            writer.start()
        time.sleep(3)  # mid-load: some of the first process's batches are in flight
        first.kill()
        for writer in writers:
            writer.join(600)

        rows = [(name, *row) for name, got in outcomes.items() for row in got]
        statuses = {(name.rstrip("0123456789"), status) for name, status, *_ in rows}
        assert {s for side, s in statuses if side == "second"} <= {200, 409}, statuses
        assert {s for side, s in statuses if side == "first"} <= {200, 409, 0}, statuses
        acked = [(batch_id, batch, label) for _, status, batch_id, batch, label in rows
                 if status == 200]  # fmt: skip
        assert any(name.startswith("first") and status == 200 for name, status, *_ in rows)
        counts = consistency.check(postgres_url, pid, acked)
        assert counts["acked"] == len(acked) > 0
        missing = listener.wait_for({batch_id for batch_id, *_ in acked})
        assert not missing, f"{len(missing)} acknowledged batches never reached the other process"
    db.dispose()
