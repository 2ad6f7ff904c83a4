"""How many lasso+assign actions the map workflow needs to label a share of segments.

The simulated user lassoes, on the 2-D map, a region holding only segments of one ground-truth
class and assigns that class. A region is pure when a lasso can trace it without enclosing a
foreign point: we take the union of Delaunay triangles whose three corners share a class (a
Delaunay triangle contains no other point, so such a union encloses none either); its
connected pieces are the pure regions. A point in no pure triangle needs an action of its
own. Labelling is monotone, so the greedy order (largest region first) is optimal here.
positions: Nx2 float map coordinates; classes: N ints (ground truth; -1 = no class, never
labelled by a lasso and not counted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, QhullError


@dataclass(frozen=True)
class LassoCurve:
    """actions[k] = segments correctly labelled after k+1 actions (cumulative)."""

    labelled: np.ndarray
    total: int

    def actions_for(self, fraction: float) -> int | None:
        """Actions needed to label `fraction` of the labellable segments; None if never."""
        need = int(np.ceil(fraction * self.total))
        if need == 0:
            return 0
        reached = np.flatnonzero(self.labelled >= need)
        return int(reached[0]) + 1 if reached.size else None


def pure_regions(positions: np.ndarray, classes: np.ndarray) -> list[np.ndarray]:
    """Index arrays of pure lassoable regions (singletons included), largest first."""
    n = len(positions)
    keep = np.flatnonzero(classes >= 0)
    edges = _pure_edges(positions, classes)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for index in keep:
        groups.setdefault(int(component[index]), []).append(int(index))
    return sorted((np.array(g) for g in groups.values()), key=len, reverse=True)


def _pure_edges(positions: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Kx2 index pairs: the sides of Delaunay triangles whose corners share one class."""
    if len(positions) < 3:
        return np.zeros((0, 2), int)
    try:
        triangles = Delaunay(positions, qhull_options="QJ").simplices
    except QhullError:  # fewer than 3 distinct points: no triangle, one action each
        return np.zeros((0, 2), int)
    corner = classes[triangles]
    pure = triangles[
        (corner[:, 0] == corner[:, 1]) & (corner[:, 1] == corner[:, 2]) & (corner[:, 0] >= 0)
    ]
    return np.concatenate([pure[:, [0, 1]], pure[:, [1, 2]], pure[:, [0, 2]]])


def simulate_lasso(positions: np.ndarray, classes: np.ndarray) -> LassoCurve:
    """Cumulative segments labelled per lasso action, largest pure region first."""
    positions = np.asarray(positions, np.float64).reshape(-1, 2)
    classes = np.asarray(classes).reshape(-1)
    sizes = [len(region) for region in pure_regions(positions, classes)]
    return LassoCurve(np.cumsum(np.asarray(sizes, int)), int(np.count_nonzero(classes >= 0)))
