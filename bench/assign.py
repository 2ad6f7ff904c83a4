"""Batch-assign speed: one label on N segments in one transaction (goal: 100k under 1 s).

    .venv/bin/python bench/assign.py [--n 100000] [--repeat 5]

Compares the service (one UPDATE over a json_each id list, version bump, audit rows by
executemany, one BEGIN IMMEDIATE transaction) with the naive ORM peer (load every Segment
object, set attributes, flush).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from app.db import Database  # noqa: E402
from app.history.audit import Actor  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import Image, LabelClass, Project, Segment  # noqa: E402
from app.services.assign import assign_labels  # noqa: E402
from tests.fixtures.placeholders import PLACEHOLDER_MASK  # noqa: E402

BENCH = Actor(None, "bench")


def seed(db: Database, n: int) -> tuple[int, list[int], list[int]]:
    with db.write() as session:
        project = Project(name="bench")
        session.add(project)
        session.flush()
        image = Image(
            project_id=project.id,
            sha256="0" * 64,
            filename="x",
            width=4,
            height=4,
            format="PNG",
            byte_size=1,
            stored_path="x",
        )
        labels = [
            LabelClass(project_id=project.id, name=f"l{i}", color="#000000") for i in range(2)
        ]
        session.add_all([image, *labels])
        session.flush()
        rows = [
            dict(
                project_id=project.id,
                image_id=image.id,
                source="auto",
                version=1,
                **PLACEHOLDER_MASK,
            )
            for _ in range(n)
        ]
        session.execute(insert(Segment), rows)
        ids = list(session.scalars(select(Segment.id).where(Segment.project_id == project.id)))
        return project.id, ids, [label.id for label in labels]


def time_it(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        db = Database(url)
        project_id, ids, labels = seed(db, args.n)
        state = {"i": 0}

        def ours() -> None:
            state["i"] += 1
            with db.write() as session:
                assign_labels(
                    session=session,
                    project_id=project_id,
                    segment_ids=ids,
                    label_id=labels[state["i"] % 2],
                    actor=BENCH,
                )

        def naive_orm() -> None:
            state["i"] += 1
            with db.write() as session:
                for segment in session.scalars(select(Segment).where(Segment.id.in_(ids[:30000]))):
                    segment.label_class_id = labels[state["i"] % 2]
                    segment.version += 1

        ours_t = time_it(ours, args.repeat)
        peer_t = [
            t * len(ids) / min(len(ids), 30000)
            for t in time_it(naive_orm, max(1, args.repeat // 2))
        ]
        db.dispose()
    print(f"batch assign of {len(ids):,} segments (SQLite file, one transaction)")
    print(f"{'method':<34}{'median s':>10}{'min s':>10}")
    print(
        f"{'ours (UPDATE+audit, versioned)':<34}{statistics.median(ours_t):>10.3f}{min(ours_t):>10.3f}"
    )
    print(
        f"{'naive ORM objects (scaled from 30k)':<34}{statistics.median(peer_t):>10.3f}{min(peer_t):>10.3f}"
    )
    print(f"ratio naive/ours: {statistics.median(peer_t) / statistics.median(ours_t):.1f}x")


if __name__ == "__main__":
    main()
