"""A team's own labelling rate: actions spent so far and how many segments are right.

Ground truth is the project's imported reference masks, read as a semantic map per image
(each pixel the category of the smallest mask over it; no mask = void). A segment's true
class and its ambiguity follow app/evaluation/truth.py. Actions are the label writes in the
project's history (one per assign, fix or undo; an accept-all writes one per label), so
gallery pages looked at are not counted: the figure is a lower bound of what people did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select

from app.db import Database
from app.evaluation.project import Instance, class_map
from app.evaluation.truth import segment_truth
from app.masks import decode_rle
from app.models import AuditBatch, GroundTruthSegment, LabelClass, Segment


@dataclass(frozen=True)
class LabellingProgress:
    actions: int  # label writes in the history
    segments: int  # on images with ground truth
    ambiguous: int
    labelled: int
    confirmed: int  # labels a person saw
    correct: int  # non-ambiguous segments whose label is their true class

    @property
    def accuracy(self) -> float | None:
        """Share of the non-ambiguous segments correctly labelled."""
        scored = self.segments - self.ambiguous
        return self.correct / scored if scored else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "accuracy": self.accuracy}


def labelling_progress(*, db: Database, project_id: int) -> LabellingProgress:
    with db.read() as session:
        truth_rows = session.scalars(
            select(GroundTruthSegment).where(GroundTruthSegment.project_id == project_id)
        ).all()
        truth = _truth_maps(truth_rows)
        names = sorted({row.category for row in truth_rows})
        query = (
            select(Segment, LabelClass.name)
            .outerjoin(LabelClass, LabelClass.id == Segment.label_class_id)
            .where(Segment.project_id == project_id, Segment.image_id.in_(list(truth)))
        )
        segments = [(s.image_id, s.rle, name, s.confirmed) for s, name in session.execute(query)]
        actions = session.scalar(select(func.count()).where(AuditBatch.project_id == project_id))
    ambiguous = correct = labelled = confirmed = 0
    for image_id, rle, label, seen in segments:
        cls, unsure = segment_truth(decode_rle(rle), truth[image_id], len(names))
        ambiguous += bool(unsure)
        labelled += label is not None
        confirmed += bool(seen) and label is not None
        correct += not bool(unsure) and label in names and names.index(label) == cls
    return LabellingProgress(int(actions or 0), len(segments), ambiguous, labelled, confirmed,
                             correct)  # fmt: skip


def _truth_maps(rows: Sequence[GroundTruthSegment]) -> dict[int, np.ndarray]:
    """image id -> HxW int class index into the sorted category names; void = len(names)."""
    names = sorted({row.category for row in rows})
    by_image: dict[int, list[Instance]] = {}
    shapes: dict[int, tuple[int, int]] = {}
    for row in rows:
        by_image.setdefault(row.image_id, []).append(Instance(row.category, decode_rle(row.rle)))
        shapes[row.image_id] = (row.height, row.width)
    # class_map: 1 + index, 0 where no mask; shift so void is the last index.
    return {
        image_id: np.where((m := class_map(items, names, shapes[image_id])) > 0, m - 1, len(names))
        for image_id, items in by_image.items()
    }
