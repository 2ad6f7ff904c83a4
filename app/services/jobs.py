"""Reading jobs and their per-item outcomes (the runner in app/jobs/ writes them)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Job, JobItem


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def list_jobs(session: Session, project_id: int, limit: int | None = None) -> list[Job]:
    """The project's jobs, newest first."""
    query = select(Job).where(Job.project_id == project_id).order_by(Job.id.desc()).limit(limit)
    return list(session.scalars(query))


def list_job_items(
    session: Session, job_id: int, *, failed_only: bool, offset: int, limit: int
) -> tuple[list[JobItem], int]:
    """One page of a job's items in the order they finished, and how many there are in all."""
    get_job(session, job_id)
    query = select(JobItem).where(JobItem.job_id == job_id)
    if failed_only:
        query = query.where(JobItem.ok.is_(False))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(JobItem.finished_at).offset(offset).limit(limit))
    return list(rows), total
