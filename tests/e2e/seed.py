"""Seed a running server's data dir with segments, map positions, vectors and proposals.

The map endpoint reads positions written by the projection job; these tests need a known
layout, so they write segments and positions the way that job does, through the app's own
Database and MapStore.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.config import Settings
from app.db import Database
from app.maps.store import MapStore
from app.masks import encode_rle
from app.models import Segment, SegmentSource, Suggestion
from app.pipeline.vectors import VectorStores
from tests.fixtures.settings import make_settings


def seed_segments(
    data_dir: Path,
    *,
    project_id: int,
    image: dict,
    embedder: str,
    xy: np.ndarray,
    database_url: str | None = None,
) -> list[int]:
    """One small square segment per row of xy (N x 2 map coordinates); returns their ids."""
    db = Database(_settings(data_dir, database_url).resolved_database_url)
    try:
        with db.write() as session:
            rows = [
                _square(project_id, image, i, SegmentSource.auto if i % 2 else SegmentSource.manual)
                for i in range(len(xy))
            ]
            session.add_all(rows)
            session.flush()
            ids = [row.id for row in rows]
    finally:
        db.dispose()
    MapStore(data_dir / "maps").write(project_id, embedder, np.array(ids), xy)
    return ids


def _square(project_id: int, image: dict, i: int, source: SegmentSource) -> Segment:
    """The i-th 4x4 square of the image, walking it row by row."""
    height, width = image["height"], image["width"]
    mask = np.zeros((height, width), bool)
    x, y = i % (width - 4), (i // (width - 4)) % (height - 4)
    mask[y : y + 4, x : x + 4] = True
    return Segment(
        project_id=project_id,
        image_id=image["id"],
        rle_counts=encode_rle(mask)["counts"],
        height=height,
        width=width,
        bbox_x=x,
        bbox_y=y,
        bbox_w=4,
        bbox_h=4,
        area=16,
        source=source,
    )


def seed_proposal(
    data_dir: Path, *, project_id: int, image: dict, label_id: int, confidence: float
) -> int:
    """A segment proposed by the exemplar job (source=exemplar, off the map, no vector) and its
    exemplar suggestion; returns its id."""
    db = Database(_settings(data_dir).resolved_database_url)
    try:
        with db.write() as session:
            segment = _square(project_id, image, 99, SegmentSource.exemplar)
            session.add(segment)
            session.flush()
            session.add(
                Suggestion(
                    project_id=project_id,
                    segment_id=segment.id,
                    kind="exemplar",
                    label_id=label_id,
                    confidence=confidence,
                )
            )
            return segment.id
    finally:
        db.dispose()


def seed_vectors(
    data_dir: Path, *, project_id: int, embedder: str, ids: list[int], vectors: np.ndarray
) -> None:
    """Write (N, d) vectors for the ids into the project's store, as the embed job does. Call it
    before the server first reads that store (it keeps stores open once read)."""
    VectorStores(data_dir / "vectors").get(project_id, embedder, vectors.shape[1]).append(
        np.array(ids, np.int64), vectors.astype(np.float32)
    )


def _settings(data_dir: Path, database_url: str | None = None) -> Settings:
    return make_settings(data_dir, database_url=database_url)
