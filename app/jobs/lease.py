"""Which process runs a job, when several share one PostgreSQL database.

A process that claims a job holds a session-level advisory lock on it, on one connection kept
for that purpose. The lock lives exactly as long as that connection: when the process dies
(SIGKILL, OOM, power cut) PostgreSQL drops the connection and the lock with it, so another
process sees the job's lock free and resumes the job after its last finished item. A job
still "running" with its lock held belongs to a live process and is left alone.

With SQLite one process serves the database: every lease is granted (LocalLeases).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

# Advisory locks share one key space per database: the first key says "job lease".
_NAMESPACE = 0x1A550


class LocalLeases:
    """One process, one runner: every lease is granted."""

    def try_acquire(self, job_id: int) -> bool:
        return True

    def release(self, job_id: int) -> None:
        return None

    def close(self) -> None:
        return None


class AdvisoryLeases:
    """Job leases as PostgreSQL session-level advisory locks on a dedicated connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._lock = threading.Lock()

    def _execute(self, sql: str, job_id: int) -> bool:
        with self._lock:
            if self._connection is None or self._connection.closed:
                conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                self._connection = conn
            result = self._connection.execute(text(sql), {"ns": _NAMESPACE, "id": job_id})
            return bool(result.scalar())

    def try_acquire(self, job_id: int) -> bool:
        """True when this process now holds the job (a re-entrant hold counts: callers keep
        their own set of jobs they run)."""
        return self._execute("SELECT pg_try_advisory_lock(:ns, :id)", job_id)

    def release(self, job_id: int) -> None:
        try:
            self._execute("SELECT pg_advisory_unlock(:ns, :id)", job_id)
        except Exception:  # a lost connection released every lease already
            log.warning("could not release the lease of job %s", job_id, exc_info=True)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
