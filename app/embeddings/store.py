"""VectorStore: one project's vectors for one embedder, as a file-backed float16 matrix.

Layout in `path_dir`:
  manifest.json        {"file": "vectors-000001.bin", "rows": n, "dim": d}: the only truth
  vectors-NNNNNN.bin   append-only records (int64 id, float16[dim]); later records win
A negative id -(id + 1) is a tombstone (removal). An append writes records after the committed
rows, fsyncs, then replaces the manifest atomically: a crash leaves at worst a torn tail past
`rows`, which readers ignore and the next writer truncates. rebuild() writes a new numbered
file and swaps the manifest to it, so open readers keep their snapshot (POSIX unlink semantics).
One writer (process) at a time; any number of readers, each seeing its last refresh().
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from pathlib import Path
from typing import BinaryIO

import numpy as np

from app.columns import find_sorted

MANIFEST = "manifest.json"
# Records per read (42 MB of 1280-d records).
READ_ROWS = 16_384
# Compact when more than half the records are dead and there are at least this many.
COMPACT_MIN_DEAD = 4096


class VectorStore:
    """Segment-id -> float16[dim] vectors. ids are int64 >= 0."""

    def __init__(self, path_dir: Path, dim: int, *, readonly: bool = False) -> None:
        self.path_dir = Path(path_dir)
        self.dim = dim
        self.readonly = readonly
        self._record = np.dtype([("id", "<i8"), ("vector", "<f2", (dim,))])
        self._lock = threading.RLock()
        self._close: weakref.finalize | None = None
        self._handle: BinaryIO | None = None
        if not readonly:
            self.path_dir.mkdir(parents=True, exist_ok=True)
            if not (self.path_dir / MANIFEST).exists():
                self._write_manifest("vectors-000001.bin", 0)
        self.refresh()
        if not readonly:
            self._recover()

    # reading -----------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the manifest and open the committed records (readers call this to catch up).

        The file stays open, not mapped: reads copy what they need with pread, so its pages
        never count in this process's resident memory (a mapping kept open made every record
        of a 1M x 1280 store, 2.4 GB, count in the server's RSS once read, and the kernel's
        fault-around mapped most of the file for a 20k-row random sample)."""
        for attempt in range(3):
            manifest = json.loads((self.path_dir / MANIFEST).read_text())
            if manifest["dim"] != self.dim:
                raise ValueError(
                    f"{self.path_dir} holds {manifest['dim']}-d vectors, not {self.dim}"
                )
            if self._catch_up(manifest["file"], int(manifest["rows"])):
                return
            try:
                # Kept open (a rebuild's unlink leaves this snapshot readable); none when empty.
                path = self.path_dir / manifest["file"]
                file = open(path, "rb") if manifest["rows"] else None  # noqa: SIM115
                break
            except FileNotFoundError:  # a rebuild swapped files between our two reads
                if attempt == 2:
                    raise
        with self._lock:
            if self._close is not None:
                self._close()
            self._file, self._rows, self._handle = manifest["file"], int(manifest["rows"]), file
            # Closed with the store, without an "unclosed file" warning.
            self._close = None if file is None else weakref.finalize(self, file.close)
            ids = self._read(np.arange(self._rows), "id")
            self._index_ids, self._index_rows = _live_index(ids)

    def _catch_up(self, file: str, rows: int) -> bool:
        """Index only the records appended to the open file since the last refresh: rereading
        every record's id (all of the file) after each append made an embed job quadratic,
        about a second per image at 1M vectors. False when the file itself changed."""
        with self._lock:
            if self._handle is None or file != self._file or rows < self._rows:
                return False
            tail_ids = self._read(np.arange(self._rows, rows), "id")
            tail, tail_rows = _latest_records(tail_ids)
            tail_rows += self._rows
            at, known = find_sorted(self._index_ids, tail)
            ids = np.delete(self._index_ids, at[known])
            index_rows = np.delete(self._index_rows, at[known])
            live = tail_ids[tail_rows - self._rows] >= 0
            at = np.searchsorted(ids, tail[live])
            self._index_ids = np.insert(ids, at, tail[live])
            self._index_rows = np.insert(index_rows, at, tail_rows[live])
            self._rows = rows
            return True

    def __len__(self) -> int:
        return len(self._index_ids)

    @property
    def generation(self) -> tuple[str, int]:
        """Changes on every committed write (the record file and its committed row count), so
        derived structures such as a search index know when to rebuild."""
        return self._file, self._rows

    def ids(self) -> np.ndarray:
        """Sorted int64 ids of all stored vectors."""
        return self._index_ids.copy()

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """bool per id: is a vector stored for it."""
        return self._positions(np.asarray(ids, np.int64))[1]

    def get(self, ids: np.ndarray) -> np.ndarray:
        """(len(ids), dim) float16 in the order of ids; KeyError if any is missing."""
        ids = np.asarray(ids, np.int64)
        with self._lock:
            rows, found = self._positions(ids)
            if not found.all():
                raise KeyError(f"no vectors for ids {ids[~found][:10].tolist()}")
            return self._read(rows, "vector")

    def all(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids (N,) int64 sorted, vectors (N, dim) float16) of everything stored."""
        with self._lock:
            return self._index_ids.copy(), self._read(self._index_rows, "vector")

    def rows(self, ids: np.ndarray) -> StoreRows:
        """These ids' vectors as an (len(ids), dim) float16 matrix read only when indexed."""
        return StoreRows(self, np.asarray(ids, np.int64))

    # writing -----------------------------------------------------------------
    def append(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Store (N,) ids with (N, dim) vectors (cast to float16), replacing existing ids."""
        ids = np.asarray(ids, np.int64)
        vectors = np.asarray(vectors)
        if vectors.shape != (len(ids), self.dim) or (ids < 0).any():
            raise ValueError(
                f"need ids >= 0 and ({len(ids)}, {self.dim}) vectors, got {vectors.shape}"
            )
        self._write_records(ids, vectors)

    def remove(self, ids: np.ndarray) -> None:
        """Forget the vectors of these ids (missing ids are ignored)."""
        ids = np.asarray(ids, np.int64)
        ids = ids[self.contains(ids)]
        if ids.size:
            self._write_records(-(ids + 1), np.zeros((len(ids), self.dim), np.float16))

    def rebuild(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Replace the whole content: write a new file, then swap the manifest to it."""
        ids, vectors = np.asarray(ids, np.int64), np.asarray(vectors)
        if vectors.shape != (len(ids), self.dim) or (ids < 0).any():
            raise ValueError(
                f"need ids >= 0 and ({len(ids)}, {self.dim}) vectors, got {vectors.shape}"
            )
        keep = np.unique(ids[::-1], return_index=True)[1]
        records = self._records_of(ids[::-1][keep], vectors[::-1][keep])
        with self._lock:
            self._check_writable()
            old, number = self._file, int(self._file[8:14]) + 1
            new = f"vectors-{number:06d}.bin"
            with open(self.path_dir / new, "wb") as f:
                f.write(records.tobytes())
                f.flush()
                os.fsync(f.fileno())
            self._write_manifest(new, len(records))
            (self.path_dir / old).unlink(missing_ok=True)
            self.refresh()

    def compact(self) -> None:
        """Drop replaced and removed records (rebuild with the live content)."""
        self.rebuild(*self.all())

    # internals ---------------------------------------------------------------
    def _write_records(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        records = self._records_of(ids, vectors)
        with self._lock:
            self._check_writable()
            with open(self.path_dir / self._file, "r+b") as f:
                f.seek(self._rows * self._record.itemsize)
                f.write(records.tobytes())
                f.flush()
                os.fsync(f.fileno())
            self._write_manifest(self._file, self._rows + len(records))
            self.refresh()
            dead = self._rows - len(self)
            if dead >= COMPACT_MIN_DEAD and dead > len(self):
                self.compact()

    def _records_of(self, ids: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        records = np.empty(len(ids), self._record)
        records["id"] = ids
        records["vector"] = vectors
        return records

    def _recover(self) -> None:
        """Cut a torn tail (bytes past the committed rows) and files no manifest points to."""
        data = self.path_dir / self._file
        data.touch()
        committed = self._rows * self._record.itemsize
        if data.stat().st_size != committed:
            os.truncate(data, committed)
        for stray in self.path_dir.glob("vectors-*.bin"):
            if stray.name != self._file:
                stray.unlink()
        for tmp in self.path_dir.glob(f".{MANIFEST}.*"):
            tmp.unlink()

    def _read(self, rows: np.ndarray, field: str) -> np.ndarray:
        """`field` of these committed records (any order) by pread, in chunks of rows sorted
        by position: a dense chunk is one read of its span, a sparse one a read per record.
        Never through a mapping (see refresh). Call with the lock held."""
        out = np.empty((len(rows), *self._record[field].shape), self._record[field].base)
        if self._handle is None:
            return out  # no committed records: `rows` is empty
        size, fd = self._record.itemsize, self._handle.fileno()
        order = np.argsort(rows, kind="stable")
        for start in range(0, len(rows), READ_ROWS):
            at = order[start : start + READ_ROWS]
            wanted = rows[at]
            first, span = int(wanted[0]), int(wanted[-1] - wanted[0]) + 1
            if span <= 2 * len(wanted):
                block = np.frombuffer(os.pread(fd, span * size, first * size), self._record)
                out[at] = block[field][wanted - first]
            else:
                parts = b"".join(os.pread(fd, size, int(row) * size) for row in wanted)
                out[at] = np.frombuffer(parts, self._record)[field]
        return out

    def _positions(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = np.minimum(np.searchsorted(self._index_ids, ids), max(len(self._index_ids) - 1, 0))
        if len(self._index_ids) == 0:
            return at, np.zeros(len(ids), bool)
        return self._index_rows[at], self._index_ids[at] == ids

    def _write_manifest(self, file: str, rows: int) -> None:
        tmp = self.path_dir / f".{MANIFEST}.{os.getpid()}"
        tmp.write_text(json.dumps({"file": file, "rows": rows, "dim": self.dim}))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.path_dir / MANIFEST)

    def _check_writable(self) -> None:
        if self.readonly:
            raise PermissionError(f"{self.path_dir} was opened read-only")


def _live_index(record_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted live ids, row of each id's latest record) from the (R,) record id column."""
    unique, rows = _latest_records(record_ids)
    live = record_ids[rows] >= 0
    return unique[live], rows[live]


def _latest_records(record_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted ids, row of each id's latest record, tombstone or not) from (R,) record ids."""
    keys = np.where(record_ids < 0, -record_ids - 1, record_ids)
    unique, first = np.unique(keys[::-1], return_index=True)
    return unique.astype(np.int64), len(keys) - 1 - first


class StoreRows:
    """(N, dim) float16 vectors of N ids of a store, read only when indexed: `rows[a:b]` or
    `rows[int array]` reads those rows, np.asarray(rows) all of them. A projector reads the
    1M x 1280 vectors of a fit (2.5 GB) a chunk at a time instead of holding a copy."""

    def __init__(self, store: VectorStore, ids: np.ndarray) -> None:
        self._store = store
        self._ids = ids
        self.shape = (len(ids), store.dim)
        self.ndim = 2
        self.dtype = np.dtype(np.float16)

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray:
        return self._store.get(self._ids[key])

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        vectors = self._store.get(self._ids)
        return vectors if dtype is None else vectors.astype(dtype, copy=False)
