"""bench/effort.py's side of the product: a real `lassolabel serve`, a camvid-like folder
imported through its HTTP API, and the simulated person's actions as HTTP calls.

A data dir per mask setting is kept under --work: a second run finds the project segmented
(and each embedder's vectors and map stored) and skips straight to the simulation.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask

from app.masks import decode_rle

PROJECT = "effort"
JOB_TIMEOUT_S = 7200


@dataclass(frozen=True)
class Dataset:
    """camvid-like folder: images/*.png, labels/*.png (class index per pixel), classes.txt."""

    root: Path
    names: list[str]  # class names without void
    void: int
    files: list[str]

    @classmethod
    def open(cls, root: Path, limit: int | None = None) -> Dataset:
        pairs = [line.split(maxsplit=1) for line in (root / "classes.txt").read_text().splitlines()]
        classes = {int(i): name.strip() for i, name in pairs if name.strip()}
        void = next(i for i, name in classes.items() if name == "void")
        files = sorted(p.name for p in (root / "images").glob("*.png"))[:limit]
        return cls(root, [classes[i] for i in sorted(classes) if i != void], void, files)

    def only(self, files: set[str]) -> Dataset:
        return Dataset(self.root, self.names, self.void, [f for f in self.files if f in files])

    def label_map(self, file: str) -> np.ndarray:
        """HxW int64 class indices."""
        return np.asarray(Image.open(self.root / "labels" / file), np.int64)


def wait_job(client: httpx.Client, project_id: int, kind: str, params: dict) -> dict:
    job_id = (
        client.post(f"/api/projects/{project_id}/jobs", json={"kind": kind, "params": params})
        .raise_for_status()
        .json()["id"]
    )
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").raise_for_status().json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            if job["state"] != "succeeded":
                raise RuntimeError(f"{kind} job {job_id} {job['state']}: {job}")
            return job
        time.sleep(0.5)
    raise TimeoutError(f"{kind} job {job_id} still running after {JOB_TIMEOUT_S} s")


def find_project(client: httpx.Client) -> int | None:
    items = client.get("/api/projects").raise_for_status().json()["items"]
    return next((p["id"] for p in items if p["name"] == PROJECT), None)


def create_project(client: httpx.Client, data: Dataset, segment_params: dict) -> int:
    """Project with the dataset's classes and frames, its label maps as ground truth, and
    the segment job run. Returns the project id."""
    project_id = (
        client.post("/api/projects", json={"name": PROJECT}).raise_for_status().json()["id"]
    )
    for name in data.names:
        client.post(f"/api/projects/{project_id}/labels", json={"name": name}).raise_for_status()
    for start in range(0, len(data.files), 8):
        files = [
            ("files", (f, (data.root / "images" / f).read_bytes(), "image/png"))
            for f in data.files[start : start + 8]
        ]
        client.post(f"/api/projects/{project_id}/images", files=files).raise_for_status()
    coco = ground_truth_coco(client, project_id, data)
    client.post(
        f"/api/projects/{project_id}/import",
        params={"format": "coco", "target": "ground-truth"},
        files={"file": ("truth.json", json.dumps(coco).encode(), "application/json")},
    ).raise_for_status()
    wait_job(client, project_id, "segment", segment_params)
    return project_id


def ground_truth_coco(client: httpx.Client, project_id: int, data: Dataset) -> dict:
    """One RLE annotation per (frame, class present): the label maps as COCO ground truth."""
    images = images_by_name(client, project_id)
    annotations = []
    for file in data.files:
        labels = data.label_map(file)
        for cls in np.unique(labels):
            if cls == data.void:
                continue
            rle = coco_mask.encode(np.asfortranarray(labels == cls, dtype=np.uint8))
            annotations.append({
                "id": len(annotations) + 1, "image_id": images[file]["id"],
                "category_id": int(cls) + 1, "iscrowd": 0,
                "segmentation": {"size": list(rle["size"]), "counts": rle["counts"].decode()},
            })  # fmt: skip
    return {
        "images": [
            {"id": images[f]["id"], "file_name": f, "width": images[f]["width"],
             "height": images[f]["height"]} for f in data.files
        ],
        "categories": [{"id": i + 1, "name": n} for i, n in enumerate(data.names)],
        "annotations": annotations,
    }  # fmt: skip


def stop_segmenting(client: httpx.Client, project_id: int) -> None:
    """Cancel a segment job still running (resumed from an interrupted run): the frames it
    finished are scored, the others left out."""
    for job in client.get(f"/api/projects/{project_id}/jobs").raise_for_status().json()["items"]:
        if job["kind"] == "segment" and job["state"] in ("queued", "running"):
            client.post(f"/api/jobs/{job['id']}/cancel").raise_for_status()
            while client.get(f"/api/jobs/{job['id']}").json()["state"] in ("queued", "running"):
                time.sleep(0.5)


def images_by_name(client: httpx.Client, project_id: int) -> dict[str, dict]:
    page = client.get(f"/api/projects/{project_id}/images", params={"limit": 1000})
    return {image["filename"]: image for image in page.raise_for_status().json()["items"]}


def segment_masks(client: httpx.Client, project_id: int, data: Dataset):
    """[(file, segment ids (K,), masks (K, H, W) bool)] for every frame that has segments."""
    images = images_by_name(client, project_id)
    result = []
    for file in data.files:
        rows = client.get(f"/api/images/{images[file]['id']}/segments").raise_for_status()
        segments = rows.json()["segments"]
        if not segments:
            continue
        ids = np.array([s["id"] for s in segments], np.int64)
        masks = np.array([decode_rle(s["rle"]) for s in segments], bool)
        result.append((file, ids, masks))
    return result


class HttpProduct:
    """app.evaluation.annotator.Product over the real server. Rows index `ids` (sorted
    segment ids); classes index the project's labels in creation order."""

    def __init__(self, client: httpx.Client, project_id: int, ids: np.ndarray) -> None:
        self.client, self.project_id, self.ids = client, project_id, ids
        labels = client.get(f"/api/projects/{project_id}/labels").raise_for_status().json()
        self.label_ids = [label["id"] for label in labels["items"]]
        self._class_of = {label_id: i for i, label_id in enumerate(self.label_ids)}

    def _map(self) -> list[dict]:
        url = f"/api/projects/{self.project_id}/map"
        return self.client.get(url, params={"format": "json"}).raise_for_status().json()["points"]

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        points = self._map()
        rows = np.searchsorted(self.ids, [p["segment_id"] for p in points])
        return rows, np.array([[p["x"], p["y"]] for p in points], np.float64).reshape(-1, 2)

    def labels(self) -> np.ndarray:
        result = np.full(len(self.ids), -1, np.int64)
        for point in self._map():
            if point["label_id"] is not None:
                row = int(np.searchsorted(self.ids, point["segment_id"]))
                result[row] = self._class_of[point["label_id"]]
        return result

    def assign(self, rows: np.ndarray, cls: int, seen: np.ndarray) -> None:
        body = {
            "segment_ids": self.ids[rows].tolist(),
            "label_id": self.label_ids[cls],
            "seen_ids": self.ids[seen].tolist(),
        }
        self.client.post(f"/api/projects/{self.project_id}/assign", json=body).raise_for_status()

    def fix(self, row: int, cls: int) -> None:
        body = {"label_id": self.label_ids[cls]}
        self.client.patch(f"/api/segments/{self.ids[row]}", json=body).raise_for_status()

    def propagate(self) -> None:
        wait_job(self.client, self.project_id, "propagate", {})

    def accept_all(self, min_confidence: float) -> None:
        url = f"/api/projects/{self.project_id}/suggestions/accept"
        self.client.post(url, json={"min_confidence": min_confidence}).raise_for_status()

    def review_page(self, limit: int) -> np.ndarray | None:
        url = f"/api/projects/{self.project_id}/review"
        items = self.client.get(url, params={"limit": limit}).raise_for_status().json()["items"]
        ids = [item["segment_id"] for item in items]
        if ids:  # the page was shown: what the person leaves as it is, they confirmed
            url = f"/api/projects/{self.project_id}/confirm"
            self.client.post(url, json={"segment_ids": ids}).raise_for_status()
        return np.searchsorted(self.ids, ids)

    def clear(self) -> None:
        """Unlabel every segment and drop suggestions: the next session starts from zero."""
        body = {"segment_ids": self.ids.tolist(), "label_id": None}
        self.client.post(f"/api/projects/{self.project_id}/assign", json=body).raise_for_status()
