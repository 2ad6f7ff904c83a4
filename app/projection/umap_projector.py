"""UMAP projector: PCA pre-reduction, then umap-learn; the fitted reducer places new points.

The only module (with umap_cuml.py) that imports umap. Defaults come from bench/projection.py
(100k x 1280-d, 2 cores), not from umap's own defaults; see that script's docstring.
"""

from __future__ import annotations

import io
import re
import time
import warnings
from pathlib import Path

import numpy as np

from app.projection.base import FitProgress, NotFitted, Vectors, save_pickle
from app.projection.pca_projector import PcaProjector, PreReducer
from app.projection.placement import place_by_neighbours

with warnings.catch_warnings():
    # umap announces at import that TensorFlow (ParametricUMAP) is absent; we never use it.
    warnings.simplefilter("ignore", ImportWarning)
    import umap

# Below this many points UMAP's neighbour graph degenerates: lay them out with PCA instead.
MIN_POINTS_FOR_UMAP = 4


class UmapProjector:
    """(N, D) vectors -> (N, 2) float32 map coordinates.

    pca_components: pre-reduce to this many dimensions (0 or None: no pre-reduction).
    random_state: None lets the layout optimisation run on all cores (not bit-reproducible);
    an int makes it reproducible but single-threaded (umap's rule).
    """

    name = "umap"

    def __init__(
        self,
        *,
        n_neighbors: int = 15,
        metric: str = "euclidean",
        n_epochs: int | None = 100,
        init: str = "pca",
        min_dist: float = 0.1,
        pca_components: int | None = 50,
        random_state: int | None = None,
        max_pca_fit_rows: int = 20_000,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.n_epochs = n_epochs
        self.init = init
        self.min_dist = min_dist
        self.pca_components = pca_components
        self.random_state = random_state
        self.max_pca_fit_rows = max_pca_fit_rows
        self._reducer = PreReducer(
            pca_components,
            max_fit_rows=max_pca_fit_rows,
            seed=0 if random_state is None else random_state,
        )
        # fitted state: reduced training vectors (N, k) float32 and their map (N, 2) float32
        self._points: np.ndarray | None = None
        self._coords: np.ndarray | None = None
        self._fallback: PcaProjector | None = None

    def fit_transform(self, vectors: Vectors, progress: FitProgress | None = None) -> np.ndarray:
        """(N, D) -> (N, 2) float32; `progress` hears the layout's epochs (base.FitProgress)."""
        reduced = self._reducer.fit_transform(vectors)
        self._points, self._coords, self._fallback = None, None, None
        if reduced.shape[0] < MIN_POINTS_FOR_UMAP:
            self._fallback = PcaProjector()
            return self._fallback.fit_transform(reduced)
        with _quiet_umap():
            reducer = self._new_umap(reduced.shape[0], progress)
            coords = reducer.fit_transform(reduced)
        self._points, self._coords = reduced, np.asarray(coords, dtype=np.float32)
        return self._coords.copy()

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Place new (M, D) vectors on the fitted map without refitting: (M, 2) float32
        (deterministic; see placement.py for why not umap's own transform)."""
        reduced = self._reducer.transform(vectors)
        if self._fallback is not None:
            return self._fallback.transform(reduced)
        if self._points is None or self._coords is None:
            raise NotFitted("UmapProjector.transform called before fit_transform")
        return place_by_neighbours(reduced, self._points, self._coords, self.n_neighbors)

    def save(self, path: Path) -> None:
        if self._points is None and self._fallback is None:
            raise NotFitted("UmapProjector.save called before fit_transform")
        save_pickle(self, path)

    def _new_umap(self, n_points: int, progress: FitProgress | None = None) -> umap.UMAP:
        return umap.UMAP(
            n_neighbors=min(self.n_neighbors, n_points - 1),
            metric=self.metric,
            n_epochs=self.n_epochs,
            init=self.init,
            min_dist=self.min_dist,
            random_state=self.random_state,
            # umap forces one job when seeded and warns unless told so explicitly.
            n_jobs=-1 if self.random_state is None else 1,
            # Below 4,096 points umap computes exact all-pairs neighbours, which made a 3,187-point
            # layout take 11 s warm (29 s in the job) against 2.4-3.0 s on the nearest-neighbour
            # descent path at the same trustworthiness (bench/scale.py's small-project table).
            force_approximation_algorithm=True,
            tqdm_kwds=None if progress is None else _EpochReport(progress).tqdm_kwds(),
        )


class _EpochReport(io.TextIOBase):
    """The file umap's epoch bar (tqdm) writes to, as "done/total": each write is a progress
    call. Once the callback raised (a cancel) later writes are ignored, so tqdm's own cleanup
    cannot raise again."""

    def __init__(self, progress: FitProgress) -> None:
        self._progress = progress
        self._stopped = False

    def tqdm_kwds(self) -> dict[str, object]:
        return {"disable": False, "file": self, "bar_format": "{n}/{total}\n", "mininterval": 0}

    def write(self, text: str) -> int:
        found = re.findall(r"(\d+)/(\d+)", text)
        if found and not self._stopped:
            done, total = found[-1]
            try:
                self._progress(int(done), int(total))
            except BaseException:
                self._stopped = True
                raise
        return len(text)


class _quiet_umap(warnings.catch_warnings):
    """Silences umap's advisory warnings (e.g. "n_neighbors is larger than the dataset")."""

    def __enter__(self):  # type: ignore[no-untyped-def]
        result = super().__enter__()
        warnings.filterwarnings("ignore", category=UserWarning, module=r"umap\..*")
        return result


def warm_numba(*, n_points: int = 300, dim: int = 16) -> float:
    """Compile umap/pynndescent's numba kernels on a tiny input; returns seconds taken.

    Run it in a background thread at server start so the first real fit or transform does not
    pay the compile. force_approximation_algorithm makes the tiny fit take the nearest-neighbour
    descent path that real (>4096-point) maps take.
    """
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    data = rng.normal(size=(n_points, dim)).astype(np.float32)
    reducer = umap.UMAP(n_epochs=20, init="pca", force_approximation_algorithm=True, n_jobs=-1)
    with _quiet_umap():
        reducer.fit(data)
    return time.perf_counter() - start
