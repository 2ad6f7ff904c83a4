"""The server-side steps of bench/scale.py, through the real HTTP API of a running server."""

from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

from app.maps.wire import decode_map

TIMEOUT = httpx.Timeout(1800.0)


def run_job(url: str, project_id: int, kind: str, params: dict) -> float:
    """Start a job and wait for it; returns its run time in seconds (queue wait excluded)."""
    created = httpx.post(
        f"{url}/api/projects/{project_id}/jobs",
        json={"kind": kind, "params": params},
        timeout=TIMEOUT,
    )
    created.raise_for_status()
    job_id = created.json()["id"]
    start = time.perf_counter()
    while True:
        job = httpx.get(f"{url}/api/jobs/{job_id}", timeout=TIMEOUT).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.2)
    if job["state"] != "succeeded":
        raise RuntimeError(f"{kind} job {job['state']}: {job['error']}")
    return time.perf_counter() - start


def fetch_map(url: str, project_id: int) -> tuple[float, dict, dict[str, np.ndarray]]:
    """(seconds for the binary map request, header, columns)."""
    start = time.perf_counter()
    response = httpx.get(f"{url}/api/projects/{project_id}/map", timeout=TIMEOUT)
    response.raise_for_status()
    seconds = time.perf_counter() - start
    header, columns = decode_map(response.content)
    return seconds, header, columns


def assign_and_undo(
    url: str, project_id: int, ids: np.ndarray, versions: np.ndarray, label_id: int
) -> tuple[float, float]:
    """Assign one label to `ids` as the map page does (with expected_versions), then undo
    that batch; returns (assign seconds, undo seconds), each request to response. The body is
    encoded before the clock starts (as bench/assign_ab.py does): json.dumps of a million ids
    in this process is the client's cost, about a second, not the server's."""
    body = json.dumps(
        {
            "segment_ids": ids.tolist(),
            "label_id": label_id,
            "expected_versions": dict(zip(ids.tolist(), versions.tolist(), strict=True)),
        }
    ).encode()
    start = time.perf_counter()
    response = httpx.post(
        f"{url}/api/projects/{project_id}/assign",
        content=body,
        headers={"content-type": "application/json"},
        timeout=TIMEOUT,
    )
    assign_s = time.perf_counter() - start
    response.raise_for_status()
    batch = response.json()["batch_id"]
    start = time.perf_counter()
    response = httpx.post(f"{url}/api/projects/{project_id}/history/{batch}/undo", timeout=TIMEOUT)
    undo_s = time.perf_counter() - start
    response.raise_for_status()
    return assign_s, undo_s


def similar(url: str, segment_ids: np.ndarray, k: int = 50) -> tuple[float, float, list]:
    """(first call seconds (builds the index), median warm seconds, [(query, hit ids)])."""
    answers = []
    times = []
    for segment_id in segment_ids.tolist():
        start = time.perf_counter()
        response = httpx.get(f"{url}/api/segments/{segment_id}/similar?k={k}", timeout=TIMEOUT)
        times.append(time.perf_counter() - start)
        response.raise_for_status()
        items = response.json()["items"]
        answers.append((segment_id, [item["segment_id"] for item in items]))
    return times[0], statistics.median(times[1:] or times), answers


def wait_for_fast_similar(url: str, segment_id: int, fast_s: float = 0.3) -> float:
    """Seconds until a similar query answers within fast_s (a large store's index builds in
    the background after the first query; the bench waits for it, at most 5 minutes)."""
    start = time.perf_counter()
    while time.perf_counter() - start < 300:
        took, _, _ = similar(url, np.array([segment_id]))
        if took < fast_s:
            break
        time.sleep(5)
    return time.perf_counter() - start


def export_coco(url: str, project_id: int, pid: int) -> tuple[float, int, float]:
    """Stream COCO (RLE, no image files) to nowhere: (seconds, bytes, server RSS growth GB
    while it ran, sampled every 50 ms)."""
    sampler = RssSampler(pid)
    total = 0
    with sampler:
        start = time.perf_counter()
        with httpx.stream(
            "GET",
            f"{url}/api/projects/{project_id}/export?format=coco&include_images=false&include_unlabelled=true",
            timeout=TIMEOUT,
        ) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                total += len(chunk)
        seconds = time.perf_counter() - start
    return seconds, total, sampler.growth_gb


class RssSampler:
    """Peak RSS growth of another process over the `with` block."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.growth_gb = 0.0

    def __enter__(self) -> RssSampler:
        self._base = self._peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self._peak = max(self._peak, self.process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.growth_gb = (self._peak - self._base) / 2**30


def peak_rss_gb(pid: int) -> float:
    """The process's high-water RSS so far (VmHWM), in GB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def folder_gb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**30
