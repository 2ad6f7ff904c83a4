"""A label batch's changes as columns, stored as one compact record (`audit_blocks.changes`).

A whole-project assign of 1M segments used to write 1M audit rows (a second B-tree of the
same size as the segments it changed, ~1 s of a 1M assign and as much of its undo). Its
changes are four integer columns that compress to almost nothing: the ids ascending (stored as
differences, mostly 1), the previous labels (a few distinct values), the new label (one value)
and the new versions. Mask changes keep their per-segment rows (`audit_changes`, with the JSON
their undo needs).

Format: one version byte, then zlib of the (4, K) little-endian int64 array (segment id
differences, old label, new label, new version), label 0 meaning none.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

_FORMAT = 1
_ROWS = 4


@dataclass(frozen=True)
class Changes:
    """A batch's label changes as (K,) int64 columns, by segment id ascending; label 0 is none."""

    segment_ids: np.ndarray
    old_labels: np.ndarray
    new_labels: np.ndarray
    new_versions: np.ndarray

    def __len__(self) -> int:
        return len(self.segment_ids)

    def page(self, after: int, limit: int) -> Changes:
        """Up to `limit` changes of segments with id > `after` (a keyset page)."""
        start = int(np.searchsorted(self.segment_ids, after, side="right"))
        window = slice(start, start + limit)
        return Changes(
            self.segment_ids[window],
            self.old_labels[window],
            self.new_labels[window],
            self.new_versions[window],
        )

    def inverse(self) -> Changes:
        """The changes undoing these: labels swapped, every version bumped once more."""
        return Changes(self.segment_ids, self.new_labels, self.old_labels, self.new_versions + 1)

    def rows(self) -> list[tuple[int, int | None, int | None, int]]:
        """(segment id, old label, new label, new version) per change, None for no label."""
        columns = (self.segment_ids, self.old_labels, self.new_labels, self.new_versions)
        return [
            (sid, old or None, new or None, version)
            for sid, old, new, version in zip(*(c.tolist() for c in columns), strict=True)
        ]


def encode(changes: Changes) -> bytes:
    table = np.stack(
        [
            np.diff(changes.segment_ids, prepend=0),
            changes.old_labels,
            changes.new_labels,
            changes.new_versions,
        ]
    ).astype("<i8")
    return bytes([_FORMAT]) + zlib.compress(table.tobytes(), 1)


def decode(data: bytes) -> Changes:
    if not data or data[0] != _FORMAT:
        raise ValueError("not an audit block of a known format")
    table = np.frombuffer(zlib.decompress(data[1:]), "<i8").reshape(_ROWS, -1).astype(np.int64)
    return Changes(np.cumsum(table[0]), table[1], table[2], table[3])
