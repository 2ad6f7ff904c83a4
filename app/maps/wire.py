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
from typing import Any

import numpy as np

COLUMNS = ["x:float32", "y:float32", "segment_id:uint32", "label:int32", "version:uint32"]
# Optional trailing columns (the filters' data): name -> little-endian dtype.
EXTRA_DTYPES = {"area": "<u4", "source": "u1"}


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
    count = len(segment_ids)
    given = extra or {}
    extras = {name: given[name] for name in EXTRA_DTYPES if name in given}
    names = COLUMNS + [f"{name}:{np.dtype(EXTRA_DTYPES[name]).name}" for name in extras]
    bounds = [float(v) for v in (*xy.min(0), *xy.max(0))] if count else [0.0, 0.0, 1.0, 1.0]
    packed = _packed_header({**header, "count": count, "columns": names, "bounds": bounds})
    columns = (
        np.ascontiguousarray(xy[:, 0], "<f4"),
        np.ascontiguousarray(xy[:, 1], "<f4"),
        np.ascontiguousarray(segment_ids, "<u4"),
        np.ascontiguousarray(label_index, "<i4"),
        np.ascontiguousarray(versions, "<u4"),
        *(np.ascontiguousarray(values, EXTRA_DTYPES[name]) for name, values in extras.items()),
    )
    body = b"".join(c.tobytes() for c in columns)
    return packed + body + b"\0" * (-len(body) % 4)


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
