"""Projects: create, read with counts, update, delete."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.models import Image, Project, Segment


def get_project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project


def project_counts(session: Session, project_ids: list[int]) -> dict[int, dict[str, int]]:
    """image_count, segment_count and labelled_count per project id."""
    counts = {
        pid: {"image_count": 0, "segment_count": 0, "labelled_count": 0} for pid in project_ids
    }
    images = select(Image.project_id, func.count()).where(Image.project_id.in_(project_ids))
    for pid, n in session.execute(images.group_by(Image.project_id)):
        counts[pid]["image_count"] = n
    # Per project, two plain counts over the (project, label) index: at 1M segments on SQLite
    # 25 ms + the labelled range, against 63 ms for one grouped count of both.
    for pid in project_ids:
        segments = select(func.count()).where(Segment.project_id == pid)
        counts[pid]["segment_count"] = session.scalar(segments) or 0
        labelled = segments.where(Segment.label_class_id.is_not(None))
        counts[pid]["labelled_count"] = session.scalar(labelled) or 0
    return counts


def list_projects(session: Session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.id)))


def _ensure_unique_name(session: Session, name: str, *, exclude_id: int | None = None) -> None:
    query = select(Project.id).where(Project.name == name)
    if exclude_id is not None:
        query = query.where(Project.id != exclude_id)
    if session.scalar(query) is not None:
        raise Conflict(f"a project named {name!r} already exists", code="duplicate_name")


def create_project(session: Session, *, name: str, description: str = "", embedder: str) -> Project:
    _ensure_unique_name(session, name)
    project = Project(name=name, description=description, embedder=embedder)
    session.add(project)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent writer from another process
        raise Conflict(f"a project named {name!r} already exists", code="duplicate_name") from exc
    return project


def update_project(
    session: Session, project_id: int, *, name: str | None, description: str | None
) -> Project:
    project = get_project(session, project_id)
    if name is not None and name != project.name:
        _ensure_unique_name(session, name, exclude_id=project_id)
        project.name = name
    if description is not None:
        project.description = description
    session.flush()
    return project


def delete_project(session: Session, project_id: int) -> list[str]:
    """Delete the project and its rows; returns the stored paths of its images for cleanup."""
    project = get_project(session, project_id)
    paths = list(session.scalars(select(Image.stored_path).where(Image.project_id == project_id)))
    session.delete(project)
    session.flush()
    return paths


def find_project(session: Session, ref: str) -> Project:
    """A project by id or by exact name (for the command line)."""
    found = session.get(Project, int(ref)) if ref.isdigit() else None
    found = found or session.scalar(select(Project).where(Project.name == ref))
    if found is None:
        raise NotFound(f"no project {ref!r} (give its id or exact name)")
    return found
