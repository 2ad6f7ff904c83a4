"""concurrent.futures helpers for the worker: per-caller futures that mirror a shared one."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any


def done_future(value: Any) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def follow(shared: Future) -> Future:
    """A private future that mirrors shared; cancelling it leaves shared untouched."""
    mine: Future = Future()

    def copy(done: Future) -> None:
        error = done.exception()
        settle(mine, None if error else done.result(), error)

    shared.add_done_callback(copy)
    return mine


def settle(future: Future, value: Any = None, error: BaseException | None = None) -> None:
    if future.cancelled() or future.done():
        return
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
    except Exception:  # noqa: BLE001 - cancelled concurrently by its owner
        pass
