"""ModelFetcher: obtains missing official weights on a background thread, with progress, then
hands them to a callback (the app loads SAM and switches the worker to it)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.inference.checkpoints import obtain_official

log = logging.getLogger(__name__)


class ModelFetcher:
    """state: fetching -> loading -> ready, or failed (error says why)."""

    def __init__(self, arch: str, models_dir: Path, on_ready: Callable[[Path], None]) -> None:
        self.arch = arch
        self.models_dir = models_dir
        self.on_ready = on_ready
        self.state = "fetching"
        self.error: str | None = None
        self.done_bytes = 0
        self.total_bytes: int | None = None
        self.finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name="model-fetch", daemon=True)
        self._logged = 0.0

    def start(self) -> None:
        self._thread.start()

    def describe(self) -> dict[str, Any]:
        """For /api/health: what is being fetched and how far it got."""
        return {
            "arch": self.arch,
            "state": self.state,
            "done_bytes": self.done_bytes,
            "total_bytes": self.total_bytes,
            "error": self.error,
        }

    def _progress(self, done: int, total: int | None) -> None:
        self.done_bytes, self.total_bytes = done, total
        if time.monotonic() - self._logged > 5:
            self._logged = time.monotonic()
            log.info("fetching %s weights: %s of %s bytes", self.arch, done, total or "?")

    def _run(self) -> None:
        try:
            path = obtain_official(self.arch, self.models_dir, progress=self._progress)
            self.state = "loading"
            self.on_ready(path)
            self.state = "ready"
            log.info("%s weights ready: SAM now answers", self.arch)
        except Exception as exc:  # noqa: BLE001 - the fallback keeps answering; health says why
            log.exception("could not obtain the %s weights", self.arch)
            self.error = str(exc)
            self.state = "failed"
        finally:
            self.finished.set()
