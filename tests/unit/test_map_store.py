from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from app.maps.store import MapStore
from app.maps.wire import decode_map, encode_map, json_points


def test_write_read_upsert(tmp_path: Path) -> None:
    store = MapStore(tmp_path)
    ids, xy = store.read(1, "timm:x")
    assert ids.shape == (0,) and xy.shape == (0, 2)
    store.write(1, "timm:x", np.array([5, 2, 9]), np.array([[5, 5], [2, 2], [9, 9]]))
    ids, xy = store.read(1, "timm:x")
    assert ids.tolist() == [2, 5, 9] and xy[:, 0].tolist() == [2, 5, 9]
    store.upsert(1, "timm:x", np.array([5, 7]), np.array([[50, 50], [7, 7]]))
    ids, xy = store.read(1, "timm:x")
    assert ids.tolist() == [2, 5, 7, 9] and xy[:, 0].tolist() == [2, 50, 7, 9]
    assert store.read(1, "sam-pool")[0].size == 0  # per embedder
    assert store.path(1, "../../evil").parent.parent == tmp_path / "project-1"


def test_wire_round_trip_empty_and_full() -> None:
    empty = np.zeros(0)
    header, arrays = decode_map(
        encode_map(np.zeros((0, 2), np.float32), empty, empty, empty, {"labels": []})
    )
    assert header["count"] == 0 and arrays["x"].size == 0 and arrays["version"].size == 0
    xy = np.random.default_rng(0).random((1000, 2)).astype(np.float32)
    versions = np.arange(1000) % 7 + 1
    data = encode_map(xy, np.arange(1000), np.full(1000, -1), versions, {"labels": []})
    assert len(data) % 4 == 0
    header, arrays = decode_map(data)
    np.testing.assert_array_equal(arrays["y"], xy[:, 1])
    assert arrays["version"].dtype == np.dtype("<u4") and arrays["version"].tolist() == list(
        versions
    )
    assert header["columns"][-1] == "version:uint32"
    assert header["bounds"] == [float(v) for v in (*xy.min(0), *xy.max(0))]


def test_decode_reads_the_columns_the_header_lists() -> None:
    """A map from a server without the version column still decodes, column by column."""
    data = encode_map(np.ones((3, 2), np.float32), np.arange(3), np.zeros(3), np.ones(3), {})
    (length,) = struct.unpack_from("<I", data)
    header = json.loads(data[4 : 4 + length])
    header["columns"] = header["columns"][:4]
    meta = json.dumps(header).encode()
    meta += b" " * (-len(meta) % 4)
    older = struct.pack("<I", len(meta)) + meta + data[4 + length : -3 * 4]
    _, arrays = decode_map(older)
    assert sorted(arrays) == ["label", "segment_id", "x", "y"]
    assert arrays["segment_id"].tolist() == [0, 1, 2]


def test_area_and_source_columns_travel_after_the_fixed_ones() -> None:
    area, source = np.array([10, 70000, 3]), np.array([0, 2, 1])
    data = encode_map(
        np.ones((3, 2), np.float32),
        np.arange(3),
        np.zeros(3),
        np.ones(3),
        {},
        {"source": source, "area": area},
    )
    header, arrays = decode_map(data)
    assert header["columns"][-2:] == ["area:uint32", "source:uint8"]
    assert arrays["area"].tolist() == [10, 70000, 3] and arrays["source"].tolist() == [0, 2, 1]


def test_label_index_maps_ids_to_positions_and_unknown_to_minus_one() -> None:
    from app.maps.service import label_index

    labels = np.array([0, 30, 10, 99, 20, 0])
    assert label_index(labels, [30, 10, 20]).tolist() == [-1, 0, 1, -1, 2, -1]
    assert label_index(labels, []).tolist() == [-1] * 6


def test_int_columns_reads_every_row_in_chunks(tmp_path: Path, monkeypatch) -> None:
    from sqlalchemy import column, create_engine, select, table, text
    from sqlalchemy.orm import Session

    from app import columns as service

    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (a INTEGER, b INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (:a, :b)"), [{"a": i, "b": -i} for i in range(10)])
    monkeypatch.setattr(service, "FETCH_ROWS", 3)
    query = select(column("a"), column("b")).select_from(table("t")).order_by(column("a"))
    with Session(engine) as session:
        got = service.int_columns(session, query, 2)
        empty = service.int_columns(session, query.where(column("a") > 99), 2)
    assert got.tolist() == [[i, -i] for i in range(10)] and empty.shape == (0, 2)


def test_json_points_join_their_chunks_into_one_document() -> None:
    n = 25_001  # three chunks
    rng = np.random.default_rng(0)
    ids, xy = np.arange(1, n + 1), rng.random((n, 2)).astype(np.float32)
    labels, versions = rng.integers(0, 3, n), rng.integers(1, 9, n)
    for count in (0, 1, n):
        text = "".join(
            json_points({"labels": []}, ids[:count], xy[:count], labels[:count], versions[:count])
        )
        document = json.loads(text)
        assert document["header"] == {"labels": []} and len(document["points"]) == count
    assert document["points"][-1] == {
        "segment_id": n,
        "x": float(xy[-1, 0]),
        "y": float(xy[-1, 1]),
        "label_id": int(labels[-1]) or None,
        "version": int(versions[-1]),
    }
    assert [p["segment_id"] for p in document["points"]] == ids.tolist()
