"""RayPool: the model-holding actors of one job, fed batches of images, read as they finish."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import ray
from ray.exceptions import RayError

from app.config import Settings
from app.distributed.actor import ImageTask, Outcome, PipelineActor
from app.distributed.cluster import NAMESPACE

# An actor that dies (killed, node lost, out of memory) is restarted with its model and the
# batches it held are run again; past these limits its batches fail as items.
MAX_RESTARTS = 3
MAX_TASK_RETRIES = 3
# Batches queued per actor, so the next one is there when one finishes.
DEPTH = 2
# How often a waiting job looks for a cancel or a shutdown.
POLL_SECONDS = 0.2

Stop = Callable[[], bool]
BatchResult = list[Outcome] | str  # one Outcome per image, or why the whole batch failed


class RayPool:
    """Created when a job starts and killed when it ends (done, cancelled or interrupted), so
    no model stays loaded on the cluster between jobs. Actors are named `<name>-<i>`."""

    def __init__(
        self, settings: Settings, *, name: str, count: int, resources: dict[str, Any]
    ) -> None:
        remote = ray.remote(PipelineActor)
        self.names = [f"{name}-{i}" for i in range(count)]
        self.actors: list[Any] = [
            remote.options(
                name=actor_name,
                namespace=NAMESPACE,
                max_restarts=MAX_RESTARTS,
                max_task_retries=MAX_TASK_RETRIES,
                **resources,
            ).remote(settings)
            for actor_name in self.names
        ]

    def __enter__(self) -> RayPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        for actor in self.actors:
            ray.kill(actor, no_restart=True)

    def wait_ready(self, *, load_segmenter: bool, stop: Stop) -> bool:
        """Wait until every actor holds its model; False when stopped first. An actor that
        cannot load its model fails the job with the actor's reason."""
        refs = [actor.ready.remote(load_segmenter) for actor in self.actors]
        while not stop():
            done, _ = ray.wait(refs, num_returns=len(refs), timeout=POLL_SECONDS)
            if len(done) == len(refs):
                try:
                    ray.get(refs)
                except RayError as exc:
                    raise RuntimeError(f"a Ray actor could not start: {exc}") from None
                return True
        return False

    def map(
        self, batches: Iterator[list[ImageTask]], method: str, args: tuple, *, stop: Stop
    ) -> Iterator[tuple[list[ImageTask], BatchResult]]:
        """Run actor.method(batch, *args) for every batch, least-loaded actor first, and yield
        (batch, result) in completion order. Ends early (without error) once stop() is true."""
        in_flight: dict[ray.ObjectRef, tuple[int, list[ImageTask]]] = {}
        load = [0] * len(self.actors)
        exhausted = False
        while True:
            while not exhausted and min(load) < DEPTH:
                batch = next(batches, None)
                if batch is None:
                    exhausted = True
                    break
                index = load.index(min(load))
                ref = getattr(self.actors[index], method).remote(batch, *args)
                in_flight[ref] = (index, batch)
                load[index] += 1
            if not in_flight or stop():
                return
            done, _ = ray.wait(list(in_flight), num_returns=1, timeout=POLL_SECONDS)
            for ref in done:
                index, batch = in_flight.pop(ref)
                load[index] -= 1
                yield batch, _result(ref)


def _result(ref: ray.ObjectRef) -> BatchResult:
    try:
        return ray.get(ref)
    except RayError as exc:
        return f"{type(exc).__name__}: {exc}"
