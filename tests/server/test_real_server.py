from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import png_bytes
from tests.server_process import ServerProcess


def test_real_uvicorn_serves_demo_and_survives_bad_input(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with ServerProcess(data_dir) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        projects = http.get("/api/projects").json()["items"]
        assert len(projects) == 1 and projects[0]["image_count"] >= 8  # the demo project
        demo_id = projects[0]["id"]
        labels = http.get(f"/api/projects/{demo_id}/labels").json()["items"]
        assert labels and all(label["hotkey"] for label in labels[:7])

        page = http.get("/")
        assert page.status_code == 200 and "lassolabel" in page.text
        assert http.get(f"/projects/{demo_id}").status_code == 200
        assert http.get("/static/js/api.js").status_code == 200

        report = http.post(
            f"/api/projects/{demo_id}/images",
            files=[("files", ("ok.png", png_bytes())), ("files", ("bad.png", b"GIF89a nope"))],
        ).json()
        assert len(report["imported"]) == 1 and report["errors"][0]["filename"] == "bad.png"
        garbage = http.post(
            f"/api/projects/{demo_id}/images",
            content=b"--xx\r\nnot really multipart",
            headers={"Content-Type": "multipart/form-data; boundary=xx"},
        )
        assert 400 <= garbage.status_code < 500
        assert http.get("/api/health").json()["status"] == "ok"
        assert (data_dir / "lassolabel.db").is_file()
    assert server.shut_down_cleanly

    # A restart keeps everything and does not seed the demo twice.
    with ServerProcess(data_dir) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        projects = http.get("/api/projects").json()["items"]
        assert len(projects) == 1 and projects[0]["image_count"] >= 9
