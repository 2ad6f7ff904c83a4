from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import assert_error_shape, png_bytes
from tests.fixtures.settings import make_settings


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "root"
    (root / "set" / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(png_bytes(11, 11, (1, 2, 3)))
    (outside / "passwd").write_text("root:x:0:0")
    for i in range(3):
        (root / "set" / f"img{i}.png").write_bytes(png_bytes(20 + i, 10, (i * 40, 0, 0)))
    (root / "set" / "sub" / "deep.png").write_bytes(png_bytes(9, 9, (0, 99, 0)))
    (root / "set" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (root / "set" / ".hidden.png").write_bytes(png_bytes(5, 5))
    os.symlink(outside / "secret.png", root / "set" / "link-out.png")
    os.symlink(outside, root / "escape")
    return {"root": root, "outside": outside}


def make_client(tmp_path: Path, roots: list[Path], threshold: int = 20) -> TestClient:
    settings = make_settings(
        tmp_path / "data", import_roots=roots, folder_import_job_threshold=threshold
    )
    return TestClient(create_app(settings))


def test_folder_import_disabled_without_roots(client: TestClient, project: dict) -> None:
    response = client.post(
        f"/api/projects/{project['id']}/images/import-folder", json={"path": "/tmp"}
    )
    assert_error_shape(response, 403, "folder_import_disabled")


def test_small_folder_imports_at_once(tmp_path: Path, layout: dict[str, Path]) -> None:
    with make_client(tmp_path, [layout["root"]]) as client:
        pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
        url = f"/api/projects/{pid}/images/import-folder"
        result = client.post(url, json={"path": "set"}).json()
        report = result["report"]
        assert sorted(i["filename"] for i in report["imported"]) == [
            "deep.png",
            "img0.png",
            "img1.png",
            "img2.png",
        ]
        errors = {e["filename"]: e["code"] for e in report["errors"]}
        assert errors == {
            "broken.png": errors["broken.png"],
            "link-out.png": "outside_import_roots",
        }
        # Idempotent: the same folder again only yields duplicates.
        again = client.post(url, json={"path": str(layout["root"] / "set")}).json()["report"]
        assert again["imported"] == [] and len(again["duplicates"]) == 4
        assert client.get(f"/api/projects/{pid}").json()["image_count"] == 4


TRAVERSALS = [
    "../outside",
    "set/../../outside",
    "escape",  # a symlink inside the root pointing outside
    "escape/secret.png",
    "/etc",
    "/",
    "set/../..",
    "..%2F..%2Foutside",
    "set/\x00/x",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_folder_import_refuses_escapes(tmp_path: Path, layout: dict[str, Path], path: str) -> None:
    with make_client(tmp_path, [layout["root"]]) as client:
        pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
        response = client.post(f"/api/projects/{pid}/images/import-folder", json={"path": path})
        assert response.status_code in (403, 404, 422), response.text
        assert_error_shape(response, response.status_code)
        assert client.get(f"/api/projects/{pid}").json()["image_count"] == 0


def test_large_folder_becomes_a_resumable_job(tmp_path: Path, layout: dict[str, Path]) -> None:
    with make_client(tmp_path, [layout["root"]], threshold=2) as client:
        pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
        result = client.post(
            f"/api/projects/{pid}/images/import-folder", json={"path": "set"}
        ).json()
        job_id = result["job_id"]
        assert job_id and result["file_count"] == 6
        deadline = time.monotonic() + 30
        while (job := client.get(f"/api/jobs/{job_id}").json())["state"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert job["state"] == "succeeded", job
        assert (job["done"], job["total"], job["failed_items"]) == (6, 6, 2)
        failed = client.get(f"/api/jobs/{job_id}/items?failed_only=true").json()
        assert {i["item_key"] for i in failed["items"]} == {"broken.png", "link-out.png"}
        assert client.get(f"/api/projects/{pid}").json()["image_count"] == 4
        assert [j["id"] for j in client.get(f"/api/projects/{pid}/jobs").json()["items"]] == [
            job_id
        ]
        assert_error_shape(client.post(f"/api/jobs/{job_id}/cancel"), 409, "job_finished")
        assert_error_shape(client.get("/api/jobs/424242"), 404)


def test_unknown_job_kind(client: TestClient, project: dict) -> None:
    response = client.post(f"/api/projects/{project['id']}/jobs", json={"kind": "nope"})
    assert_error_shape(response, 422, "unknown_job_kind")
