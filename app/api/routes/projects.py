from __future__ import annotations

from fastapi import APIRouter, Response

from app.auth.accounts import member_project_ids
from app.deps import ContextDep, PrincipalDep, ProjectDep
from app.schemas.projects import ProjectCreate, ProjectList, ProjectRead, ProjectUpdate
from app.services import projects as service
from app.services.images import remove_unused_files

router = APIRouter(prefix="/api/projects", tags=["projects"])


def _read(session, projects) -> list[ProjectRead]:  # type: ignore[no-untyped-def]
    counts = service.project_counts(session, [p.id for p in projects])
    return [ProjectRead.model_validate(p).model_copy(update=counts[p.id]) for p in projects]


@router.get("", response_model=ProjectList)
def list_projects(ctx: ContextDep, principal: PrincipalDep) -> ProjectList:
    """Admins see every project; everyone else the projects they are members of."""
    with ctx.db.read() as session:
        found = service.list_projects(session)
        if not principal.is_admin and principal.user_id is not None:
            visible = member_project_ids(session, principal.user_id)
            found = [p for p in found if p.id in visible]
        items = _read(session, found)
    return ProjectList(items=items, total=len(items))


@router.post("", response_model=ProjectRead, status_code=201)
def create_project(ctx: ContextDep, body: ProjectCreate) -> ProjectRead:
    with ctx.db.write() as session:
        project = service.create_project(
            session, name=body.name, description=body.description, embedder=ctx.settings.embedder
        )
        return _read(session, [project])[0]


@router.get("/{project_id}", response_model=ProjectRead)
def get_project(ctx: ContextDep, project: ProjectDep) -> ProjectRead:
    with ctx.db.read() as session:
        return _read(session, [project])[0]


@router.patch("/{project_id}", response_model=ProjectRead)
def update_project(ctx: ContextDep, project: ProjectDep, body: ProjectUpdate) -> ProjectRead:
    with ctx.db.write() as session:
        updated = service.update_project(
            session, project.id, name=body.name, description=body.description
        )
        return _read(session, [updated])[0]


@router.delete("/{project_id}", status_code=204, response_class=Response)
def delete_project(ctx: ContextDep, project: ProjectDep) -> Response:
    with ctx.db.write() as session:
        paths = service.delete_project(session, project.id)
    remove_unused_files(db=ctx.db, files_store=ctx.files, paths=paths)
    return Response(status_code=204)
