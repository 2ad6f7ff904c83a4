"""The job runner: persistent background jobs with progress, cancel and resume.

A job is a row in `jobs`; its units of work (usually images) are rows in `job_items`, each
written in the same transaction as that unit's results, so a unit is recorded exactly once and
a restarted server resumes after the last finished unit. Handlers are plain functions
`handler(job: JobContext) -> None` registered per kind. Which process runs a job, when several
share a PostgreSQL database, is jobs/claims.py's business.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import Conflict, Invalid, NotFound
from app.jobs.claims import JobClaims, claiming_loop
from app.models import Job, JobItem, JobState

log = logging.getLogger(__name__)
T = TypeVar("T")


class JobCancelled(Exception):
    """Raised inside a handler when the user cancelled the job."""


class JobInterrupted(Exception):
    """Raised inside a handler when the server shuts down; the job resumes on next start."""


class JobContext:
    """What a handler sees: its params, progress reporting and the exactly-once item write."""

    def __init__(self, runner: JobRunner, job: Job) -> None:
        self.runner = runner
        self.db = runner.db
        self.job_id = job.id
        self.project_id = job.project_id
        self.kind = job.kind
        self.params: dict[str, Any] = dict(job.params or {})
        with self.db.read() as session:
            self.finished_keys = set(
                session.scalars(select(JobItem.item_key).where(JobItem.job_id == job.id))
            )

    def should_stop(self) -> bool:
        """True once the job was cancelled or the server is stopping (for long inner loops)."""
        return self.runner.stopping.is_set() or self.runner.is_cancel_requested(self.job_id)

    def check(self) -> None:
        """Raise if the job was cancelled or the server is stopping."""
        if self.runner.stopping.is_set():
            raise JobInterrupted()
        if self.runner.is_cancel_requested(self.job_id):
            raise JobCancelled()

    def for_each(
        self,
        items: Sequence[T],
        key: Callable[[T], str],
        work: Callable[[T], Callable[[Session], object] | None],
    ) -> None:
        """Run work(item) for every item not finished yet and record it as one exactly-once item
        (its returned write runs in the item's transaction). Checks for cancel between items;
        a failing item is recorded with its error and skipped, never fatal, unless the job is
        stopping, when the stop wins (a stop often surfaces as the work's own exception)."""
        self.set_total(len(items))
        for item in items:
            done = key(item)
            self.check()
            if done in self.finished_keys:
                continue
            try:
                write = work(item)
            except (JobCancelled, JobInterrupted):
                raise
            except Exception as exc:
                self.check()
                self.complete_item(done, error=f"{type(exc).__name__}: {exc}")
                continue
            self.complete_item(done, write)

    def set_total(self, total: int) -> None:
        with self.db.write() as session:
            job = session.get(Job, self.job_id)
            if job is not None:
                job.total = total
        self.runner.notify()

    def complete_item(
        self,
        key: str,
        write: Callable[[Session], object] | None = None,
        *,
        error: str | None = None,
    ) -> None:
        """Record one finished unit and its results atomically; a no-op if already recorded.

        Refuses (JobCancelled) when cancel was requested, so nothing is written after it.
        """
        if key in self.finished_keys:
            return
        with self.db.write() as session:
            # The job row's lock orders item writes; the item's own row says whether an earlier
            # holder of this job (a process that died after writing it) already recorded it.
            job = session.get(Job, self.job_id, with_for_update=True)
            if job is None or job.cancel_requested:
                raise JobCancelled()
            if session.get(JobItem, (self.job_id, key)) is None:
                if write is not None and error is None:
                    write(session)
                session.add(
                    JobItem(job_id=self.job_id, item_key=key, ok=error is None, error=error)
                )
                job.done += 1
                job.failed_items += error is not None
        self.finished_keys.add(key)
        self.runner.notify()


Handler = Callable[[JobContext], None]


@dataclass(frozen=True)
class JobKind:
    """A registered kind of job: what runs it and the pydantic model its params must fit."""

    run: Handler
    params: type[BaseModel] | None = None


class JobRunner:
    """Runs queued jobs on worker threads, one job per thread at a time."""

    def __init__(self, db: Database, handlers: dict[str, Handler], *, threads: int = 1) -> None:
        self.db = db
        self.handlers = dict(handlers)
        self.param_models: dict[str, type[BaseModel]] = {}
        self.stopping = threading.Event()
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._loop, name=f"job-runner-{i}", daemon=True)
            for i in range(threads)
        ]
        self._revision_lock = threading.Lock()
        self.revision = 0
        self.claims = JobClaims(db)
        self._wake = threading.Event()
        # Tells the other processes that something changed (set by the app on PostgreSQL).
        self.publish: Callable[[], None] = lambda: None

    # lifecycle
    def start(self) -> None:
        """Requeue jobs left running by a previous process, then start the threads. (On a
        shared database the threads claim them: a running job may belong to a live process.)"""
        if not self.db.shared:
            self._requeue_left_running()
        for thread in self._threads:
            thread.start()

    def _requeue_left_running(self) -> None:
        with self.db.write() as session:
            for job in session.scalars(select(Job).where(Job.state == JobState.running)):
                job.state = JobState.queued
            pending = list(
                session.scalars(select(Job.id).where(Job.state == JobState.queued).order_by(Job.id))
            )
        for job_id in pending:
            self._queue.put(job_id)

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self._wake.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)
        self.claims.close()

    def register(self, kinds: dict[str, JobKind]) -> None:
        for name, kind in kinds.items():
            self.handlers[name] = kind.run
            if kind.params is not None:
                self.param_models[name] = kind.params

    # public operations
    def create(
        self,
        *,
        project_id: int,
        kind: str,
        params: dict[str, Any],
        created_by: int | None = None,
        enqueue: bool = True,
    ) -> Job:
        if kind not in self.handlers:
            known = ", ".join(sorted(self.handlers))
            raise Invalid(
                f"unknown job kind {kind!r}; known kinds: {known}", code="unknown_job_kind"
            )
        params = self._validated(kind, params, project_id)
        with self.db.write() as session:
            job = Job(project_id=project_id, kind=kind, params=params, created_by=created_by)
            session.add(job)
            session.flush()
        if enqueue:
            self._queue.put(job.id)
            self._wake.set()
        self.notify()
        return job

    def _validated(self, kind: str, params: dict[str, Any], project_id: int) -> dict[str, Any]:
        """Params through the kind's model; validators that check the database get the job's
        project as validation context (`info.context["project_id"]`)."""
        model = self.param_models.get(kind)
        if model is None:
            return params
        try:
            checked = model.model_validate(params, context={"project_id": project_id})
            return checked.model_dump(mode="json", exclude_unset=True)
        except ValidationError as exc:
            detail = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
            first = detail[0]
            where = ".".join(str(p) for p in first["loc"]) or "params"
            raise Invalid(f"{kind} params: {where}: {first['msg']}", detail=detail) from None

    def cancel(self, job_id: int) -> Job:
        """Request cancellation; a queued job is cancelled at once, a running one at its next check."""
        with self.db.write() as session:
            job = session.get(Job, job_id, with_for_update=True)
            if job is None:
                raise NotFound(f"job {job_id} not found")
            if job.state.finished:
                raise Conflict(f"job {job_id} already {job.state.value}", code="job_finished")
            job.cancel_requested = True
            if job.state == JobState.queued:
                _finish(job, JobState.cancelled)
        self.notify()
        return job

    def is_cancel_requested(self, job_id: int) -> bool:
        with self.db.read() as session:
            return bool(session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))

    # change notification (for progress streams)
    def notify(self) -> None:
        """Something about jobs changed here: wake this process's streams and tell the others."""
        self.bump()
        self.publish()

    def bump(self) -> None:
        """Wake this process's progress streams and idle runner threads (no publishing)."""
        with self._revision_lock:
            self.revision += 1
        self._wake.set()

    # the worker loop
    def _loop(self) -> None:
        if self.db.shared:
            claiming_loop(self.claims, self._execute, stopping=self.stopping, wake=self._wake)
            return
        while True:
            job_id = self._queue.get()
            if job_id is None or self.stopping.is_set():
                return
            try:
                self._run(job_id)
            except Exception:  # never let one job kill the runner thread
                log.exception("job %s crashed the runner loop", job_id)

    def run_one(self, job_id: int) -> None:
        """Run one queued job in the calling thread (the CLI), leaving every other job alone."""
        self._run(job_id)

    def _run(self, job_id: int) -> None:
        job = self.claims.claim(job_id)
        if job is not None:
            self._execute(job)

    def _execute(self, job: Job) -> None:
        try:
            self._execute_claimed(job)
        finally:
            self.claims.release(job.id)

    def _execute_claimed(self, job: Job) -> None:
        job_id = job.id
        self.notify()
        state, error = JobState.succeeded, None
        try:
            self.handlers[job.kind](JobContext(self, job))
        except JobInterrupted:
            return  # stays running in the database: resumed by the next start()
        except JobCancelled:
            state = JobState.cancelled
        except Exception as exc:
            log.exception("job %s (%s) failed", job_id, job.kind)
            state, error = JobState.failed, f"{type(exc).__name__}: {exc}"
        with self.db.write() as session:
            row = session.get(Job, job_id)
            if row is not None:
                _finish(row, JobState.cancelled if row.cancel_requested else state, error)
        self.notify()


def _finish(job: Job, state: JobState, error: str | None = None) -> None:
    job.state = state
    job.error = error
    job.finished_at = datetime.now(UTC)
