"""Synthetic but realistic projects for bench/scale.py, built fast with core inserts.

Segments carry small real RLE masks (COCO strings of rectangles) spread over up to 20k
640x480 images; vectors are 1280-d float16 unit rows with cluster structure (a centre, an
8-d linear span and isotropic noise per cluster, as bench/projection.py draws them), written
through the product's VectorStore in chunks, so no float32 copy of all of them ever exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

from app.embeddings.store import VectorStore
from app.masks import encode_rle
from app.migrate import upgrade
from app.pipeline.vectors import VectorStores

EMBEDDER = "timm:tf_efficientnet_lite0"
DIM = 1280
WIDTH, HEIGHT = 640, 480
MAX_IMAGES = 20_000
CHUNK = 50_000
LABELS = [("cat", "#e15759"), ("dog", "#4e79a7"), ("car", "#59a14f"), ("tree", "#f28e2b")]


@dataclass(frozen=True)
class Built:
    project_id: int
    label_ids: list[int]
    first_image_id: int
    images: int


def database_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'lassolabel.db'}"


def create_project(data_dir: Path, images: int) -> Built:
    """A migrated database with one project, its labels and `images` image rows."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url = database_url(data_dir)
    upgrade(url)
    now = _now()
    engine = create_engine(url)
    with engine.begin() as conn:
        project_id = conn.execute(
            text(
                "INSERT INTO projects (name, description, embedder, created_at, updated_at) "
                "VALUES ('scale', '', :e, :t, :t) RETURNING id"
            ),
            {"e": EMBEDDER, "t": now},
        ).scalar_one()
        label_ids = [
            conn.execute(
                text(
                    "INSERT INTO label_classes (project_id, name, color, hotkey, created_at) "
                    "VALUES (:p, :n, :c, :h, :t) RETURNING id"
                ),
                {"p": project_id, "n": name, "c": color, "h": i + 1, "t": now},
            ).scalar_one()
            for i, (name, color) in enumerate(LABELS)
        ]
        conn.exec_driver_sql(
            "INSERT INTO images (project_id, sha256, filename, width, height, format, byte_size, "
            "stored_path, status, created_at) VALUES (?, ?, ?, ?, ?, 'PNG', 1, 'missing', "
            "'ready', ?)",
            [
                (project_id, f"{i:064x}", f"img{i:05d}.png", WIDTH, HEIGHT, now)
                for i in range(images)
            ],
        )
        first_image = conn.exec_driver_sql(
            "SELECT min(id) FROM images WHERE project_id = ?", (project_id,)
        ).scalar_one()
    engine.dispose()
    return Built(project_id, label_ids, first_image, images)


def add_segments(data_dir: Path, built: Built, n: int, *, seed: int) -> np.ndarray:
    """Insert n unlabelled automatic segments spread over the project's images; returns their
    ids (n,) int64 (consecutive: a fresh rowid range)."""
    rng = np.random.default_rng(seed)
    masks = _mask_pool(rng)
    now = _now()
    engine = create_engine(database_url(data_dir))
    with engine.begin() as conn:
        before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM segments").scalar_one()
        for start in range(0, n, CHUNK):
            count = min(CHUNK, n - start)
            image = built.first_image_id + rng.integers(0, built.images, count)
            pick = rng.integers(0, len(masks), count)
            conn.exec_driver_sql(
                "INSERT INTO segments (project_id, image_id, rle_counts, height, width, bbox_x, "
                "bbox_y, bbox_w, bbox_h, area, source, score, version, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'auto', 0.9, 1, ?, ?)",
                [
                    (built.project_id, int(i), *masks[int(m)], now, now)
                    for i, m in zip(image, pick, strict=True)
                ],
            )
        after = conn.exec_driver_sql("SELECT max(id) FROM segments").scalar_one()
    engine.dispose()
    if after - before != n:
        raise RuntimeError(f"expected {n} new segment ids, got {after - before}")
    return np.arange(before + 1, after + 1, dtype=np.int64)


def add_vectors(data_dir: Path, project_id: int, ids: np.ndarray, *, seed: int) -> np.ndarray:
    """Store one clustered 1280-d vector per id, in the product's vector store layout;
    returns each id's cluster (len(ids),) int64."""
    store = VectorStores(data_dir / "vectors").get(project_id, EMBEDDER, DIM)
    clusters = np.empty(len(ids), np.int64)
    for start, chunk, labels in clustered_chunks(len(ids), seed=seed):
        store.append(ids[start : start + len(chunk)], chunk)
        clusters[start : start + len(chunk)] = labels
    return clusters


def clustered_chunks(
    n: int, *, clusters: int = 50, intrinsic: int = 8, seed: int = 0
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(offset, (m, DIM) float16 unit rows, (m,) cluster) chunks of n vectors; the cluster centres come from
    a fixed seed, so every call draws from the same clusters."""
    shape_rng = np.random.default_rng(12345)
    centres = shape_rng.standard_normal((clusters, DIM), dtype=np.float32)
    spans = shape_rng.standard_normal((clusters, intrinsic, DIM), dtype=np.float32) * 0.2
    rng = np.random.default_rng(seed)
    for start in range(0, n, CHUNK):
        count = min(CHUNK, n - start)
        labels = rng.integers(0, clusters, count)
        chunk = rng.standard_normal((count, DIM), dtype=np.float32) * 0.3 + centres[labels]
        for c in np.unique(labels):
            rows = np.flatnonzero(labels == c)
            chunk[rows] += rng.standard_normal((rows.size, intrinsic), dtype=np.float32) @ spans[c]
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        yield start, chunk.astype(np.float16), labels


def open_store(data_dir: Path, project_id: int) -> VectorStore:
    return VectorStore(VectorStores(data_dir / "vectors").path(project_id, EMBEDDER), DIM)


def _mask_pool(rng: np.random.Generator, size: int = 256) -> list[tuple]:
    """(rle_counts, h, w, bbox x, y, w, h, area) of `size` small rectangles."""
    pool = []
    for _ in range(size):
        w, h = (int(v) for v in rng.integers(8, 80, 2))
        x, y = int(rng.integers(0, WIDTH - w)), int(rng.integers(0, HEIGHT - h))
        mask = np.zeros((HEIGHT, WIDTH), bool)
        mask[y : y + h, x : x + w] = True
        pool.append((encode_rle(mask)["counts"], HEIGHT, WIDTH, x, y, w, h, w * h))
    return pool


def _now() -> str:
    # The format SQLAlchemy's DateTime writes to SQLite.
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
