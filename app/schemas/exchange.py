from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

ExportFormat = Literal["coco", "coco-polygons", "yolo-seg", "masks-png", "csv"]
ImportFormat = Literal["coco", "yolo-seg"]
ImportTarget = Literal["labels", "ground-truth"]


class SkippedItem(BaseModel):
    item: str
    reason: str


class ImportReportRead(BaseModel):
    target: str
    images: int
    imported: int
    skipped: list[SkippedItem]


class ClassScore(BaseModel):
    name: str
    iou: float | None
    ap50: float | None
    gt_instances: int
    predicted_instances: int


class EvalRead(BaseModel):
    """Current labels against the imported ground truth (see app/evaluation/project.py)."""

    images: int
    gt_instances: int
    predicted_instances: int
    miou: float | None
    map50: float | None
    matched_iou_mean: float | None
    precision50: float | None
    recall50: float | None
    classes: list[ClassScore]
    table: str
    extra: dict[str, Any] = {}
