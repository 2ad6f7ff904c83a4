from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.jobs.runner import JobContext
from app.main import create_app
from app.models import JobItem, LabelClass
from tests.fixtures.settings import make_settings
from tests.postgres import POSTGRESQL, both_backends  # noqa: F401  (jobs run on both databases)

ITEMS = [f"item-{i}" for i in range(10)]


class SlowLabeller:
    """A job handler that writes one label row per item, pausing between items."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.calls: list[str] = []

    def __call__(self, ctx: JobContext) -> None:
        ctx.set_total(len(ITEMS))
        self.started.set()
        for key in ITEMS:
            ctx.check()
            if key in ctx.finished_keys:
                continue
            self.gate.wait(10)
            ctx.check()
            self.calls.append(key)
            ctx.complete_item(
                key,
                lambda session, key=key: session.add(
                    LabelClass(project_id=ctx.project_id, name=key, color="#000000")
                ),
                error="bad item" if key == "item-3" else None,
            )
            time.sleep(0.02)


@pytest.fixture
def job_settings(tmp_path: Path, database_url: str | None) -> Settings:
    return make_settings(tmp_path / "data", database_url=database_url)


def _wait(client: TestClient, job_id: int, states: set[str]) -> dict:
    deadline = time.monotonic() + 20
    while (job := client.get(f"/api/jobs/{job_id}").json())["state"] not in states:
        assert time.monotonic() < deadline, job
        time.sleep(0.02)
    return job


def test_job_runs_records_failures_and_writes_each_item_once(job_settings: Settings) -> None:
    handler = SlowLabeller()
    with TestClient(create_app(job_settings, job_handlers={"slow": handler})) as client:
        pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
        job_id = client.post(f"/api/projects/{pid}/jobs", json={"kind": "slow"}).json()["id"]
        job = _wait(client, job_id, {"succeeded", "failed"})
        assert (job["state"], job["done"], job["total"], job["failed_items"]) == (
            "succeeded",
            10,
            10,
            1,
        )
        # How long it took is recorded, from start to finish (not a clock reading: >= 0).
        assert job["duration_seconds"] is not None and job["duration_seconds"] >= 0
        assert job["finished_at"] >= job["started_at"]
        names = {
            label["name"] for label in client.get(f"/api/projects/{pid}/labels").json()["items"]
        }
        assert names == set(ITEMS) - {"item-3"}


def test_cancel_stops_writes(job_settings: Settings) -> None:
    handler = SlowLabeller()
    with TestClient(create_app(job_settings, job_handlers={"slow": handler})) as client:
        pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
        job_id = client.post(f"/api/projects/{pid}/jobs", json={"kind": "slow"}).json()["id"]
        while client.get(f"/api/jobs/{job_id}").json()["done"] < 2:
            time.sleep(0.01)
        handler.gate.clear()  # hold the handler between items
        cancelled = client.post(f"/api/jobs/{job_id}/cancel").json()
        assert cancelled["cancel_requested"] is True
        done_at_cancel = cancelled["done"]
        handler.gate.set()
        job = _wait(client, job_id, {"cancelled"})
        assert job["done"] == done_at_cancel
        ctx = client.app.state.context  # type: ignore[attr-defined]
        with ctx.db.read() as session:
            labels = session.scalars(select(LabelClass.name)).all()
        assert len(labels) == done_at_cancel - (
            1 if "item-3" in handler.calls[:done_at_cancel] else 0
        )


def test_interrupted_job_resumes_after_restart(job_settings: Settings) -> None:
    settings = job_settings
    first = SlowLabeller()
    with TestClient(create_app(settings, job_handlers={"slow": first})) as client:
        pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
        job_id = client.post(f"/api/projects/{pid}/jobs", json={"kind": "slow"}).json()["id"]
        while client.get(f"/api/jobs/{job_id}").json()["done"] < 4:
            time.sleep(0.01)
    # The app stopped mid-job: the job stays "running" in the database and resumes next start.
    second = SlowLabeller()
    with TestClient(create_app(settings, job_handlers={"slow": second})) as client:
        job = _wait(client, job_id, {"succeeded", "failed"})
        assert job["done"] == 10 and job["failed_items"] == 1
        assert not set(first.calls) & set(second.calls)  # no item ran twice
        ctx = client.app.state.context  # type: ignore[attr-defined]
        with ctx.db.read() as session:
            assert len(session.scalars(select(JobItem).where(JobItem.job_id == job_id)).all()) == 10
            assert len(session.scalars(select(LabelClass.name)).all()) == 9


@pytest.mark.parametrize("backend", [POSTGRESQL])
def test_two_apps_on_one_database_run_a_job_once_and_the_survivor_resumes_it(
    tmp_path: Path, database_url: str
) -> None:
    """Two apps (as two server processes) share one PostgreSQL: whichever claims the job runs
    it alone while it lives; once it stops mid-job the other resumes after its last item."""
    labellers = {name: SlowLabeller() for name in ("a", "b")}
    clients = {
        name: TestClient(
            create_app(
                make_settings(tmp_path / name, database_url=database_url),
                job_handlers={"slow": labeller},
            )
        )  # fmt: skip
        for name, labeller in labellers.items()
    }
    for client in clients.values():
        client.__enter__()
    try:
        pid = clients["a"].post("/api/projects", json={"name": "p"}).json()["id"]
        job_id = clients["a"].post(f"/api/projects/{pid}/jobs", json={"kind": "slow"}).json()["id"]
        while clients["b"].get(f"/api/jobs/{job_id}").json()["done"] < 2:
            time.sleep(0.01)
        owner = next(name for name, labeller in labellers.items() if labeller.started.is_set())
        other = "b" if owner == "a" else "a"
        labellers[owner].gate.clear()  # the owner sits between items, holding the job
        time.sleep(3)  # longer than a runner's poll: the other looks at the job and leaves it
        assert not labellers[other].started.is_set()
        labellers[owner].gate.set()
        clients.pop(owner).__exit__(None, None, None)  # mid-job: the job stays "running"
        job = _wait(clients[other], job_id, {"succeeded", "failed"})
        assert job["done"] == 10 and job["failed_items"] == 1
        ran = labellers[owner].calls + labellers[other].calls
        assert sorted(ran) == sorted(ITEMS) and labellers[other].calls  # each item once
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)


def test_progress_stream_sends_job_state(tmp_path: Path) -> None:
    import httpx

    from tests.server_process import ServerProcess  # a real server: SSE needs a real socket

    with ServerProcess(tmp_path / "data", env={"LASSOLABEL_SEED_DEMO": "false"}) as server:
        pid = httpx.post(server.url + "/api/projects", json={"name": "p"}).json()["id"]
        with httpx.stream(
            "GET", f"{server.url}/api/projects/{pid}/jobs/events", timeout=10
        ) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            first = [next(lines) for _ in range(3)]
            assert first[0].startswith("id: ") and first[1] == "event: jobs"
            assert json.loads(first[2].removeprefix("data: ")) == {"items": []}
            job = httpx.post(
                f"{server.url}/api/projects/{pid}/jobs",
                json={"kind": "import-folder", "params": {"path": "x"}},
            ).json()
            for line in lines:
                if line.startswith("data: "):
                    items = json.loads(line.removeprefix("data: "))["items"]
                    if items and items[0]["state"] == "failed":
                        break
            assert items[0]["id"] == job["id"] and "folder import is disabled" in items[0]["error"]
