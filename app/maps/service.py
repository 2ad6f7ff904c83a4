"""Build a project's map: stored positions joined with each segment's current label."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.maps.store import MapStore
from app.models import Project, Segment, SegmentSource
from app.services.labels import list_labels


@dataclass(frozen=True)
class MapData:
    """Placed segments only: xy (N, 2) float32, segment_ids (N,) int64, label_index (N,) int32
    (-1 unlabelled), versions (N,) int64 (each segment's version, for expected_versions),
    area (N,) int64 pixels, source (N,) uint8 indexing SOURCES (header["sources"])."""

    xy: np.ndarray
    segment_ids: np.ndarray
    label_index: np.ndarray
    versions: np.ndarray
    area: np.ndarray
    source: np.ndarray
    header: dict[str, Any]


SOURCES = [source.value for source in SegmentSource]


def build_map(session: Session, project: Project, store: MapStore) -> MapData:
    ids, xy = store.read(project.id, project.embedder)
    labels = list_labels(session, project.id)
    index_of = {label.id: i for i, label in enumerate(labels)}
    rows = session.execute(
        select(
            Segment.id, Segment.label_class_id, Segment.version, Segment.area, Segment.source
        ).where(Segment.project_id == project.id)
    ).all()
    segment_ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    label_ids = np.fromiter(
        (index_of.get(r[1], -1) if r[1] is not None else -1 for r in rows), np.int32, len(rows)
    )
    versions = np.fromiter((r[2] for r in rows), np.int64, len(rows))
    areas = np.fromiter((r[3] for r in rows), np.int64, len(rows))
    source_of = {name: i for i, name in enumerate(SOURCES)}
    sources = np.fromiter((source_of[r[4]] for r in rows), np.uint8, len(rows))
    # Positions of deleted segments are dropped; segments not yet projected are counted.
    present = np.isin(ids, segment_ids)
    ids, xy = ids[present], xy[present]
    order = np.argsort(segment_ids)
    row_of = np.searchsorted(segment_ids[order], ids)
    header = {
        "project_id": project.id,
        "embedder": project.embedder,
        "labels": [
            {"index": i, "id": label.id, "name": label.name, "color": label.color}
            for i, label in enumerate(labels)
        ],
        "sources": SOURCES,
        "segments_total": len(rows),
        "unplaced": len(rows) - len(ids),
    }
    return MapData(
        xy=xy,
        segment_ids=ids,
        label_index=label_ids[order][row_of],
        versions=versions[order][row_of],
        area=areas[order][row_of],
        source=sources[order][row_of],
        header=header,
    )


def labelled_counts(session: Session, project_id: int) -> dict[int | None, int]:
    """Segments per label id (None = unlabelled)."""
    query = (
        select(Segment.label_class_id, func.count())
        .where(Segment.project_id == project_id)
        .group_by(Segment.label_class_id)
    )
    return {label_id: n for label_id, n in session.execute(query)}
