"""Build a project's map: stored positions joined with each segment's current label."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from app.columns import int_columns
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
    columns = int_columns(
        session,
        select(
            Segment.id,
            func.coalesce(Segment.label_class_id, 0),
            Segment.version,
            Segment.area,
            source_index(),
        )
        .where(Segment.project_id == project.id)
        .order_by(Segment.id),
        5,
    )
    segment_ids, label_ids, versions, areas, sources = columns.T
    # Positions of deleted segments are dropped; segments not yet projected are counted.
    present = np.isin(ids, segment_ids)
    ids, xy = ids[present], xy[present]
    row_of = np.searchsorted(segment_ids, ids)
    header = {
        "project_id": project.id,
        "embedder": project.embedder,
        "labels": [
            {"index": i, "id": label.id, "name": label.name, "color": label.color}
            for i, label in enumerate(labels)
        ],
        "sources": SOURCES,
        "segments_total": len(segment_ids),
        "unplaced": len(segment_ids) - len(ids),
    }
    return MapData(
        xy=xy,
        segment_ids=ids,
        label_index=label_index(label_ids[row_of], [label.id for label in labels]),
        versions=versions[row_of],
        area=areas[row_of],
        source=sources[row_of].astype(np.uint8),
        header=header,
    )


def source_index() -> ColumnElement[int]:
    """Each segment's source as its index into SOURCES (the map's `source` column)."""
    return case(
        {name: i for i, name in enumerate(SOURCES)}, value=Segment.source, else_=len(SOURCES)
    )


def label_index(label_ids: np.ndarray, known: list[int]) -> np.ndarray:
    """(N,) label ids (0 = none) -> (N,) int32 index into `known`, -1 for none or unknown."""
    order = np.argsort(known)
    sorted_known = np.asarray(known, np.int64)[order]
    at = np.minimum(np.searchsorted(sorted_known, label_ids), max(len(known) - 1, 0))
    found = (sorted_known[at] == label_ids) if len(known) else np.zeros(len(label_ids), bool)
    return np.where(found, order[at] if len(known) else -1, -1).astype(np.int32)


def labelled_counts(session: Session, project_id: int) -> dict[int | None, int]:
    """Segments per label id (None = unlabelled)."""
    query = (
        select(Segment.label_class_id, func.count())
        .where(Segment.project_id == project_id)
        .group_by(Segment.label_class_id)
    )
    return {label_id: n for label_id, n in session.execute(query)}
