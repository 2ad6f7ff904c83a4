from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.models import Image
from tests.conftest import png_bytes, upload

PROBES = [
    "/static/../../etc/passwd",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2f..%2fapp%2fconfig.py",
    "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/api/images/..%2f..%2fetc%2fpasswd/file",
    "/api/images/1/file/../../../../etc/passwd",
    "/api/images/1%2f..%2f..%2fetc%2fpasswd/file",
]


def test_static_and_image_routes_serve_nothing_outside(client: TestClient, project: dict) -> None:
    upload(client, project["id"], [("a.png", png_bytes())])
    for probe in PROBES:
        response = client.get(probe)
        assert response.status_code in (404, 422, 405), (probe, response.status_code)
        assert b"root:" not in response.content and b"[project]" not in response.content


def test_tampered_stored_path_is_not_served(client: TestClient, project: dict) -> None:
    image_id = upload(client, project["id"], [("a.png", png_bytes())])["imported"][0]["id"]
    ctx = client.app.state.context  # type: ignore[attr-defined]
    with ctx.db.write() as session:
        session.execute(
            update(Image).where(Image.id == image_id).values(stored_path="../../../../etc/passwd")
        )
    for suffix in ("file", "thumbnail"):
        response = client.get(f"/api/images/{image_id}/{suffix}")
        assert response.status_code == 404, response.text
        assert b"root:" not in response.content
