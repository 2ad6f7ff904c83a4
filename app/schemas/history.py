from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from app.schemas.maps import AssignResult


class AssignReceipt(AssignResult):
    batch_id: int  # undo it with POST .../history/{batch_id}/undo
    versions: dict[int, int]  # segment id -> new version (send it back as expected_versions)


class BatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    user_id: int | None
    username: str
    segment_count: int
    undo_of: int | None
    undone_by: int | None
    masks_kept: bool  # undo also restores masks (mask batches logged since revision 0009)
    created_at: datetime


class BatchList(BaseModel):
    items: list[BatchRead]


class ChangeRead(BaseModel):
    segment_id: int
    old_label_id: int | None
    new_label_id: int | None
    new_version: int


class BatchDetail(BatchRead):
    """One page of a batch's changes, by segment id (`segment_count` is the batch's total)."""

    changes: list[ChangeRead]
    next_after: int | None  # pass as ?after= for the next page; None on the last page


class UndoResult(BaseModel):
    batch_id: int  # the new "undo" batch
    count: int


class PresenceBeat(BaseModel):
    image_id: int | None = None


class PresenceUser(BaseModel):
    username: str
    image_id: int | None


class PresenceRead(BaseModel):
    users: list[PresenceUser]
    locks: dict[int, str]  # image id -> who holds its soft lock
    # On a heartbeat: who holds the image you are on, when it is not you.
    held_by: str | None = None
