"""Which jobs this process runs: claiming a job (its row goes to running, under a lease) and
the loop that claims work from a database several processes share.

With SQLite one process serves the database: a job is claimed when its id comes off the
runner's queue. On PostgreSQL the runners of every process claim queued jobs with
`SELECT ... FOR UPDATE SKIP LOCKED` plus a lease that dies with its process (jobs/lease.py),
so a job runs in one process at a time and another process resumes it when that one dies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select

from app.db import Database
from app.jobs.lease import AdvisoryLeases, LocalLeases
from app.models import Job, JobState

log = logging.getLogger(__name__)

# How often a runner on a shared database looks for work nobody told it about: a job queued
# by a process whose notification was lost, or one left by a process that died.
POLL_SECONDS = 2.0


class JobClaims:
    """The jobs this process holds: `claim` one, `release` it when it ends."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.leases = AdvisoryLeases(db.engine) if db.shared else LocalLeases()
        self._mine: set[int] = set()  # jobs this process runs now

    def claim(self, job_id: int) -> Job | None:
        """The queued job `job_id`, now running here; None when it is not queued (any more)."""
        with self.db.write() as session:
            job = session.get(Job, job_id, with_for_update=True)
            if job is None or job.state != JobState.queued or not self._lease(job_id):
                return None
            _start(job)
            return job

    def claim_next(self) -> Job | None:
        """The oldest queued job, or a running one whose process died (its lease is free)."""
        claimed: Job | None = None
        try:
            with self.db.write() as session:
                candidates = session.scalars(
                    select(Job)
                    .where(Job.state.in_((JobState.queued, JobState.running)))
                    .order_by(Job.id)
                    .limit(32)
                    .with_for_update(skip_locked=True)
                )
                for job in candidates:
                    if job.id not in self._mine and self._lease(job.id):
                        claimed = job
                        _start(job)
                        break
        except Exception:
            if claimed is not None:
                self.release(claimed.id)
            raise
        return claimed

    def release(self, job_id: int) -> None:
        if job_id in self._mine:
            self._mine.discard(job_id)
            self.leases.release(job_id)

    def close(self) -> None:
        self.leases.close()

    def _lease(self, job_id: int) -> bool:
        if not self.leases.try_acquire(job_id):
            return False
        self._mine.add(job_id)
        return True


def claiming_loop(
    claims: JobClaims,
    execute: Callable[[Job], None],
    *,
    stopping: threading.Event,
    wake: threading.Event,
) -> None:
    """Shared database: run whatever job can be claimed, then wait for news or the poll."""
    while not stopping.is_set():
        try:
            while not stopping.is_set() and (job := claims.claim_next()) is not None:
                execute(job)
        except Exception:  # never let one job (or a lost connection) kill the runner
            log.exception("job runner loop failed; retrying")
        wake.wait(POLL_SECONDS)
        wake.clear()


def _start(job: Job) -> None:
    job.state = JobState.running
    job.started_at = job.started_at or datetime.now(UTC)
