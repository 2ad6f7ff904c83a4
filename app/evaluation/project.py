"""Current labels of a project against its imported ground truth.

Only images that have ground truth are scored. Semantic: each image becomes a class map
(larger masks painted first, smaller on top), per-class IoU is summed over images, mIoU is
the mean over classes present in either map. Instances: per image and class, predictions
are matched one-to-one to ground truth at IoU >= 0.5 (highest IoU first); a prediction whose
best partner is a crowd region is ignored, as COCO does. Classes match by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from app.db import Database
from app.evaluation.metrics import SemanticTally, average_precision, greedy_matches, iou_matrix
from app.masks import decode_rle
from app.models import GroundTruthSegment, LabelClass, Segment

MATCH_IOU = 0.5


@dataclass(frozen=True)
class Instance:
    category: str
    mask: np.ndarray
    score: float = 1.0
    crowd: bool = False


@dataclass
class ClassResult:
    name: str
    iou: float | None = None
    ap50: float | None = None
    gt_instances: int = 0
    predicted_instances: int = 0
    scores: list[float] = field(default_factory=list)
    hits: list[bool] = field(default_factory=list)


@dataclass
class EvalResult:
    images: int = 0
    classes: dict[str, ClassResult] = field(default_factory=dict)
    matched_ious: list[float] = field(default_factory=list)
    miou: float | None = None

    def cls(self, name: str) -> ClassResult:
        return self.classes.setdefault(name, ClassResult(name))

    @property
    def gt_instances(self) -> int:
        return sum(c.gt_instances for c in self.classes.values())

    @property
    def predicted_instances(self) -> int:
        return sum(c.predicted_instances for c in self.classes.values())

    @property
    def map50(self) -> float | None:
        values = [c.ap50 for c in self.classes.values() if c.ap50 is not None]
        return float(np.mean(values)) if values else None

    @property
    def matched_iou_mean(self) -> float | None:
        return float(np.mean(self.matched_ious)) if self.matched_ious else None

    @property
    def precision50(self) -> float | None:
        n = self.predicted_instances
        return len(self.matched_ious) / n if n else None

    @property
    def recall50(self) -> float | None:
        n = self.gt_instances
        return len(self.matched_ious) / n if n else None


def class_map(instances: list[Instance], names: list[str], shape: tuple[int, int]) -> np.ndarray:
    """HxW int32: 1 + index of the class in `names`, 0 background; small masks on top."""
    result = np.zeros(shape, np.int32)
    for instance in sorted(instances, key=lambda i: -np.count_nonzero(i.mask)):
        result[instance.mask] = names.index(instance.category) + 1
    return result


def score_image(result: EvalResult, gt: list[Instance], pred: list[Instance]) -> None:
    """Add one image's semantic and instance figures into `result`."""
    result.images += 1
    for name in sorted({i.category for i in gt} | {i.category for i in pred}):
        _score_class(
            result,
            [i for i in gt if i.category == name],
            [i for i in pred if i.category == name],
            name,
        )


def _score_class(result: EvalResult, gt: list[Instance], pred: list[Instance], name: str) -> None:
    entry = result.cls(name)
    ious = iou_matrix([g.mask for g in gt], [p.mask for p in pred])
    matches = greedy_matches(ious, MATCH_IOU)
    matched = {p: iou for _, p, iou in matches if not gt[_gt(matches, p)].crowd}
    for p, instance in enumerate(pred):
        best = int(np.argmax(ious[:, p])) if len(gt) else -1
        if p not in matched and best >= 0 and gt[best].crowd and ious[best, p] >= MATCH_IOU:
            continue  # matched a crowd region: neither right nor wrong
        entry.predicted_instances += 1
        entry.scores.append(instance.score)
        entry.hits.append(p in matched)
    entry.gt_instances += sum(not g.crowd for g in gt)
    result.matched_ious.extend(matched.values())


def _gt(matches: list[tuple[int, int, float]], pred_index: int) -> int:
    return next(g for g, p, _ in matches if p == pred_index)


def finish(result: EvalResult, tally: SemanticTally) -> EvalResult:
    for name, iou in tally.ious().items():
        result.cls(name).iou = iou
    for entry in result.classes.values():
        entry.ap50 = average_precision(entry.scores, entry.hits, entry.gt_instances)
    result.miou = tally.miou()
    return result


def evaluate_instances(images: list[tuple[list[Instance], list[Instance]]], shape_of) -> EvalResult:
    """Score (ground truth, predictions) per image; `shape_of(i)` gives image i's (H, W)."""
    result, tally = EvalResult(), SemanticTally()
    for i, (gt, pred) in enumerate(images):
        names = sorted({x.category for x in gt} | {x.category for x in pred})
        shape = shape_of(i)
        tally.add(class_map(gt, names, shape), class_map(pred, names, shape), names)
        score_image(result, gt, pred)
    return finish(result, tally)


def evaluate_project(*, db: Database, project_id: int) -> EvalResult:
    """Labelled segments vs ground truth, over the images that have ground truth."""
    with db.read() as session:
        gt_rows = session.scalars(
            select(GroundTruthSegment).where(GroundTruthSegment.project_id == project_id)
        )
        truth: dict[int, list[Instance]] = {}
        shapes: dict[int, tuple[int, int]] = {}
        for row in gt_rows:
            truth.setdefault(row.image_id, []).append(
                Instance(row.category, decode_rle(row.rle), crowd=row.iscrowd)
            )
            shapes[row.image_id] = (row.height, row.width)
        query = (
            select(Segment, LabelClass.name)
            .join(LabelClass, LabelClass.id == Segment.label_class_id)
            .where(Segment.project_id == project_id, Segment.image_id.in_(list(truth)))
        )
        preds: dict[int, list[Instance]] = {i: [] for i in truth}
        for segment, name in session.execute(query):
            score = 1.0 if segment.score is None else float(segment.score)
            preds[segment.image_id].append(Instance(name, decode_rle(segment.rle), score))
    ids = sorted(truth)
    return evaluate_instances([(truth[i], preds[i]) for i in ids], lambda k: shapes[ids[k]])
