"""AppContext: the long-lived services one app instance owns (built in create_app)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.config import Settings
from app.db import Database
from app.jobs.runner import JobRunner
from app.maps.store import MapStore
from app.pipeline.vectors import Embedders, VectorStores
from app.services.image_files import ImageFiles


@dataclass
class AppContext:
    settings: Settings
    db: Database
    files: ImageFiles
    jobs: JobRunner
    maps: MapStore
    vectors: VectorStores
    embedders: Embedders
    # Filled by later subsystems (inference worker, embedding stores...), keyed by name.
    extras: dict[str, Any] = field(default_factory=dict)
