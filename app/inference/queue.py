"""The worker's priority queue: clicks first, then the viewed image's encode, then prefetch.

Tasks are ordered by (priority, arrival). A queued encode can be raised to a more urgent
priority (a prefetched image the user now opens); the stale heap entry is skipped when popped.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np


class Priority(IntEnum):
    DECODE = 0
    ENCODE_INTERACTIVE = 1
    PREFETCH = 2
    BACKGROUND = 3


@dataclass(eq=False)
class EncodeTask:
    """Encode one image (HxWx3 uint8) for cache key `key`."""

    key: tuple[str, str]
    image: np.ndarray
    priority: Priority
    taken: bool = False


@dataclass(eq=False)
class CallTask:
    """Run fn(segmenter) on the worker thread and settle future with its result."""

    fn: Callable[[Any], Any]
    future: Future
    priority: Priority
    taken: bool = False


Task = EncodeTask | CallTask


@dataclass
class TaskQueue:
    """Thread-safe priority queue with encode batching. close() wakes and ends all waits."""

    _heap: list[tuple[int, int, Task]] = field(default_factory=list)
    _counter: itertools.count = field(default_factory=itertools.count)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _closed: bool = False

    def push(self, task: Task) -> None:
        with self._cond:
            heapq.heappush(self._heap, (int(task.priority), next(self._counter), task))
            self._cond.notify()

    def raise_priority(self, task: EncodeTask, priority: Priority) -> None:
        """Make a queued encode at least as urgent as priority (no-op if taken or already so)."""
        with self._cond:
            if task.taken or priority >= task.priority:
                return
            task.priority = priority
            heapq.heappush(self._heap, (int(priority), next(self._counter), task))
            self._cond.notify()

    def pop_batch(self, max_batch: int, *, most_urgent: Priority | None = None) -> list[Task]:
        """Block for the most urgent task; an encode comes with up to max_batch - 1 more encodes.

        most_urgent: return [] at once unless a task at least that urgent is queued.
        Returns [] when the queue is closed.
        """
        with self._cond:
            while True:
                self._drop_stale()
                if self._closed:
                    return []
                if self._heap and (most_urgent is None or self._heap[0][0] <= most_urgent):
                    return self._take(max_batch)
                if most_urgent is not None:
                    return []
                self._cond.wait()

    def close(self) -> list[Task]:
        """Stop serving; returns the tasks that will never run."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            left = [t for _, _, t in self._heap if not t.taken]
            self._heap.clear()
            return list({id(t): t for t in left}.values())

    def _take(self, max_batch: int) -> list[Task]:
        first = self._pop()
        batch: list[Task] = [first]
        while isinstance(first, EncodeTask) and len(batch) < max_batch:
            self._drop_stale()
            if not self._heap or not isinstance(self._heap[0][2], EncodeTask):
                break
            batch.append(self._pop())
        return batch

    def _pop(self) -> Task:
        _, _, task = heapq.heappop(self._heap)
        task.taken = True
        return task

    def _drop_stale(self) -> None:
        while self._heap and (
            self._heap[0][2].taken or self._heap[0][0] != self._heap[0][2].priority
        ):
            heapq.heappop(self._heap)
