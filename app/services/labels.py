"""Label classes of a project: names unique per project, colours, hotkeys 1-9."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.models import LabelClass

# A palette with good contrast on photographs and between neighbours (Tableau 10).
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip


def list_labels(session: Session, project_id: int) -> list[LabelClass]:
    query = select(LabelClass).where(LabelClass.project_id == project_id).order_by(LabelClass.id)
    return list(session.scalars(query))


def get_label(session: Session, project_id: int, label_id: int) -> LabelClass:
    label = session.get(LabelClass, label_id)
    if label is None or label.project_id != project_id:
        raise NotFound(f"label {label_id} not found in project {project_id}")
    return label


def _check_unique(session: Session, project_id: int, name: str, exclude_id: int | None) -> None:
    query = select(LabelClass.id).where(
        LabelClass.project_id == project_id, LabelClass.name == name
    )
    if exclude_id is not None:
        query = query.where(LabelClass.id != exclude_id)
    if session.scalar(query) is not None:
        raise Conflict(f"label {name!r} already exists in this project", code="duplicate_name")


def _free_hotkey(session: Session, project_id: int) -> int | None:
    used = {label.hotkey for label in list_labels(session, project_id)}
    return next((key for key in range(1, 10) if key not in used), None)


def _release_hotkey(session: Session, project_id: int, hotkey: int, exclude_id: int | None) -> None:
    """A hotkey belongs to one label: giving it to a new one takes it from the old."""
    for label in list_labels(session, project_id):
        if label.hotkey == hotkey and label.id != exclude_id:
            label.hotkey = None


def _distinct_color(labels: list[LabelClass]) -> str:
    """The first palette colour no label uses yet (cycling once all are taken)."""
    used = {label.color.lower() for label in labels}
    return next((c for c in PALETTE if c.lower() not in used), PALETTE[len(labels) % len(PALETTE)])


def create_label(
    session: Session, project_id: int, *, name: str, color: str | None, hotkey: int | None
) -> LabelClass:
    _check_unique(session, project_id, name, None)
    if hotkey is None:
        hotkey = _free_hotkey(session, project_id)
    else:
        _release_hotkey(session, project_id, hotkey, None)
    label = LabelClass(
        project_id=project_id,
        name=name,
        color=(color or _distinct_color(list_labels(session, project_id))).lower(),
        hotkey=hotkey,
    )
    session.add(label)
    session.flush()
    return label


def update_label(
    session: Session,
    project_id: int,
    label_id: int,
    *,
    name: str | None,
    color: str | None,
    hotkey: int | None,
) -> LabelClass:
    label = get_label(session, project_id, label_id)
    if name is not None and name != label.name:
        _check_unique(session, project_id, name, label_id)
        label.name = name
    if color is not None:
        label.color = color.lower()
    if hotkey is not None:
        _release_hotkey(session, project_id, hotkey, label_id)
        label.hotkey = hotkey
    session.flush()
    return label
