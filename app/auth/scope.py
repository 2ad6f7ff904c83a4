"""Project scoping: which project a request's path names, and the caller's role in it.

Every id in a path belongs to exactly one project (an image, a segment, a job...). A caller
who is not a member of that project gets the same 404 as for an id that does not exist, so
ids from other projects reveal nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal, weaker
from app.errors import Forbidden, NotFound
from app.models import AuditBatch, Image, Job, LabelClass, ProjectMember, Role, Segment

# Path parameter -> the table whose rows carry a project_id.
SCOPED: dict[str, Any] = {
    "image_id": Image,
    "segment_id": Segment,
    "job_id": Job,
    "label_id": LabelClass,
    "batch_id": AuditBatch,
}
# Path parameters that name no project object (guarded by the route's level instead).
UNSCOPED = frozenset({"user_id", "token_id"})


def _object_name(param: str) -> str:
    return param.removesuffix("_id").replace("_", " ")


def _as_id(param: str, raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) < 2**63:
        raise NotFound(f"{_object_name(param)} {raw} not found")
    return int(raw)


def project_in_path(session: Session, path_params: dict[str, str]) -> int | None:
    """The one project all ids in the path belong to (None if the path names none).

    Raises NotFound for a missing object or ids from different projects, and Forbidden for a
    parameter nobody taught this module about (fail closed).
    """
    project_id: int | None = None
    for param, raw in path_params.items():
        if param in UNSCOPED:
            continue
        object_id = _as_id(param, raw)
        if param == "project_id":
            owner: int | None = object_id
        elif param in SCOPED:
            model = SCOPED[param]
            owner = session.scalar(select(model.project_id).where(model.id == object_id))
        else:
            raise Forbidden(f"path parameter {param!r} has no scope rule", code="unscoped_route")
        if owner is None or (project_id is not None and owner != project_id):
            raise NotFound(f"{_object_name(param)} {raw} not found")
        project_id = owner
    return project_id


def role_in_project(session: Session, principal: Principal, project_id: int | None) -> Role:
    """The caller's effective role: their own role, narrowed by their membership role.

    A non-member gets NotFound, exactly as if the project did not exist.
    """
    if principal.is_admin or project_id is None:
        return principal.role
    member_role = session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == principal.user_id
        )
    )
    if member_role is None:
        raise NotFound(f"project {project_id} not found")
    return weaker(principal.role, member_role)
