"""CSV: one row per segment (image, label, bbox, area, source, who, when)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from app.exchange.dataset import ExportImage

COLUMNS = (
    "image_id", "image_file", "segment_id", "label", "bbox_x", "bbox_y", "bbox_w", "bbox_h",
    "area", "source", "score", "created_by", "created_at", "updated_at",
)  # fmt: skip


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(text: str) -> str:
    """User text (label and file names) made inert for spreadsheets: a leading quote."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_rows(images: Iterable[ExportImage]) -> Iterable[list[object]]:
    for image in images:
        for s in image.segments:
            yield [
                image.id, cell_text(image.filename), s.id, cell_text(s.label.name) if s.label else "", *s.bbox,
                s.area, s.source, "" if s.score is None else s.score, s.created_by or "",
                s.created_at.isoformat(), s.updated_at.isoformat(),
            ]  # fmt: skip


def csv_text(images: Iterable[ExportImage]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(csv_rows(images))
    return buffer.getvalue()
