"""Concurrency against a real uvicorn on 127.0.0.1: 8 client processes x 250 overlapping batch
assigns on 20k segments, two-writer races, and live updates reaching a second client."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from app.models import Role
from tests.conftest import png_bytes
from tests.server_process import ServerProcess
from tests.team import consistency
from tests.team.conftest import add_segments, api_token, bearer, database, make_user, server_env

pytestmark = pytest.mark.slow

CLIENTS, ASSIGNS, SEGMENTS = 8, 250, 20_000


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None):  # type: ignore[no-untyped-def]
    data_dir: Path = tmp_path_factory.mktemp("concurrency") / "data"
    db = database(data_dir, module_database_url)
    token = api_token(db, make_user(db, "admin", Role.admin))
    with (
        ServerProcess(data_dir, env=server_env(module_database_url)) as server,
        httpx.Client(base_url=server.url, headers=bearer(token), timeout=60) as http,
    ):

        def project(name: str, count: int) -> dict:
            pid = http.post("/api/projects", json={"name": name}).json()["id"]
            files = [("files", ("a.png", png_bytes(), "image/png"))]
            image = http.post(f"/api/projects/{pid}/images", files=files).json()["imported"][0]
            labels = [
                http.post(f"/api/projects/{pid}/labels", json={"name": f"l{i}"}).json()["id"]
                for i in range(3)
            ]
            return {"pid": pid, "labels": labels, "ids": add_segments(db, pid, image["id"], count)}

        yield {"server": server, "http": http, "token": token, "db_url": db.url,
               "load": project("load", SEGMENTS), "race": project("race", 2_000)}  # fmt: skip
    db.dispose()


def test_eight_processes_of_overlapping_batches(lab: dict, tmp_path: Path) -> None:
    load = lab["load"]
    ids = load["ids"]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    labels = ",".join(str(x) for x in load["labels"]) + ",none"
    outputs = [tmp_path / f"client-{i}.json" for i in range(CLIENTS)]
    started = time.monotonic()
    clients = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.team.load_client",
                lab["server"].url,
                lab["token"],
                str(load["pid"]),
                str(ids[0]),
                str(len(ids)),
                labels,
                str(seed),
                str(ASSIGNS),
                str(out),
            ]  # fmt: skip
        )
        for seed, out in enumerate(outputs)
    ]
    assert all(c.wait(600) == 0 for c in clients)
    elapsed = time.monotonic() - started
    outcomes = [row for out in outputs for row in json.loads(out.read_text())]
    statuses = {status for status, *_ in outcomes}
    assert len(outcomes) == CLIENTS * ASSIGNS
    assert statuses <= {200, 409}, f"unexpected statuses {statuses}"
    acked = [
        (batch_id, batch, label) for status, batch_id, batch, label in outcomes if status == 200
    ]
    counts = consistency.check(lab["db_url"], load["pid"], acked)
    assert counts["batches"] == len(acked)  # a refused batch leaves no trace
    stale = sum(status == 409 for status, *_ in outcomes)
    print(f"\n{len(outcomes)} assigns in {elapsed:.1f}s ({len(outcomes) / elapsed:.0f}/s), "
          f"{len(acked)} acknowledged, {stale} refused as stale, 0 errors")  # fmt: skip


def race_once(
    clients: list[httpx.Client], url: str, ids: list[int], labels: list[int]
) -> list[int]:
    """Two writers send a batch over the same segments, both having seen version 1."""
    gate = threading.Barrier(len(clients))
    codes = [0] * len(clients)

    def write(index: int) -> None:
        body = {"segment_ids": ids, "label_id": labels[index],
                "expected_versions": {str(i): 1 for i in ids}}  # fmt: skip
        gate.wait()
        codes[index] = clients[index].post(url, json=body).status_code

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def test_two_writer_races_exactly_one_wins(lab: dict) -> None:
    race = lab["race"]
    url = f"/api/projects/{race['pid']}/assign"
    options = {"base_url": lab["server"].url, "headers": bearer(lab["token"]), "timeout": 60}
    with httpx.Client(**options) as a, httpx.Client(**options) as b:
        results = [
            race_once([a, b], url, race["ids"][r * 10 : r * 10 + 10], race["labels"][:2])
            for r in range(200)
        ]
    assert all(sorted(pair) == [200, 409] for pair in results), results
    consistency.check(lab["db_url"], race["pid"], [])


def test_a_label_change_reaches_another_client_live(lab: dict) -> None:
    race = lab["race"]
    pid, server = race["pid"], lab["server"]
    headers = bearer(lab["token"])
    received: list[tuple[float, dict]] = []
    connected = threading.Event()

    def listen() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http, \
                http.stream("GET", f"/api/projects/{pid}/events") as stream:  # fmt: skip
            event = None
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                    connected.set()
                elif line.startswith("data: ") and event == "labels":
                    received.append((time.monotonic(), json.loads(line[6:])))
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert connected.wait(30)
    sent = time.monotonic()
    ids = race["ids"][-5:]
    receipt = lab["http"].post(f"/api/projects/{pid}/assign",
                               json={"segment_ids": ids, "label_id": race["labels"][2]}).json()  # fmt: skip
    listener.join(30)
    assert received, "no live event arrived"
    arrived, event = received[0]
    assert event["batch_id"] == receipt["batch_id"]
    assert sorted(c[0] for c in event["changes"]) == ids
    latency = arrived - sent
    print(f"\nlive update latency: {latency * 1000:.0f} ms")
    assert latency < 5.0  # loose: the target is well under a second

    # Catch-up: a client reconnecting with Last-Event-ID gets what it missed, in order.
    missed = [
        lab["http"]
        .post(f"/api/projects/{pid}/assign", json={"segment_ids": ids[:1], "label_id": None})
        .json()["batch_id"]  # fmt: skip
        for _ in range(3)
    ]
    got: list[int] = []
    with (
        httpx.Client(base_url=server.url, headers=headers, timeout=30) as http,
        http.stream(
            "GET",
            f"/api/projects/{pid}/events",
            headers={"Last-Event-ID": str(receipt["batch_id"])},
        ) as stream,
    ):
        for line in stream.iter_lines():
            if line.startswith("id: ") and int(line[4:]) > receipt["batch_id"]:
                got.append(int(line[4:]))
            if len(got) == 3:
                break
    assert got == missed
