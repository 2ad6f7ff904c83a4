"""Synthetic embeddings with known clusters, written straight into a project's vector store."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.api.test_map_assign import add_segments
from tests.conftest import png_bytes, upload

DIM = 16


def clustered_vectors(
    sizes: list[int], dim: int = DIM, spread: float = 0.15, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(vectors (sum(sizes), dim) float32, cluster (N,) int) around random unit centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    cluster = np.repeat(np.arange(len(sizes)), sizes)
    vectors = centres[cluster] + spread * rng.normal(size=(len(cluster), dim))
    return vectors.astype(np.float32), cluster


@pytest.fixture
def embedded(client: TestClient, project: dict) -> dict:
    """A project of 3 clusters (8, 6, 5 segments) with vectors in its embedder's store."""
    pid = project["id"]
    image_id = upload(client, pid, [("a.png", png_bytes())])["imported"][0]["id"]
    vectors, cluster = clustered_vectors([8, 6, 5])
    ids = add_segments(client, pid, image_id, len(cluster))
    ctx = client.app.state.context  # type: ignore[attr-defined]
    ctx.vectors.get(pid, project["embedder"], DIM).append(np.array(ids), vectors)
    return {"pid": pid, "ids": ids, "cluster": cluster, "vectors": vectors, "image_id": image_id}
