"""Map positions on disk: one file per (project, embedder), replaced atomically.

positions.npz holds `ids` (N int64 segment ids, sorted) and `xy` (N x 2 float32 map
coordinates). Millions of points would be too many SQLite rows to read per map request;
one file read is a few milliseconds.
"""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import numpy as np

from app.services.image_files import write_atomic


def embedder_folder(embedder: str) -> str:
    """A folder name for an embedder ("timm:tf_efficientnet_lite0" -> "timm_tf_efficientnet_lite0")."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder)


class MapStore:
    """Reads and writes the map positions of every project under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def path(self, project_id: int, embedder: str) -> Path:
        return self.root / f"project-{project_id}" / embedder_folder(embedder) / "positions.npz"

    def write(self, project_id: int, embedder: str, ids: np.ndarray, xy: np.ndarray) -> None:
        """Replace the map: ids (N,) int, xy (N, 2) float. Readers see the old or the new file."""
        ids = np.asarray(ids, dtype=np.int64)
        xy = np.asarray(xy, dtype=np.float32).reshape(len(ids), 2)
        order = np.argsort(ids, kind="stable")
        buffer = io.BytesIO()
        np.savez(buffer, ids=ids[order], xy=xy[order])
        with self._lock:
            write_atomic(self.path(project_id, embedder), buffer.getvalue())

    def upsert(self, project_id: int, embedder: str, ids: np.ndarray, xy: np.ndarray) -> None:
        """Add or move some points, keeping the others (new segments placed by transform)."""
        old_ids, old_xy = self.read(project_id, embedder)
        keep = ~np.isin(old_ids, ids)
        self.write(
            project_id,
            embedder,
            np.concatenate([old_ids[keep], np.asarray(ids, np.int64)]),
            np.concatenate([old_xy[keep], np.asarray(xy, np.float32).reshape(-1, 2)]),
        )

    def read(self, project_id: int, embedder: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids (N,) int64 sorted, xy (N, 2) float32); empty arrays when there is no map yet."""
        path = self.path(project_id, embedder)
        if not path.is_file():
            return np.zeros(0, np.int64), np.zeros((0, 2), np.float32)
        with np.load(path) as data:
            return data["ids"], data["xy"]
