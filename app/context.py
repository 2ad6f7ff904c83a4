"""AppContext: the long-lived services one app instance owns, one typed field each.

Built in one place, app/bootstrap.py, for the server and for every CLI command alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.auth.service import AuthService
from app.config import Settings
from app.db import Database
from app.errors import ServiceUnavailable
from app.inference.candidates import CandidatePicks
from app.inference.fetcher import ModelFetcher
from app.inference.handles import HandleStore
from app.inference.worker import InferenceWorker
from app.jobs.runner import JobRunner
from app.live.hub import LiveHub
from app.maps.cache import MapCache
from app.maps.store import MapStore
from app.pipeline.vectors import Embedders, VectorStores
from app.services.image_files import ImageFiles
from app.similar.index import SimilarityIndexes

if TYPE_CHECKING:  # both import optional packages (ray; psycopg, the postgres extra)
    from app.distributed.cluster import RayCluster
    from app.live.signal import PgSignal


@dataclass
class AppContext:
    settings: Settings
    db: Database
    files: ImageFiles
    jobs: JobRunner
    maps: MapStore
    map_cache: MapCache
    vectors: VectorStores
    embedders: Embedders
    # Built with the context; bootstrap.start_services loads its model.
    inference: InferenceWorker
    # Fetches missing official weights in the background, then switches the worker to SAM.
    model_fetch: ModelFetcher | None
    auth: AuthService
    live: LiveHub
    mask_handles: HandleStore
    candidate_picks: CandidatePicks
    similar: SimilarityIndexes
    # On PostgreSQL: LISTEN/NOTIFY between server processes (bootstrap.start_services).
    signal: PgSignal | None = None
    # The Ray connection, made by the first Ray job (app/distributed/jobs.py).
    ray: RayCluster | None = None

    def require_model(self) -> InferenceWorker:
        """The inference worker if it has a model, else 503 `model_unavailable` saying why."""
        if not self.inference.available:
            raise ServiceUnavailable(self.inference.unavailable_reason, code="model_unavailable")
        return self.inference
