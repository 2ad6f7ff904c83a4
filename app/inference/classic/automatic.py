"""Automatic masks: a hierarchical merge of superpixels into object-like regions.

Adjacent regions merge cheapest first (colour distance, mildly weighted by the smaller
region's size so specks merge early). Every region formed on the way is a candidate; a
region that forms early and survives long before it is swallowed is object-like. That
persistence is its stability score; predicted_iou also asks how distinct it is at death.
Scores are on this backend's own scale, so the thresholds default to its own values.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ..base import AutoMask, PreparedImage

DEFAULTS = {
    "pred_iou_thresh": 0.5,
    "stability_score_thresh": 0.3,
    "box_nms_thresh": 0.7,
    "min_mask_region_area": 0,
    "max_masks": 200,
}
MAX_REGION_FRACTION = 0.5
MIN_REGION_FRACTION = 0.0003
FEATURE_COLUMNS = 5


@dataclass
class Node:
    """One region of the merge tree: member superpixels, feature sum, area, birth/death."""

    members: list[int]
    total: np.ndarray
    area: float
    birth: float
    death: float = np.inf


def _cost(a: Node, b: Node, unit: float) -> float:
    distance = float(np.linalg.norm(a.total / a.area - b.total / b.area))
    return distance * (min(a.area, b.area) / unit) ** 0.25


def merge_tree(features: np.ndarray, areas: np.ndarray, edges: np.ndarray) -> list[Node]:
    """All regions of the hierarchy (leaves are superpixels), with birth and death costs.

    features: Kx7 float32 (superpixels.superpixel_features); areas: K; edges: Ex2 int32.
    """
    colour = features[:, :FEATURE_COLUMNS].astype(np.float64)
    # A superpixel is born at its own texture level: a speck of a textured area is no object.
    texture = features[:, 3].astype(np.float64)
    nodes = [
        Node([i], colour[i] * areas[i], float(areas[i]), texture[i]) for i in range(len(areas))
    ]
    unit = float(np.mean(areas))
    neighbours: dict[int, set[int]] = {i: set() for i in range(len(nodes))}
    for a, b in edges:
        neighbours[int(a)].add(int(b))
        neighbours[int(b)].add(int(a))
    heap = [(_cost(nodes[a], nodes[b], unit), int(a), int(b)) for a, b in edges]
    heapq.heapify(heap)
    while heap:
        cost, a, b = heapq.heappop(heap)
        if nodes[a].death < np.inf or nodes[b].death < np.inf:
            continue
        merged = Node(nodes[a].members + nodes[b].members, nodes[a].total + nodes[b].total,
                      nodes[a].area + nodes[b].area, cost)  # fmt: skip
        nodes[a].death = nodes[b].death = cost
        new = len(nodes)
        nodes.append(merged)
        neighbours[new] = (neighbours.pop(a) | neighbours.pop(b)) - {a, b}
        for n in neighbours[new]:
            neighbours[n] -= {a, b}
            neighbours[n].add(new)
            heapq.heappush(heap, (_cost(merged, nodes[n], unit), new, n))
    return nodes


def _scores(node: Node, typical: float) -> tuple[float, float]:
    death = node.death if np.isfinite(node.death) else node.birth * 2 + typical
    stability = 1.0 - node.birth / max(death, 1e-6)
    distinct = death / (death + typical)
    return 0.5 * (stability + distinct), stability


def _overlap(a: np.ndarray, b: np.ndarray, areas: np.ndarray) -> float:
    """IoU of two regions given as K-bool superpixel memberships (exact: both are unions
    of whole superpixels)."""
    return float(areas[a & b].sum() / max(float(areas[a | b].sum()), 1.0))


def automatic_masks(state: PreparedImage, params: dict[str, Any]) -> list[AutoMask]:
    """Object-like regions of a prepared image, best first; masks HxW bool (original size).

    params: SAM's names where they make sense (pred_iou_thresh, stability_score_thresh,
    box_nms_thresh, min_mask_region_area in original pixels) plus max_masks; others
    (points_per_side, crop_n_layers, ...) are ignored.
    """
    p = {**DEFAULTS, **{k: v for k, v in params.items() if k in DEFAULTS and v is not None}}
    labels, areas = state.arrays["superpixels"], state.arrays["areas"]
    nodes = merge_tree(state.arrays["features"], areas, state.arrays["edges"])
    total = float(areas.sum())
    pixel_scale = total / float(np.prod(state.original_size))
    low = max(MIN_REGION_FRACTION * total, float(p["min_mask_region_area"]) * pixel_scale)
    typical = float(np.median([n.death for n in nodes if np.isfinite(n.death)] or [1.0]))
    scored = []
    for node in nodes:
        if low <= node.area <= MAX_REGION_FRACTION * total:
            iou, stability = _scores(node, typical)
            if iou >= p["pred_iou_thresh"] and stability >= p["stability_score_thresh"]:
                scored.append((iou, stability, node))
    scored.sort(key=lambda s: -s[0])
    kept: list[np.ndarray] = []
    out: list[AutoMask] = []
    h, w = state.original_size
    for iou, stability, node in scored:
        member = np.zeros(len(areas), bool)
        member[node.members] = True
        if any(_overlap(member, k, areas) > p["box_nms_thresh"] for k in kept):
            continue
        kept.append(member)
        mask = member[labels]
        if mask.shape != (h, w):
            mask = cv2.resize(mask.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        out.append(AutoMask(mask, float(iou), float(stability)))
        if len(out) >= p["max_masks"]:
            break
    return out
