"""Part/whole grouping: a part inherits the label a person confirmed on the whole around it.

Automatic masks nest (a car, its window; a building, a window of it): the segment job links
each to the smallest larger mask holding >= 90% of its pixels (`parent_id`). On camvid-dev
with MobileSAM every such part had its whole's true class, more often than any embedding
neighbour vote, so a confirmed whole decides its parts.
"""

from __future__ import annotations

import numpy as np

# A suggestion inherited from a confirmed whole: above the usual accept-all threshold.
PART_CONFIDENCE = 0.95


def inherited_labels(
    ids: np.ndarray, parents: np.ndarray, labels: np.ndarray, confirmed: np.ndarray
) -> np.ndarray:
    """(N,) int64: the label of each row's nearest ancestor whose label is confirmed, 0 when
    none. ids (N,) segment ids; parents (N,) parent segment id or 0; labels (N,) label id or
    0; confirmed (N,) bool. Ancestors outside `ids` end the walk."""
    row_of = {int(i): r for r, i in enumerate(ids.tolist())}
    found = np.zeros(len(ids), np.int64)
    for row in range(len(ids)):
        seen: set[int] = set()
        parent = int(parents[row])
        while parent and parent in row_of and parent not in seen:
            seen.add(parent)
            up = row_of[parent]
            if labels[up] and confirmed[up]:
                found[row] = labels[up]
                break
            parent = int(parents[up])
    return found
