"""One VectorStore and one Embedder instance per key, shared by every job of this process."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from app.embeddings.base import Embedder
from app.embeddings.registry import build_embedder
from app.embeddings.store import VectorStore
from app.maps.store import embedder_folder


class VectorStores:
    """Vector stores under root/project-<id>/<embedder>/, opened once (one writer per store)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stores: dict[tuple[int, str], VectorStore] = {}
        self._lock = threading.Lock()

    def path(self, project_id: int, embedder: str) -> Path:
        return self.root / f"project-{project_id}" / embedder_folder(embedder)

    def get(self, project_id: int, embedder: str, dim: int) -> VectorStore:
        with self._lock:
            key = (project_id, embedder)
            if key not in self._stores:
                self._stores[key] = VectorStore(self.path(project_id, embedder), dim)
            return self._stores[key]

    def existing(self, project_id: int, embedder: str) -> VectorStore | None:
        """The store if vectors were ever written for this pair, else None (never creates)."""
        path = self.path(project_id, embedder)
        with self._lock:
            if (project_id, embedder) in self._stores:
                return self._stores[(project_id, embedder)]
        if not (path / "manifest.json").is_file():
            return None
        dim = json.loads((path / "manifest.json").read_text())["dim"]
        return self.get(project_id, embedder, dim)


class Embedders:
    """Embedders built on first use (loading a backbone takes seconds) and kept.
    `weights`: a local weights file per embedder name (LASSOLABEL_EMBEDDER_WEIGHTS)."""

    def __init__(self, weights: dict[str, Path] | None = None) -> None:
        self._weights = weights or {}
        self._built: dict[str, Embedder] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Embedder:
        with self._lock:
            if name not in self._built:
                self._built[name] = build_embedder(name, weights_path=self._weights.get(name))
            return self._built[name]
