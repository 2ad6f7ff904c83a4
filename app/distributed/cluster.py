"""RayCluster: this server's connection to Ray, made by the first Ray job, closed with the app."""

from __future__ import annotations

import os
import threading
from typing import Any

# Ray's driver-side log printer otherwise swaps builtins.print for its tqdm-safe print, and numba
# cannot compile kernels that call print (pynndescent's) once print is not the builtin.
os.environ.setdefault("RAY_TQDM_PATCH_PRINT", "0")

import ray  # noqa: E402

from app.config import Settings

NAMESPACE = "lassolabel"


class RayCluster:
    """`address`: "local" starts a private cluster on this machine (no dashboard; Ray's own
    servers listen on the node's address, guarded by Ray's token authentication);
    anything else ("auto", "ray://head:10001", a GCS address) joins an existing one. A
    connection made elsewhere in the process (a test's ray.init) is reused and left open."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._owned = False
        self._lock = threading.Lock()

    def connect(self) -> None:
        with self._lock:
            if ray.is_initialized():
                return
            if self.address == "local":
                ray.init(
                    address="local",
                    namespace=NAMESPACE,
                    include_dashboard=False,
                )
            else:
                ray.init(address=self.address, namespace=NAMESPACE)
            self._owned = True

    def close(self) -> None:
        with self._lock:
            if self._owned and ray.is_initialized():
                ray.shutdown()
            self._owned = False

    def actor_plan(self, settings: Settings) -> tuple[int, dict[str, Any], Settings]:
        """(actor count, Ray resources of one actor, the settings it builds its model from):
        one GPU each when the cluster has GPUs, else one CPU (and one torch thread) each;
        LASSOLABEL_RAY_ACTORS overrides the count."""
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        if gpus:
            return settings.ray_actors or gpus, {"num_gpus": 1}, settings
        count = settings.ray_actors or max(1, int(resources.get("CPU", 1)))
        return count, {"num_cpus": 1}, settings.model_copy(update={"torch_threads": 1})
