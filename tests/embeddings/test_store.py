"""VectorStore: float16 records on disk, last write wins, crash-safe tail, atomic rebuild."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.embeddings.store import MANIFEST, VectorStore

DIM = 8


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)


def _data_file(root: Path) -> Path:
    return root / json.loads((root / MANIFEST).read_text())["file"]


def test_append_get_all(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, DIM)
    vectors = _vectors(5)
    store.append(np.array([10, 3, 7, 1, 5]), vectors)
    assert len(store) == 5
    got = store.get(np.array([7, 10]))
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, vectors[[2, 0]].astype(np.float16))
    ids, all_vectors = store.all()
    assert ids.tolist() == [1, 3, 5, 7, 10]
    np.testing.assert_array_equal(all_vectors[0], vectors[3].astype(np.float16))
    assert store.contains(np.array([3, 4])).tolist() == [True, False]
    with pytest.raises(KeyError):
        store.get(np.array([4]))


def test_append_replaces_existing_ids_and_remove_forgets(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, DIM)
    store.append(np.arange(4), _vectors(4))
    new = _vectors(2, seed=1)
    store.append(np.array([1, 3]), new)
    store.remove(np.array([0, 99]))
    assert store.ids().tolist() == [1, 2, 3]
    np.testing.assert_array_equal(store.get(np.array([3])), new[1:].astype(np.float16))


def test_reopen_sees_everything(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, DIM)
    store.append(np.arange(3), _vectors(3))
    store.remove(np.array([1]))
    store.append(np.array([2]), _vectors(1, seed=5))
    reopened = VectorStore(tmp_path, DIM)
    assert reopened.ids().tolist() == [0, 2]
    np.testing.assert_array_equal(reopened.get(np.array([2])), store.get(np.array([2])))


def test_torn_tail_is_ignored_and_cut(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, DIM)
    store.append(np.arange(3), _vectors(3))
    committed = _data_file(tmp_path).stat().st_size
    with open(_data_file(tmp_path), "ab") as f:  # a crash after writing records, before commit
        f.write(b"\x07" * (committed + 11))
    assert VectorStore(tmp_path, DIM, readonly=True).ids().tolist() == [0, 1, 2]
    recovered = VectorStore(tmp_path, DIM)
    assert _data_file(tmp_path).stat().st_size == committed
    recovered.append(np.array([3]), _vectors(1))
    assert VectorStore(tmp_path, DIM).ids().tolist() == [0, 1, 2, 3]


def test_reader_keeps_snapshot_until_refresh(tmp_path: Path) -> None:
    writer = VectorStore(tmp_path, DIM)
    writer.append(np.arange(2), _vectors(2))
    reader = VectorStore(tmp_path, DIM, readonly=True)
    before = reader.get(np.array([0]))
    writer.append(np.array([5]), _vectors(1))
    writer.rebuild(np.array([0]), _vectors(1, seed=9))  # swaps to a new file, deletes the old
    assert reader.ids().tolist() == [0, 1]
    np.testing.assert_array_equal(reader.get(np.array([0])), before)  # old mapping still valid
    reader.refresh()
    assert reader.ids().tolist() == [0]
    with pytest.raises(PermissionError):
        reader.append(np.array([1]), _vectors(1))


def test_compact_drops_dead_records(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, DIM)
    for seed in range(3):
        store.append(np.arange(10), _vectors(10, seed))
    store.remove(np.arange(5))
    size_before = _data_file(tmp_path).stat().st_size
    store.compact()
    assert store.ids().tolist() == [5, 6, 7, 8, 9]
    np.testing.assert_array_equal(store.get(np.array([9])), _vectors(10, 2)[9:].astype(np.float16))
    assert _data_file(tmp_path).stat().st_size * 7 == size_before  # 35 records -> 5
    assert len(list(tmp_path.glob("vectors-*.bin"))) == 1


def test_rebuild_keeps_last_of_duplicate_ids(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, DIM)
    vectors = _vectors(3)
    store.rebuild(np.array([4, 2, 4]), vectors)
    np.testing.assert_array_equal(store.get(np.array([4])), vectors[2:].astype(np.float16))


def test_bad_input_is_rejected(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, DIM)
    with pytest.raises(ValueError):
        store.append(np.arange(2), _vectors(3))
    with pytest.raises(ValueError):
        store.append(np.array([-1]), _vectors(1))
    with pytest.raises(ValueError, match="8-d"):
        VectorStore(tmp_path, DIM * 2)


def test_reads_never_leave_the_file_mapped(tmp_path: Path) -> None:
    """Reads copy records with pread: a kept mapping counted the whole file (2.4 GB at 1M x
    1280) in the server's resident memory once read."""
    store = VectorStore(tmp_path, DIM)
    store.append(np.arange(100), _vectors(100))
    store.get(np.arange(0, 100, 7))
    store.all()
    maps = Path("/proc/self/maps").read_text()
    assert str(_data_file(tmp_path)) not in maps


def test_rows_read_what_is_indexed_in_the_ids_order(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, DIM)
    vectors = _vectors(50)
    store.append(np.arange(50)[::-1], vectors[::-1])  # records in reverse id order
    ids = np.array([40, 3, 17, 8, 29])
    rows = store.rows(ids)
    assert rows.shape == (5, DIM) and len(rows) == 5
    expected = vectors[ids].astype(np.float16)
    assert np.array_equal(rows[1:4], expected[1:4])
    assert np.array_equal(rows[np.array([0, 4])], expected[[0, 4]])
    assert np.array_equal(np.asarray(rows, np.float32), expected.astype(np.float32))
    sparse = store.rows(np.arange(0, 50, 10))  # a read per record, not one of the span
    assert np.array_equal(np.asarray(sparse), vectors[::10].astype(np.float16))


def test_appends_and_removals_index_like_a_fresh_open(tmp_path: Path) -> None:
    """Each write indexes only its new records (a writer, and a reader catching up): after
    every step both answer exactly as a store opened anew, which reads every record."""
    writer = VectorStore(tmp_path, DIM)
    reader = VectorStore(tmp_path, DIM, readonly=True)
    rng = np.random.default_rng(3)
    for step in range(60):
        ids = rng.choice(40, rng.integers(1, 8), replace=False)
        if step % 3 == 2:
            writer.remove(ids)
        else:
            writer.append(ids, _vectors(len(ids), seed=step))
        reader.refresh()
        fresh = VectorStore(tmp_path, DIM, readonly=True)
        for store in (writer, reader):
            assert store.ids().tolist() == fresh.ids().tolist()
            assert store.generation == fresh.generation
            np.testing.assert_array_equal(store.all()[1], fresh.all()[1])
