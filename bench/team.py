"""Team load: N simulated annotators against a real `lassolabel serve` on loopback.

Each annotator (its own process) loops for --seconds over a realistic mix: map reads,
thumbnails, single-segment labels (version-checked) and batch assigns of 100-5000 segments,
with auth required (Bearer tokens). Prints throughput, p50/p95 per operation and errors.
No peer runs here (Label Studio/CVAT are not installable offline), so no ratio is printed.

    .venv/bin/python bench/team.py --annotators 10 --seconds 20
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

MIX = [("map", 2), ("thumbnail", 4), ("label_one", 10), ("assign_batch", 2)]


def _png(seed: int) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (seed * 37 % 255, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def seed(data_dir: Path, url: str, token: str, segments: int) -> dict:
    db = Database(f"sqlite:///{data_dir / 'lassolabel.db'}")
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
                rle_counts="0",
                height=4,
                width=4,
                bbox_x=0,
                bbox_y=0,
                bbox_w=1,
                bbox_h=1,
                area=1,
                source=SegmentSource.auto,
            )  # fmt: skip
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
    url, token, world, seconds, seed_ = args
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--annotators", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--segments", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        upgrade(f"sqlite:///{data_dir / 'lassolabel.db'}")
        db = Database(f"sqlite:///{data_dir / 'lassolabel.db'}")
        with db.write() as session:
            uid = create_user(session, username="bench", role=Role.admin).id
            token = issue_token(session, user_id=uid, kind=TokenKind.api, ttl=None)
        db.dispose()
        port = free_port()
        env = {**os.environ, "LASSOLABEL_DATA_DIR": str(data_dir), "LASSOLABEL_AUTH": "required",
               "LASSOLABEL_SEED_DEMO": "false", "LASSOLABEL_SEGMENTER": "classic",
               "LASSOLABEL_LOG_LEVEL": "warning"}  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)], env=env
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            world = seed(data_dir, url, token, args.segments)
            jobs = [(url, token, world, args.seconds, i) for i in range(args.annotators)]
            with multiprocessing.get_context("spawn").Pool(args.annotators) as pool:
                results = pool.map(annotator, jobs)
        finally:
            server.terminate()
            server.wait(30)
    report(results, args)


def report(results: list[list[tuple[str, float, int]]], args: argparse.Namespace) -> None:
    by_op: defaultdict[str, list[float]] = defaultdict(list)
    errors, stale, total = 0, 0, 0
    for samples in results:
        for op, seconds, status in samples:
            total += 1
            by_op[op].append(seconds * 1000)
            stale += status == 409
            errors += status >= 500 or status in (0, 401, 403, 404)
    print(f"\n{args.annotators} annotators, {args.seconds:.0f} s, {args.segments} segments, "
          f"loopback, auth required")  # fmt: skip
    print(f"{'operation':<14}{'count':>8}{'per s':>9}{'p50 ms':>9}{'p95 ms':>9}")
    for op, _ in MIX:
        times = sorted(by_op[op])
        if times:
            p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
            print(f"{op:<14}{len(times):>8}{len(times) / args.seconds:>9.1f}"
                  f"{statistics.median(times):>9.1f}{p95:>9.1f}")  # fmt: skip
    print(f"{'all':<14}{total:>8}{total / args.seconds:>9.1f}")
    print(f"errors: {errors}   stale-version refusals (409, expected): {stale}")


if __name__ == "__main__":
    main()
