"""The review order of labels nobody saw: most likely wrong first.

A lasso labels its whole selection, but the person saw only the first gallery page; accept-all
labels segments nobody looked at. Each such label is checked against the labels a person did
see: the share of its nearest confirmed neighbours' vote (embedding space, as propagation
votes) that agrees with it. The least supported come first, so a review page shows the
errors while they are many; the ones without a vector, or before anything is confirmed, come
last, by id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.columns import int_columns
from app.embeddings.store import VectorStore
from app.models import Segment
from app.similar.propagate import label_support


@dataclass(frozen=True)
class Doubt:
    segment_id: int
    image_id: int
    label_id: int
    support: float | None  # share of the confirmed neighbours agreeing; None: not checked


def review_order(
    *, session: Session, store: VectorStore | None, project_id: int, limit: int, offset: int = 0
) -> tuple[list[Doubt], int]:
    """(one page of unconfirmed labelled segments, least supported first; how many there are)."""
    # As columns: a project's labelled segments can be a million.
    rows = int_columns(
        session,
        select(Segment.id, Segment.image_id, Segment.label_class_id, Segment.confirmed)
        .where(Segment.project_id == project_id, Segment.label_class_id.is_not(None))
        .order_by(Segment.id),
        4,
    )
    ids, image_ids, labels = rows[:, 0], rows[:, 1], rows[:, 2]
    confirmed = rows[:, 3].astype(bool)
    support = _support(store, ids, labels, confirmed)
    todo = np.flatnonzero(~confirmed)
    # NaN (unchecked) sorts last; ties keep id order.
    order = todo[np.argsort(support[todo], kind="stable")]
    page = order[offset : offset + limit]
    items = [
        Doubt(int(ids[i]), int(image_ids[i]), int(labels[i]),
              None if np.isnan(support[i]) else float(support[i]))
        for i in page
    ]  # fmt: skip
    return items, len(todo)


def _support(
    store: VectorStore | None, ids: np.ndarray, labels: np.ndarray, confirmed: np.ndarray
) -> np.ndarray:
    """(N,) float64 label support of every row, NaN where it cannot be checked."""
    support = np.full(len(ids), np.nan)
    if store is None or not len(ids):
        return support
    have = store.contains(ids)
    trusted, checked = have & confirmed, have & ~confirmed
    if not trusted.any() or not checked.any():
        return support
    support[checked] = label_support(
        store.get(ids[trusted]), labels[trusted], store.get(ids[checked]), labels[checked]
    )
    return support
