"""Number of Clicks (NoC): a simulated annotator clicking until a mask is good enough.

The standard protocol (Xu et al. 2016; RITM, Sofiiuk et al. 2022): the first click is at the
point of the object farthest from its boundary; each next click is at the point farthest
from the boundary of the largest error region, positive when that region is missed object,
negative when it is spilled background. The first prompt asks for several masks and keeps
the best-scored (as a user picks); later ones refine it with the previous mask_input.
NoC@t is the number of clicks until IoU >= t, or max_clicks when it is never reached.
Masks are HxW bool in canonical pixels; clicks are (X, Y) pixel centres.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from app.evaluation.metrics import mask_iou
from app.evaluation.predictors import Predictor

THRESHOLDS = (0.85, 0.90)
MAX_CLICKS = 20
# An extra click that lowers IoU by more than this is a setback the annotator notices.
WORSE_MARGIN = 0.05


@dataclass(frozen=True)
class Click:
    x: float
    y: float
    positive: bool


def _interior_distance(region: np.ndarray) -> np.ndarray:
    """Distance of each region pixel to the nearest non-region pixel (image edge counts)."""
    padded = np.pad(region, 1).astype(np.uint8)
    return cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]


def _deepest(region: np.ndarray) -> tuple[float, float, float]:
    """(depth, x, y) of the region's deepest pixel; depth 0 for an empty region."""
    distance = _interior_distance(region)
    row, col = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return float(distance[row, col]), float(col), float(row)


def next_click(gt: np.ndarray, pred: np.ndarray | None) -> Click | None:
    """The simulated next click; None when the prediction is already perfect."""
    if pred is None:
        _, x, y = _deepest(gt)
        return Click(x, y, True)
    missed, spilled = gt & ~pred, pred & ~gt
    depth_missed, xm, ym = _deepest(missed)
    depth_spilled, xs, ys = _deepest(spilled)
    if max(depth_missed, depth_spilled) == 0:
        return None
    if depth_missed >= depth_spilled:
        return Click(xm, ym, True)
    return Click(xs, ys, False)


@dataclass
class ClickTrace:
    """One object's simulated session: IoU after each click, the IoUs of every candidate the
    first click offered (the chosen one first), and the time spent encoding and decoding."""

    ious: list[float] = field(default_factory=list)
    first_candidates: list[float] = field(default_factory=list)
    first_scores: list[float] = field(default_factory=list)  # their predicted IoUs
    encode_ms: float = 0.0
    decode_ms: list[float] = field(default_factory=list)


def click_ious(
    predictor: Predictor,
    gt: np.ndarray,
    max_clicks: int = MAX_CLICKS,
    stop_iou: float = max(THRESHOLDS),
) -> list[float]:
    """IoU with `gt` after each simulated click, until IoU >= stop_iou (as RITM's protocol
    does), nothing is left to fix, or max_clicks."""
    return click_trace(predictor, gt, max_clicks, stop_iou).ious


def click_trace(
    predictor: Predictor,
    gt: np.ndarray,
    max_clicks: int = MAX_CLICKS,
    stop_iou: float = max(THRESHOLDS),
) -> ClickTrace:
    """click_ious with the first click's candidates and the timings kept."""
    clicks: list[Click] = []
    pred, handle, trace = None, None, ClickTrace()
    for _ in range(max_clicks):
        click = next_click(gt, pred)
        if click is None:
            break
        clicks.append(click)
        points = np.array([[c.x, c.y] for c in clicks], np.float32)
        labels = np.array([int(c.positive) for c in clicks], np.int32)
        answer = predictor(points, labels, mask_input=handle, multimask=len(clicks) == 1)
        pred, handle = answer.mask, answer.handle
        trace.ious.append(float(mask_iou(gt, pred)))
        if len(clicks) == 1:
            trace.first_candidates = [float(mask_iou(gt, m)) for m in answer.candidates]
            trace.first_scores = list(answer.candidate_scores)
        trace.encode_ms += answer.encode_ms
        trace.decode_ms.append(answer.decode_ms)
        if trace.ious[-1] >= stop_iou:
            break
    return trace


def clicks_to_reach(ious: list[float], threshold: float, max_clicks: int = MAX_CLICKS) -> int:
    """NoC for one object: 1-based index of the first IoU >= threshold, else max_clicks."""
    return next((n for n, iou in enumerate(ious, start=1) if iou >= threshold), max_clicks)


def box_iou(predictor: Predictor, gt: np.ndarray) -> float:
    """IoU of the single mask predicted from the object's tight box (XYXY)."""
    rows, cols = np.flatnonzero(gt.any(axis=1)), np.flatnonzero(gt.any(axis=0))
    box = np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], np.float32)
    empty = np.zeros((0, 2), np.float32)
    return float(mask_iou(gt, predictor(empty, np.zeros(0, np.int32), box=box).mask))


@dataclass
class NocSummary:
    objects: int
    noc: dict[float, float]  # threshold -> mean clicks
    failures: dict[float, int]  # threshold -> objects never reaching it
    first_click_miou: float
    box_miou: float | None
    worse_share: float = float("nan")  # extra clicks that lowered IoU
    much_worse_share: float = float("nan")  # ... by more than WORSE_MARGIN

    def as_dict(self) -> dict[str, object]:
        return {
            "objects": self.objects,
            **{f"noc@{round(t * 100)}": v for t, v in self.noc.items()},
            **{f"failures@{round(t * 100)}": v for t, v in self.failures.items()},
            "first_click_miou": self.first_click_miou,
            "box_miou": self.box_miou,
            "worse_share": self.worse_share,
            "much_worse_share": self.much_worse_share,
        }


def summarize(
    traces: list[list[float]], box_ious: list[float] | None = None, max_clicks: int = MAX_CLICKS
) -> NocSummary:
    """Mean NoC per threshold over objects, failures, 1-click and box mIoU."""
    noc, failures = {}, {}
    for t in THRESHOLDS:
        counts = [clicks_to_reach(ious, t, max_clicks) for ious in traces]
        noc[t] = float(np.mean(counts)) if counts else float("nan")
        failures[t] = sum(not any(i >= t for i in ious) for ious in traces)
    first = [ious[0] if ious else 1.0 for ious in traces]
    steps = [b - a for ious in traces for a, b in zip(ious, ious[1:], strict=False)]
    return NocSummary(
        objects=len(traces),
        noc=noc,
        failures=failures,
        first_click_miou=float(np.mean(first)) if first else float("nan"),
        box_miou=float(np.mean(box_ious)) if box_ious else None,
        worse_share=float(np.mean([s < 0 for s in steps])) if steps else float("nan"),
        much_worse_share=float(np.mean([s < -WORSE_MARGIN for s in steps]))
        if steps
        else float("nan"),
    )
