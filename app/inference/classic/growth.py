"""Seeded region growing over the superpixel graph: how far does a clicked object extend?

Click-only prompts carry no size. Growing from the clicked superpixels, always adding the
neighbour closest in colour to the region so far, and watching for a jump in that cost
gives object extents at a few granularities (SAM's subpart/part/whole, classically).
"""

from __future__ import annotations

import heapq

import numpy as np

# Stop growing once the region covers this fraction of the image.
MAX_REGION_FRACTION = 0.25
# Feature columns used for growing (Lab mean, L std, gradient) and their weights.
GROW_WEIGHTS = np.array([1.0, 1.0, 1.0, 0.5, 0.5], np.float32)


def _neighbours(count: int, edges: np.ndarray) -> list[np.ndarray]:
    both = np.concatenate([edges, edges[:, ::-1]])
    both = both[np.argsort(both[:, 0], kind="stable")]
    splits = np.searchsorted(both[:, 0], np.arange(1, count))
    return np.split(both[:, 1], splits)


def grow_order(features, areas, edges, positive, negative) -> tuple[list[int], np.ndarray]:
    """Superpixels in the order they join a region grown from `positive` seeds.

    features: Kx7 float32 (superpixels.superpixel_features); areas: K pixel counts;
    edges: Ex2 int32; positive/negative: superpixel ids of clicks (negatives never join).
    Returns (order, join_costs) where order starts with the seeds (cost 0).
    """
    colour = features[:, : len(GROW_WEIGHTS)] * GROW_WEIGHTS
    adjacency = _neighbours(len(features), edges)
    closed = np.zeros(len(features), bool)
    closed[np.asarray(negative, int)] = True
    order = [int(p) for p in dict.fromkeys(positive) if not closed[int(p)]]
    closed[order] = True
    total = (colour[order] * areas[order, None]).sum(axis=0)
    area = float(areas[order].sum())
    heap: list[tuple[float, int]] = []
    costs = [0.0] * len(order)
    limit = MAX_REGION_FRACTION * float(areas.sum())

    def push_neighbours(node: int) -> None:
        fresh = adjacency[node][~closed[adjacency[node]]]
        distances = np.linalg.norm(colour[fresh] - total / max(area, 1.0), axis=1)
        for d, n in zip(distances.tolist(), fresh.tolist(), strict=True):
            heapq.heappush(heap, (d, n))

    for node in order:
        push_neighbours(node)
    while heap and area < limit:
        cost, node = heapq.heappop(heap)
        if closed[node]:
            continue
        closed[node] = True
        order.append(node)
        costs.append(cost)
        total = total + colour[node] * areas[node]
        area += float(areas[node])
        push_neighbours(node)
    return order, np.asarray(costs, np.float32)


def extent_cuts(costs: np.ndarray, count: int) -> list[int]:
    """Up to `count` region sizes (numbers of superpixels), best cut first.

    A cut after k superpixels is good when the next join costs much more than any join
    before it: the region has reached an edge it cannot cross cheaply.
    """
    if len(costs) <= 1:
        return [len(costs)]
    running = np.maximum.accumulate(costs)
    # Where growth stopped at the size limit rather than at an edge, that is no cut.
    gap = np.append(costs[1:], running[-1]) - running
    ranked = np.argsort(-gap, kind="stable")
    return [int(k) + 1 for k in ranked[:count]]
