"""Evaluation results as a plain-text table and as a JSON-ready dict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # table() alone needs no database: the benches import it on bare machines
    from app.evaluation.project import EvalResult


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def table(rows: list[list[str]]) -> str:
    """Left-aligned first column, right-aligned others, one header row."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def eval_table(result: EvalResult) -> str:
    rows = [["class", "IoU", "AP50", "GT", "labelled"]]
    for entry in sorted(result.classes.values(), key=lambda c: c.name):
        rows.append(
            [
                entry.name,
                _fmt(entry.iou),
                _fmt(entry.ap50),
                str(entry.gt_instances),
                str(entry.predicted_instances),
            ]
        )
    rows.append(
        [
            "all",
            _fmt(result.miou),
            _fmt(result.map50),
            str(result.gt_instances),
            str(result.predicted_instances),
        ]
    )
    summary = (
        f"images {result.images}  mIoU {_fmt(result.miou)}  mask AP50 {_fmt(result.map50)}  "
        f"matched IoU {_fmt(result.matched_iou_mean)}  P50 {_fmt(result.precision50)}  "
        f"R50 {_fmt(result.recall50)}"
    )
    return table(rows) + "\n" + summary


def eval_dict(result: EvalResult) -> dict[str, Any]:
    return {
        "images": result.images,
        "gt_instances": result.gt_instances,
        "predicted_instances": result.predicted_instances,
        "miou": result.miou,
        "map50": result.map50,
        "matched_iou_mean": result.matched_iou_mean,
        "precision50": result.precision50,
        "recall50": result.recall50,
        "classes": [
            {"name": c.name, "iou": c.iou, "ap50": c.ap50, "gt_instances": c.gt_instances,
             "predicted_instances": c.predicted_instances}
            for c in sorted(result.classes.values(), key=lambda c: c.name)
        ],
        "table": eval_table(result),
    }  # fmt: skip
