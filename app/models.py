"""ORM tables for the whole product. Schemas for the HTTP edge live in schemas.py."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC) if value is not None and value.tzinfo else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


# Named constraints, so SQLite batch migrations can find and alter them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as the enum's value (lowercase text), checked by a named CHECK constraint.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Role(enum.StrEnum):
    admin = "admin"
    annotator = "annotator"
    viewer = "viewer"


class ImageStatus(enum.StrEnum):
    ready = "ready"
    failed = "failed"


class SegmentSource(enum.StrEnum):
    auto = "auto"
    manual = "manual"
    propagated = "propagated"
    imported = "imported"
    exemplar = "exemplar"  # proposed by the exemplar job, unlabelled until accepted


class JobState(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.succeeded, JobState.failed, JobState.cancelled)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"), default=Role.annotator)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    embedder: Mapped[str] = mapped_column(String(200), default="timm:tf_efficientnet_lite0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    images: Mapped[list[Image]] = relationship(
        back_populates="project", cascade="all, delete-orphan", passive_deletes=True
    )
    labels: Mapped[list[LabelClass]] = relationship(
        back_populates="project", cascade="all, delete-orphan", passive_deletes=True
    )


class ProjectMember(Base):
    __tablename__ = "project_members"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(_enum(Role, "member_role"), default=Role.annotator)


class Image(Base):
    __tablename__ = "images"
    __table_args__ = (
        UniqueConstraint("project_id", "sha256", name="uq_images_project_sha256"),
        Index("ix_images_project_id_id", "project_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(1024))
    # Canonical size: after EXIF transpose, the frame every coordinate refers to.
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(16))
    byte_size: Mapped[int] = mapped_column(Integer)
    # Relative to Settings.data_dir: the original bytes, untouched.
    stored_path: Mapped[str] = mapped_column(String(1024))
    status: Mapped[ImageStatus] = mapped_column(
        _enum(ImageStatus, "image_status"), default=ImageStatus.ready
    )
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    project: Mapped[Project] = relationship(back_populates="images")


class LabelClass(Base):
    __tablename__ = "label_classes"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_label_classes_project_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    color: Mapped[str] = mapped_column(String(7))
    hotkey: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    project: Mapped[Project] = relationship(back_populates="labels")


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (
        Index("ix_segments_project_label", "project_id", "label_class_id"),
        Index("ix_segments_image_source", "image_id", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised from the image so project-wide map/assign queries need no join.
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    # COCO RLE in the canonical frame: compressed string counts, size [height, width].
    rle_counts: Mapped[str] = mapped_column(Text)
    height: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    # bbox in canonical pixels, XYWH (COCO convention).
    bbox_x: Mapped[float] = mapped_column(Float)
    bbox_y: Mapped[float] = mapped_column(Float)
    bbox_w: Mapped[float] = mapped_column(Float)
    bbox_h: Mapped[float] = mapped_column(Float)
    area: Mapped[int] = mapped_column(Integer)
    source: Mapped[SegmentSource] = mapped_column(_enum(SegmentSource, "segment_source"))
    score: Mapped[float | None] = mapped_column(Float)
    predicted_iou: Mapped[float | None] = mapped_column(Float)
    stability_score: Mapped[float | None] = mapped_column(Float)
    # Containment among automatic masks (part -> whole), for granularity filters.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    label_class_id: Mapped[int | None] = mapped_column(
        ForeignKey("label_classes.id", ondelete="SET NULL")
    )
    # The label was seen by a person (a thumbnail shown, a single fix), not only given to a
    # lasso's unseen tail or accepted in bulk: propagation and review trust only these.
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Optimistic concurrency: bumped on every change; writers send the version they saw.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def rle(self) -> dict[str, Any]:
        return {"size": [self.height, self.width], "counts": self.rle_counts}

    @property
    def bbox(self) -> list[float]:
        return [self.bbox_x, self.bbox_y, self.bbox_w, self.bbox_h]


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.queued)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    failed_items: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class JobItem(Base):
    """One unit of a job (usually one image): written once, so a resumed job skips it."""

    __tablename__ = "job_items"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GroundTruthSegment(Base):
    """An imported reference mask, kept apart from the working segments (for evaluation).

    The category is stored by name: ground truth may name classes the project does not have.
    """

    __tablename__ = "ground_truth_segments"
    __table_args__ = (Index("ix_ground_truth_segments_project_image", "project_id", "image_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(100))
    # COCO RLE in the canonical frame, as in Segment.
    rle_counts: Mapped[str] = mapped_column(Text)
    height: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    bbox_x: Mapped[float] = mapped_column(Float)
    bbox_y: Mapped[float] = mapped_column(Float)
    bbox_w: Mapped[float] = mapped_column(Float)
    bbox_h: Mapped[float] = mapped_column(Float)
    area: Mapped[int] = mapped_column(Integer)
    # COCO crowd region: ignored (neither matched nor missed) by instance matching.
    iscrowd: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def rle(self) -> dict[str, Any]:
        return {"size": [self.height, self.width], "counts": self.rle_counts}


class TokenKind(enum.StrEnum):
    session = "session"  # browser login, sent as an HttpOnly cookie
    api = "api"  # long-lived, for scripts, sent as `Authorization: Bearer`
    invite = "invite"  # one-time: lets an invited user choose a password


class AuthToken(Base):
    """A bearer secret; only its SHA-256 is stored (the secret is shown once, at creation)."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TokenKind] = mapped_column(_enum(TokenKind, "token_kind"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditBatch(Base):
    """One label change (a single label, a batch assign or an undo), written in the same
    transaction as the change itself; its row in `audit_blocks` (label changes) or its rows in
    `audit_changes` (mask changes, and label batches logged before revision 0010) say what
    changed."""

    __tablename__ = "audit_batches"
    __table_args__ = (Index("ix_audit_batches_project_id_id", "project_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as text so the history still names the author after the account is deleted.
    username: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    undo_of: Mapped[int | None] = mapped_column(ForeignKey("audit_batches.id", ondelete="SET NULL"))
    undone_by: Mapped[int | None] = mapped_column(
        ForeignKey("audit_batches.id", ondelete="SET NULL")
    )
    segment_count: Mapped[int] = mapped_column(Integer)
    # Its changes keep what undoing their masks needs (mask batches before revision 0009 don't).
    masks_kept: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditChange(Base):
    """One segment's label change within a batch. No foreign key to segments: the history of
    a deleted segment stays readable."""

    __tablename__ = "audit_changes"

    batch_id: Mapped[int] = mapped_column(
        ForeignKey("audit_batches.id", ondelete="CASCADE"), primary_key=True
    )
    segment_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    old_label_id: Mapped[int | None] = mapped_column(Integer)
    new_label_id: Mapped[int | None] = mapped_column(Integer)
    # The segment's version right after this change: undo refuses unless it is still current.
    new_version: Mapped[int] = mapped_column(Integer)
    # JSON, what undoing a mask change needs (app/history/mask_undo.py); null for label changes.
    mask_undo: Mapped[str | None] = mapped_column(Text)


class AuditBlock(Base):
    """A label-only batch's changes in one row (format in app/history/block.py) instead of a
    row per segment in `audit_changes`: a 1M-segment assign logs one row."""

    __tablename__ = "audit_blocks"

    batch_id: Mapped[int] = mapped_column(
        ForeignKey("audit_batches.id", ondelete="CASCADE"), primary_key=True
    )
    changes: Mapped[bytes] = mapped_column(LargeBinary)


class Suggestion(Base):
    """A predicted label for a segment, never a label: accepting one writes through
    assign_labels. `kind` is the predictor: "propagate" (embedding kNN / logistic head) or
    "exemplar" (PerSAM-style prompting); one suggestion per (segment, kind)."""

    __tablename__ = "suggestions"
    __table_args__ = (
        UniqueConstraint("segment_id", "kind", name="uq_suggestions_segment_kind"),
        Index("ix_suggestions_project_confidence", "project_id", "confidence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    label_id: Mapped[int] = mapped_column(ForeignKey("label_classes.id", ondelete="CASCADE"))
    confidence: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PresenceVisit(Base):
    """Who is on which image of a project, kept in the database so every server process sees
    the same presence and soft locks. Times are wall-clock seconds (several processes)."""

    __tablename__ = "presence"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    image_id: Mapped[int | None] = mapped_column(Integer)
    arrived_at: Mapped[float] = mapped_column(Float)  # the earliest arrival holds the lock
    seen_at: Mapped[float] = mapped_column(Float)
