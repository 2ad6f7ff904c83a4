"""Mask metrics: IoU, semantic per-class IoU, instance matching and AP at IoU 0.5.

Masks are HxW bool arrays in one image's canonical frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two HxW bool masks (1.0 when both are empty)."""
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def _box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def iou_matrix(gts: list[np.ndarray], preds: list[np.ndarray]) -> np.ndarray:
    """G x P float64 IoUs; pairs whose boxes do not overlap are skipped (IoU 0)."""
    result = np.zeros((len(gts), len(preds)))
    pred_boxes = [_box(p) for p in preds]
    for g, gt in enumerate(gts):
        gb = _box(gt)
        for p, pb in enumerate(pred_boxes):
            if gb and pb and gb[0] < pb[2] and pb[0] < gb[2] and gb[1] < pb[3] and pb[1] < gb[3]:
                x0, y0, x1, y1 = (
                    min(gb[0], pb[0]),
                    min(gb[1], pb[1]),
                    max(gb[2], pb[2]),
                    max(gb[3], pb[3]),
                )
                result[g, p] = mask_iou(gt[y0:y1, x0:x1], preds[p][y0:y1, x0:x1])
    return result


def greedy_matches(ious: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """One-to-one (gt, pred, iou) pairs with IoU >= threshold, highest IoU first."""
    pairs = sorted(zip(*np.nonzero(ious >= threshold), strict=True), key=lambda gp: -ious[gp])
    used_g, used_p, matches = set(), set(), []
    for g, p in pairs:
        if g not in used_g and p not in used_p:
            used_g.add(g)
            used_p.add(p)
            matches.append((int(g), int(p), float(ious[g, p])))
    return matches


def average_precision(scores: list[float], hits: list[bool], n_gt: int) -> float | None:
    """COCO-style 101-point interpolated AP of ranked predictions; None without ground truth."""
    if n_gt == 0:
        return None
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    tp = np.cumsum(np.asarray(hits, bool)[order])
    recall = tp / n_gt
    precision = tp / np.arange(1, len(order) + 1)
    precision = np.maximum.accumulate(precision[::-1])[::-1] if len(order) else precision
    grid = np.linspace(0, 1, 101)
    index = np.searchsorted(recall, grid, side="left")
    sampled = [precision[i] if i < len(precision) else 0.0 for i in index]
    return float(np.mean(sampled))


@dataclass
class SemanticTally:
    """Per-class pixel intersections and unions, summed over images."""

    intersection: dict[str, int] = field(default_factory=dict)
    union: dict[str, int] = field(default_factory=dict)

    def add(self, gt: np.ndarray, pred: np.ndarray, names: list[str]) -> None:
        """gt, pred: HxW int class maps, value i+1 = names[i], 0 = background."""
        for value, name in enumerate(names, start=1):
            g, p = gt == value, pred == value
            self.intersection[name] = self.intersection.get(name, 0) + int(np.count_nonzero(g & p))
            self.union[name] = self.union.get(name, 0) + int(np.count_nonzero(g | p))

    def ious(self) -> dict[str, float | None]:
        return {n: (self.intersection[n] / u if u else None) for n, u in self.union.items()}

    def miou(self) -> float | None:
        values = [v for v in self.ious().values() if v is not None]
        return float(np.mean(values)) if values else None
