"""Integer columns from SQL straight into numpy, for queries over every segment of a project."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Executable
from sqlalchemy.orm import Session

FETCH_ROWS = 65_536


def int_columns(session: Session, query: Executable, width: int) -> np.ndarray:
    """(R, width) int64 from a select of `width` integer columns (no NULLs), read in chunks
    straight from the DBAPI cursor: SQLAlchemy Row objects cost ~5 s per million rows, plain
    tuples a fraction, and no more than one chunk of them exists at a time."""
    return number_columns(session, query, width, np.int64)


def number_columns(
    session: Session, query: Executable, width: int, dtype: type[np.number]
) -> np.ndarray:
    """(R, width) of `dtype` from a select of `width` numeric columns (no NULLs); see int_columns."""
    result = session.connection().execute(query)
    parts = [np.zeros((0, width), dtype)]
    try:
        while rows := result.cursor.fetchmany(FETCH_ROWS):
            parts.append(np.array(rows, dtype).reshape(-1, width))
    finally:
        result.close()
    return np.concatenate(parts)


def find_sorted(keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `wanted` (K,) stands in ascending `keys` (N,): (positions (K,), found (K,)
    bool). A position is 0 where not found, so index `keys` (or rows kept with it) only where
    found; `keys` may be empty."""
    wanted = np.asarray(wanted)
    at = np.searchsorted(keys, wanted)
    found = at < len(keys)
    found[found] = keys[at[found]] == wanted[found]
    return np.where(found, at, 0), found
