from __future__ import annotations

from fastapi import APIRouter, Response

from app.deps import ContextDep, IdPath, LiveDep, PrincipalDep, ProjectDep
from app.schemas.labels import LabelCreate, LabelList, LabelRead, LabelUpdate
from app.services import assign
from app.services import labels as service

router = APIRouter(prefix="/api/projects/{project_id}/labels", tags=["labels"])


@router.get("", response_model=LabelList)
def list_labels(ctx: ContextDep, project: ProjectDep) -> LabelList:
    with ctx.db.read() as session:
        labels = service.list_labels(session, project.id)
        return LabelList(items=[LabelRead.model_validate(label) for label in labels])


@router.post("", response_model=LabelRead, status_code=201)
def create_label(ctx: ContextDep, project: ProjectDep, body: LabelCreate) -> LabelRead:
    with ctx.db.write() as session:
        label = service.create_label(
            session, project.id, name=body.name, color=body.color, hotkey=body.hotkey
        )
        return LabelRead.model_validate(label)


@router.patch("/{label_id}", response_model=LabelRead)
def update_label(
    ctx: ContextDep, project: ProjectDep, body: LabelUpdate, label_id: IdPath
) -> LabelRead:
    with ctx.db.write() as session:
        label = service.update_label(
            session, project.id, label_id, name=body.name, color=body.color, hotkey=body.hotkey
        )
        return LabelRead.model_validate(label)


@router.delete("/{label_id}", status_code=204, response_class=Response)
def delete_label(
    ctx: ContextDep, live: LiveDep, project: ProjectDep, principal: PrincipalDep, label_id: IdPath
) -> Response:
    """Delete a label class; its segments become unlabelled (logged, undoable as a batch)."""
    with ctx.db.write() as session:
        cleared = assign.delete_label(session, project.id, label_id, actor=principal.actor)
    if cleared:
        live.notify()
    return Response(status_code=204)
