"""The binary map format the browser reads straight into typed arrays.

Layout (all little-endian):
  uint32  header_length (bytes of the JSON header, padded with spaces to a multiple of 4)
  bytes   JSON header: {"count": N, "columns": [...], "labels": [...], "bounds": [...]}
  then one array of N values per entry of header["columns"] ("name:dtype"):
  float32 x[N], float32 y[N], uint32 segment_id[N], int32 label[N], uint32 version[N],
  uint32 area[N], uint8 source[N]
`label` indexes header["labels"] (-1 = unlabelled); `version` is the segment's version (send it
back as an assign's expected_versions); `area` is in pixels; `source` indexes
header["sources"]. 25 bytes a point: 1M points = 25 MB.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np

# Optional trailing columns (the filters' data): name -> little-endian dtype.
EXTRA_DTYPES = {"area": "<u4", "source": "u1"}
_JSON_CHUNK = 10_000


def encode_map(
    xy: np.ndarray,
    segment_ids: np.ndarray,
    label_index: np.ndarray,
    versions: np.ndarray,
    header: dict[str, Any],
    extra: dict[str, np.ndarray] | None = None,
) -> bytes:
    """xy (N, 2) float32, segment_ids (N,), label_index (N,) int (-1 unlabelled), versions (N,);
    `extra`: named (N,) columns of EXTRA_DTYPES (area, source), appended in that order."""
    given = extra or {}
    columns = {
        "x": xy[:, 0].astype("<f4"),
        "y": xy[:, 1].astype("<f4"),
        "segment_id": np.asarray(segment_ids, "<u4"),
        "label": np.asarray(label_index, "<i4"),
        "version": np.asarray(versions, "<u4"),
        **{
            name: np.asarray(given[name], dtype)
            for name, dtype in EXTRA_DTYPES.items()
            if name in given
        },
    }
    bounds = [float(v) for v in (*xy.min(0), *xy.max(0))] if len(xy) else [0.0, 0.0, 1.0, 1.0]
    return encode_columns({**header, "bounds": bounds}, columns)


def encode_columns(header: dict[str, Any], columns: dict[str, np.ndarray]) -> bytes:
    """The layout above for any (N,) columns, each sent in its own dtype, little-endian: the
    header gains "count" and "columns" ("name:dtype"). The browser's parseMap reads it."""
    count = len(next(iter(columns.values()))) if columns else 0
    names = [f"{name}:{values.dtype.name}" for name, values in columns.items()]
    packed = _packed_header({**header, "count": count, "columns": names})
    body = b"".join(
        np.ascontiguousarray(values, values.dtype.newbyteorder("<")).tobytes()
        for values in columns.values()
    )
    return packed + body + b"\0" * (-len(body) % 4)


def json_points(
    header: dict[str, Any],
    segment_ids: np.ndarray,
    xy: np.ndarray,
    label_ids: np.ndarray,
    versions: np.ndarray,
) -> Iterator[str]:
    """The map as JSON text ({"header", "points": [{segment_id, x, y, label_id, version}]}),
    _JSON_CHUNK points at a time: a million points never exist as Python objects at once.
    label_ids (N,) int64 with 0 for unlabelled."""
    yield '{"header":' + json.dumps(header) + ',"points":['
    for start in range(0, len(segment_ids), _JSON_CHUNK):
        rows = slice(start, start + _JSON_CHUNK)
        columns = (segment_ids[rows], xy[rows, 0], xy[rows, 1], label_ids[rows], versions[rows])
        points = [
            {"segment_id": sid, "x": x, "y": y, "label_id": label or None, "version": version}
            for sid, x, y, label, version in zip(*(c.tolist() for c in columns), strict=True)
        ]
        yield ("," if start else "") + json.dumps(points)[1:-1]
    yield "]}"


def decode_map(data: bytes | bytearray) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Inverse of encode_map (for tests and Python clients): the header and one (N,) array per
    column the header lists, so maps with fewer or more columns decode too."""
    (length,) = struct.unpack_from("<I", data)
    header = json.loads(data[4 : 4 + length])
    count, offset = header["count"], 4 + length
    arrays = {}
    for column in header["columns"]:
        name, dtype = column.split(":")
        arrays[name] = np.frombuffer(
            data, dtype=np.dtype(dtype).newbyteorder("<"), count=count, offset=offset
        )
        offset += arrays[name].itemsize * count
    return header, arrays


def replace_header(data: bytes, header: dict[str, Any]) -> bytes:
    """An encoded map with another header (from decode_map's, so count and columns hold)."""
    (length,) = struct.unpack_from("<I", data)
    return _packed_header(header) + data[4 + length :]


def _packed_header(header: dict[str, Any]) -> bytes:
    """The length word and the JSON header, padded with spaces so the columns stay aligned."""
    meta = json.dumps(header).encode()
    meta += b" " * (-len(meta) % 4)
    return struct.pack("<I", len(meta)) + meta
