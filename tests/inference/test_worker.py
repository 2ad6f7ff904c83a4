import asyncio
import threading
import time

import numpy as np
import pytest

from app.inference.base import ModelUnavailable, Prompt
from app.inference.cache import EmbeddingCache
from app.inference.queue import Priority
from app.inference.worker import InferenceWorker, WorkerCrashed
from tests.inference.fakes import FakeSegmenter


def loader(seed: int = 0):
    image = np.full((20, 30, 3), seed, np.uint8)
    return lambda: image


CLICK = Prompt(points=np.array([[5.0, 6.0]], np.float32), point_labels=np.array([1], np.int32))


@pytest.fixture
def fake():
    return FakeSegmenter()


@pytest.fixture
def worker(fake, tmp_path):
    w = InferenceWorker(lambda: fake, EmbeddingCache(10**8, tmp_path), max_batch=3)
    w.start()
    yield w
    fake.gate.set()  # never leave the worker parked in a failed test
    w.stop()


def test_encoder_runs_once_per_image_under_concurrent_requests(worker, fake):
    fake.gate.clear()
    futures = [
        worker.submit_prepare("img-a", loader(1), Priority.ENCODE_INTERACTIVE) for _ in range(8)
    ]
    fake.gate.set()
    states = [f.result(timeout=10) for f in futures]
    assert worker.stats.encoded == 1 and all(s is states[0] for s in states)
    assert (
        worker.submit_prepare("img-a", loader(1), Priority.BACKGROUND).result(timeout=5)
        is states[0]
    )
    assert worker.stats.encoded == 1


def test_predict_returns_masks_and_timings(worker):
    prediction = asyncio.run(worker.predict("img-a", loader(), CLICK))
    assert prediction.masks[0].mask.shape == (20, 30) and prediction.masks[0].mask[6, 5]
    assert prediction.encode_ms >= 0 and prediction.decode_ms >= 0


def test_queued_encodes_are_batched_and_clicks_go_first(worker, fake):
    state = worker.prepare_blocking("first", loader(), Priority.ENCODE_INTERACTIVE)
    fake.gate.clear()  # hold the worker inside the next encode
    blocker = worker.submit_prepare("blocker", loader(9), Priority.BACKGROUND)
    _wait_until(lambda: fake.entered == 2)
    background = [worker.submit_prepare(f"bg{i}", loader(i), Priority.BACKGROUND) for i in range(4)]
    time.sleep(0.2)  # let the I/O pool queue them
    click = worker.submit_call(lambda s: s.predict(state, CLICK), Priority.DECODE)
    fake.gate.set()
    click.result(timeout=10)
    for f in [blocker, *background]:
        f.result(timeout=10)
    assert fake.log[2] == "decode", fake.log
    assert fake.batches[2:] == [3, 1]


def test_prefetched_encode_is_promoted_when_the_user_opens_the_image(worker, fake):
    fake.gate.clear()
    worker.submit_prepare("blocker", loader(9), Priority.BACKGROUND)
    _wait_until(lambda: fake.entered == 1)
    worker.prefetch([(f"p{i}", loader(i)) for i in range(5)])
    bg = worker.submit_prepare("bg", loader(7), Priority.BACKGROUND)
    time.sleep(0.2)
    wanted = worker.submit_prepare("p4", loader(4), Priority.ENCODE_INTERACTIVE)
    order: list[str] = []
    wanted.add_done_callback(lambda _: order.append("p4"))
    bg.add_done_callback(lambda _: order.append("bg"))
    fake.gate.set()
    wanted.result(timeout=10)
    bg.result(timeout=10)
    assert order == ["p4", "bg"]


def test_a_failing_encode_fails_only_its_own_request(worker, fake):
    fake.fail_next_encode = RuntimeError("out of memory on cuda:0")
    with pytest.raises(RuntimeError, match="out of memory"):
        worker.prepare_blocking("bad", loader(1))
    assert worker.prepare_blocking("good", loader(2)) is not None
    assert worker.prepare_blocking("bad", loader(1)) is not None  # retried later: it works


def test_failing_loader_is_reported_to_the_caller(worker):
    def broken():
        raise FileNotFoundError("image file gone")

    with pytest.raises(FileNotFoundError, match="gone"):
        worker.prepare_blocking("missing", broken)


def test_crashed_worker_restarts_with_a_fresh_model(tmp_path):
    built: list[FakeSegmenter] = []

    def factory():
        built.append(FakeSegmenter())
        built[-1].crash_next_predict = len(built) == 1
        return built[-1]

    worker = InferenceWorker(factory, EmbeddingCache(10**8, None))
    worker.start()
    try:
        with pytest.raises(WorkerCrashed):
            asyncio.run(worker.predict("img", loader(), CLICK))
        prediction = asyncio.run(worker.predict("img", loader(), CLICK))
        assert prediction.masks and worker.stats.restarts == 1 and len(built) == 2
    finally:
        worker.stop()


def test_no_model_means_model_unavailable_with_the_reason(tmp_path):
    def factory():
        raise ModelUnavailable("set LASSOLABEL_SAM_CHECKPOINT")

    worker = InferenceWorker(factory, EmbeddingCache(10**8, None))
    worker.start()
    assert not worker.available
    with pytest.raises(ModelUnavailable, match="LASSOLABEL_SAM_CHECKPOINT"):
        asyncio.run(worker.predict("img", loader(), CLICK))
    worker.prefetch([("img", loader())])  # silently nothing
    worker.stop()


def test_one_client_giving_up_does_not_cancel_the_shared_encode(worker, fake):
    fake.gate.clear()
    first = worker.submit_prepare("img", loader(), Priority.ENCODE_INTERACTIVE)
    second = worker.submit_prepare("img", loader(), Priority.ENCODE_INTERACTIVE)
    assert first.cancel()
    fake.gate.set()
    assert second.result(timeout=10).model_id == "fake-1"


def test_long_auto_job_lets_clicks_through_between_batches(worker, fake):
    state = worker.prepare_blocking("img", loader())
    done = threading.Event()
    masks: list = []

    def job():
        masks.extend(worker.auto_blocking("img", loader(), {"batches": 6, "seconds": 0.1}))
        done.set()

    threading.Thread(target=job).start()
    _wait_until(lambda: "auto-batch" in fake.log)
    worker.submit_call(lambda s: s.predict(state, CLICK), Priority.DECODE).result(timeout=10)
    assert not done.is_set()  # the click did not wait for the whole job
    done.wait(10)
    assert len(masks) == 6 and fake.log.index("decode") < len(fake.log) - 1


def test_stop_fails_queued_work_instead_of_hanging(fake, tmp_path):
    worker = InferenceWorker(lambda: fake, EmbeddingCache(10**8, None))
    worker.start()
    fake.gate.clear()
    running = worker.submit_prepare("a", loader(1), Priority.BACKGROUND)
    _wait_until(lambda: fake.entered == 1)
    queued = worker.submit_call(lambda s: s.predict(None, CLICK), Priority.DECODE)
    threading.Timer(0.2, fake.gate.set).start()
    worker.stop()
    assert running.result(timeout=5) is not None
    with pytest.raises(ModelUnavailable):
        queued.result(timeout=5)


def _wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)
