"""The encoded map of each project, reused while nothing it shows has changed.

Building the map reads every segment row (1.7-3 s for a million on SQLite); opening it should
not. The encoded bytes (app/maps/wire.py) are kept in memory and on disk beside the positions,
under a key read in a few queries: the positions file, the label list, the count and largest
id of the project's segments and its last audit batch. When only the audit log moved (label
batches: assigns, undos, accepted suggestions, by anyone, in any process) or segments were
added (unplaced until the next projection) or masks edited, the cached map is patched: label
and version columns from the audit changes after the cached batch, the header's counts, the
edited segments' areas; anything else (a projection, a label list change, a deletion)
rebuilds.
"""

from __future__ import annotations

import json
import struct
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.columns import find_sorted, int_columns
from app.history.audit import changes_between
from app.idset import id_in
from app.maps.service import build_map, label_index, source_index
from app.maps.store import MapStore
from app.maps.wire import decode_map, encode_map, replace_header
from app.models import AuditBatch, Project, Segment
from app.services.image_files import write_atomic
from app.services.labels import list_labels

CACHE_FILE = "map-cache.bin"


@dataclass(frozen=True)
class MapKey:
    """What the encoded map depends on; equal keys mean equal maps."""

    positions: list[int]  # the positions file's inode, size, mtime_ns (zeros: none)
    labels: list[list[int | str]]  # [id, name, color] in map order
    segments: list[int]  # count and largest id of the project's segments
    batch: int  # the project's last audit batch id (0: none)

    def same_points(self, newer: MapKey) -> bool:
        """Whether `newer` places the same points with the same label list (labels, versions
        and unplaced segments may have moved on)."""
        return self.positions == newer.positions and self.labels == newer.labels


def current_key(session: Session, project: Project, store: MapStore) -> MapKey:
    path = store.path(project.id, project.embedder)
    stat = path.stat() if path.is_file() else None
    count, largest = session.execute(
        select(func.count(), func.coalesce(func.max(Segment.id), 0)).where(
            Segment.project_id == project.id
        )
    ).one()
    batch = session.execute(
        select(func.coalesce(func.max(AuditBatch.id), 0)).where(AuditBatch.project_id == project.id)
    ).scalar_one()
    return MapKey(
        positions=[stat.st_ino, stat.st_size, stat.st_mtime_ns] if stat else [0, 0, 0],
        labels=[[label.id, label.name, label.color] for label in list_labels(session, project.id)],
        segments=[count, largest],
        batch=batch,
    )


class MapCache:
    """The last encoded map of each (project, embedder), in memory and in one file each."""

    def __init__(self, store: MapStore) -> None:
        self.store = store
        self._held: dict[tuple[int, str], tuple[MapKey, bytes]] = {}
        self._locks: dict[tuple[int, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def encoded(self, session: Session, project: Project) -> bytes:
        """The binary map of `project` as of `session`'s snapshot (app/maps/wire.py)."""
        slot = (project.id, project.embedder)
        with self._guard:
            lock = self._locks.setdefault(slot, threading.Lock())
        with lock:  # one build per project at a time; the others wait and reuse it
            key = current_key(session, project, self.store)
            held = self._held.get(slot) or self._load(project)
            if held is not None and held[0] == key:
                return held[1]
            body = None
            if held is not None and held[0].same_points(key):
                body = _patched(session, project.id, held, key)
            if body is None:
                body = _built(session, project, self.store)
            self._held[slot] = (key, body)
            self._save(project, key, body)
            return body

    def _file(self, project: Project) -> Path:
        return self.store.path(project.id, project.embedder).with_name(CACHE_FILE)

    def _load(self, project: Project) -> tuple[MapKey, bytes] | None:
        path = self._file(project)
        if not path.is_file():
            return None
        data = path.read_bytes()
        (length,) = struct.unpack_from("<I", data)
        try:
            key = MapKey(**json.loads(data[4 : 4 + length]))
        except (TypeError, ValueError):
            return None  # written by another version: rebuilt
        return key, data[4 + length :]

    def _save(self, project: Project, key: MapKey, body: bytes) -> None:
        meta = json.dumps(asdict(key)).encode()
        write_atomic(self._file(project), struct.pack("<I", len(meta)) + meta + body)


def _built(session: Session, project: Project, store: MapStore) -> bytes:
    data = build_map(session, project, store)
    extra = {"area": data.area, "source": data.source}
    return encode_map(
        data.xy, data.segment_ids, data.label_index, data.versions, data.header, extra
    )


def _patched(
    session: Session, project_id: int, held: tuple[MapKey, bytes], key: MapKey
) -> bytes | None:
    """`held`'s map brought up to `key`: the label changes of the audit batches in between and
    the count of segments added since (not placed yet: a segment job, a new mask), the area
    and source of segments whose mask changed; or None when a segment was deleted."""
    after, upto = held[0].batch, key.batch
    added = _added_since(session, project_id, held[0].segments, key.segments)
    if added is None:
        return None
    batches = (AuditBatch.project_id == project_id) & AuditBatch.id.between(after + 1, upto)
    masks = session.execute(select(func.count()).where(batches, AuditBatch.masks_kept))
    masks_changed = bool(masks.scalar_one())
    changes = changes_between(session, project_id, after, upto)
    body = bytearray(held[1] if not added else _with_unplaced(held[1], added))
    _, columns = decode_map(body)  # views into `body`: writing them patches it
    placed = columns["segment_id"]  # sorted
    ids, labels, versions = _last_per_segment(changes)
    rows, shown = find_sorted(placed, ids)
    rows = rows[shown]
    columns["label"][rows] = label_index(labels[shown], [int(k[0]) for k in key.labels])
    columns["version"][rows] = versions[shown]
    if masks_changed:  # an edit, split or undone deletion: the area (and source) may differ
        areas = int_columns(
            session,
            select(Segment.id, Segment.area, source_index())
            .where(id_in(Segment.id, ids[shown]))
            .order_by(Segment.id),
            3,
        )
        at = np.searchsorted(placed, areas[:, 0])
        columns["area"][at] = areas[:, 1]
        columns["source"][at] = areas[:, 2]
    return bytes(body)


def _added_since(
    session: Session, project_id: int, before: list[int], now: list[int]
) -> int | None:
    """How many segments were added between two (count, largest id) readings, or None when
    some were deleted too (ids only grow, so the count above the old largest id says)."""
    (count, largest), (count_now, largest_now) = before, now
    if count_now == count and largest_now == largest:
        return 0
    newer = session.execute(
        select(func.count()).where(Segment.project_id == project_id, Segment.id > largest)
    ).scalar_one()
    return newer if count_now - count == newer else None


def _with_unplaced(body: bytes, added: int) -> bytes:
    """The encoded map with `added` more segments counted, none of them placed."""
    header, _ = decode_map(body)
    header["segments_total"] += added
    header["unplaced"] += added
    return replace_header(body, header)


def _last_per_segment(changes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R, 3) [segment id, label id (0 none), version] rows, oldest batch first -> each
    segment's last row as (ids, label ids, versions)."""
    if not len(changes):
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    newest_first = changes[::-1]
    ids, first = np.unique(newest_first[:, 0], return_index=True)
    return ids, newest_first[first, 1], newest_first[first, 2]
