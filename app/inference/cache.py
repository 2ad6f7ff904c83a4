"""Embedding cache: an in-memory LRU bounded in bytes over an fp16 disk cache.

Keys are (model id, image content sha256), so changing the model can never serve stale
embeddings. Disk files are written to a temp file then renamed (a crash leaves no half file)
and carry a sha256 of their payload: a corrupt file is detected, deleted and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.inference.base import PreparedImage

log = logging.getLogger(__name__)

_MAGIC = b"LLEMB1\n"
_HEADER_LEN = struct.Struct("<I")
CacheKey = tuple[str, str]  # (model_id, image sha256)


class CorruptEmbeddingFile(ValueError):
    """A disk cache file that is truncated, altered or not ours."""


@dataclass
class CacheStats:
    memory_hits: int = 0
    disk_hits: int = 0
    misses: int = 0
    corrupt: int = 0


class EmbeddingCache:
    """Thread-safe two-level cache of PreparedImage. disk_dir None keeps memory only."""

    def __init__(self, max_bytes: int, disk_dir: Path | None) -> None:
        self.max_bytes = max_bytes
        self.disk_dir = disk_dir
        self.stats = CacheStats()
        self._lock = threading.Lock()
        self._entries: OrderedDict[CacheKey, PreparedImage] = OrderedDict()
        self._bytes = 0

    @property
    def memory_bytes(self) -> int:
        return self._bytes

    def get_memory(self, key: CacheKey) -> PreparedImage | None:
        with self._lock:
            state = self._entries.get(key)
            if state is not None:
                self._entries.move_to_end(key)
                self.stats.memory_hits += 1
            return state

    def get(self, key: CacheKey) -> PreparedImage | None:
        """Memory, then disk (promoted to memory); None on a miss or a corrupt file."""
        state = self.get_memory(key)
        if state is not None or self.disk_dir is None:
            return state
        path = self.path_for(key)
        try:
            state = read_embedding_file(path)
        except FileNotFoundError:
            state = None
        except CorruptEmbeddingFile as exc:
            log.warning("discarding corrupt embedding cache file %s: %s", path, exc)
            self.stats.corrupt += 1
            path.unlink(missing_ok=True)
            state = None
        if state is None or state.model_id != key[0]:
            self.stats.misses += 1
            return None
        self.stats.disk_hits += 1
        self.put_memory(key, state)
        return state

    def put_memory(self, key: CacheKey, state: PreparedImage) -> None:
        if state.nbytes > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self._bytes -= old.nbytes if old is not None else 0
            self._entries[key] = state
            self._bytes += state.nbytes
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.nbytes

    def put_disk(self, key: CacheKey, state: PreparedImage) -> None:
        if self.disk_dir is not None:
            write_embedding_file(self.path_for(key), state)

    def path_for(self, key: CacheKey) -> Path:
        model_id, image_sha = key
        assert self.disk_dir is not None
        return self.disk_dir / _safe(model_id) / _safe(image_sha)[:2] / f"{_safe(image_sha)}.emb"


def write_embedding_file(path: Path, state: PreparedImage) -> None:
    """Write state with float arrays as float16, atomically (temp file + rename)."""
    arrays = {k: _storable(v) for k, v in state.arrays.items()}
    payload = b"".join(a.tobytes() for a in arrays.values())
    header = json.dumps(
        {
            "model_id": state.model_id,
            "original_size": list(state.original_size),
            "input_size": list(state.input_size),
            "arrays": [
                {"name": k, "dtype": a.dtype.str, "shape": a.shape} for k, a in arrays.items()
            ],
            "sha256": hashlib.sha256(payload).hexdigest(),
        }
    ).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with tmp.open("wb") as f:
        f.write(_MAGIC + _HEADER_LEN.pack(len(header)) + header + payload)
    os.replace(tmp, path)


def read_embedding_file(path: Path) -> PreparedImage:
    """Read a file written by write_embedding_file; CorruptEmbeddingFile if it does not check."""
    data = path.read_bytes()
    start = len(_MAGIC) + _HEADER_LEN.size
    if not data.startswith(_MAGIC) or len(data) < start:
        raise CorruptEmbeddingFile("bad magic or truncated header")
    (header_len,) = _HEADER_LEN.unpack_from(data, len(_MAGIC))
    try:
        header = json.loads(data[start : start + header_len])
        payload = memoryview(data)[start + header_len :]
        if hashlib.sha256(payload).hexdigest() != header["sha256"]:
            raise CorruptEmbeddingFile("payload checksum mismatch")
        return PreparedImage(
            model_id=str(header["model_id"]),
            arrays=_split_arrays(payload, header["arrays"]),
            original_size=(int(header["original_size"][0]), int(header["original_size"][1])),
            input_size=(int(header["input_size"][0]), int(header["input_size"][1])),
        )
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        if isinstance(exc, CorruptEmbeddingFile):
            raise
        raise CorruptEmbeddingFile(f"unreadable header: {exc}") from None


def _split_arrays(payload: memoryview, specs: list[dict]) -> dict[str, np.ndarray]:
    arrays, offset = {}, 0
    for spec in specs:
        dtype, shape = np.dtype(spec["dtype"]), tuple(int(n) for n in spec["shape"])
        count = int(np.prod(shape))
        arrays[spec["name"]] = np.frombuffer(payload, dtype, count, offset).reshape(shape).copy()
        offset += count * dtype.itemsize
    if offset != len(payload):
        raise CorruptEmbeddingFile("payload length does not match the header")
    return arrays


def _storable(array: np.ndarray) -> np.ndarray:
    out = array.astype(np.float16) if np.issubdtype(array.dtype, np.floating) else array
    return np.ascontiguousarray(out)


def _safe(name: str) -> str:
    """A file-name-safe form of an id (ids are ours, this only guards against separators)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
