"""UMAP projector: finite (n, 2) maps that keep clusters apart and place new points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.projection.base import Projector, load_projector
from app.projection.placement import exact_neighbours, nearest_neighbours
from app.projection.umap_projector import UmapProjector
from tests.projection.conftest import Blobs, make_blobs


def nearest_label_agreement(coords: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Fraction of points whose k nearest map neighbours (excluding itself) share its label."""
    distances = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    neighbours = np.argsort(distances, axis=1)[:, :k]
    return float((labels[neighbours] == labels[:, None]).mean())


def assign_to_nearest(new: np.ndarray, coords: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return labels[np.linalg.norm(new[:, None] - coords[None], axis=2).argmin(axis=1)]


def test_map_is_finite_2d_and_keeps_clusters(fitted_umap, blobs: Blobs) -> None:
    projector, coords = fitted_umap
    assert isinstance(projector, Projector)
    assert coords.shape == (len(blobs.points), 2) and coords.dtype == np.float32
    assert np.isfinite(coords).all()
    assert nearest_label_agreement(coords, blobs.labels) > 0.95


def test_transform_places_new_points_in_their_cluster(fitted_umap, blobs: Blobs) -> None:
    projector, coords = fitted_umap
    new = make_blobs(60, seed=7)
    placed = projector.transform(new.points)
    assert placed.shape == (60, 2) and np.isfinite(placed).all()
    assert (assign_to_nearest(placed, coords, blobs.labels) == new.labels).mean() > 0.95


def test_save_and_load_round_trip(fitted_umap, tmp_path: Path) -> None:
    projector, coords = fitted_umap
    new = make_blobs(20, seed=8).points
    projector.save(tmp_path / "map.pkl")
    loaded = load_projector(tmp_path / "map.pkl")
    assert isinstance(loaded, UmapProjector)
    np.testing.assert_allclose(loaded.transform(new), projector.transform(new), atol=1e-3)


def test_tiny_inputs_still_give_a_map() -> None:
    projector = UmapProjector()
    coords = projector.fit_transform(np.eye(3, 10, dtype=np.float32))
    assert coords.shape == (3, 2) and np.isfinite(coords).all()
    assert projector.transform(np.ones((2, 10), np.float16)).shape == (2, 2)


def test_exact_neighbours_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    points, queries = rng.normal(size=(300, 5)), rng.normal(size=(40, 5))
    indices, distances = nearest_neighbours(
        queries.astype(np.float32), points.astype(np.float32), 7
    )
    full = np.linalg.norm(queries[:, None] - points[None], axis=2)
    np.testing.assert_array_equal(indices, np.argsort(full, axis=1)[:, :7])
    np.testing.assert_allclose(distances, np.sort(full, axis=1)[:, :7], rtol=1e-4, atol=1e-4)


def test_large_maps_place_from_approximate_neighbours() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(30, 12)) * 4
    points = (centres[rng.integers(0, 30, 20_000)] + rng.normal(size=(20_000, 12))).astype(
        np.float32
    )
    queries = (centres[rng.integers(0, 30, 200)] + rng.normal(size=(200, 12))).astype(np.float32)
    exact, exact_distances = exact_neighbours(queries, points, 15)
    found, distances = nearest_neighbours(queries, points, 15, exact_max=1_000)
    recall = np.mean([len(set(a) & set(b)) / 15 for a, b in zip(found, exact, strict=True)])
    assert recall >= 0.95
    assert found.dtype == np.int64 and distances.shape == (200, 15)
    assert np.all(distances >= exact_distances - 1e-3)  # nothing nearer than the true k-th


def test_fit_reports_the_layout_epochs_and_stops_when_told(blobs: Blobs) -> None:
    calls: list[tuple[int, int]] = []
    UmapProjector(n_epochs=30).fit_transform(blobs.points, progress=lambda *c: calls.append(c))
    assert calls[0] == (0, 30) and calls[-1] == (30, 30)  # the graph is done, then every epoch
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)

    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        if done >= 10:
            raise Stop

    seen: list[int] = []
    with pytest.raises(Stop):
        UmapProjector(n_epochs=30).fit_transform(
            blobs.points, progress=lambda done, total: (seen.append(done), stop(done, total))
        )
    assert max(seen) == 10  # no epoch was reported after the stop
