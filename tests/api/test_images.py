from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage

from app.main import create_app
from app.services.images import clean_filename
from tests.conftest import assert_error_shape, png_bytes, upload
from tests.fixtures.settings import make_settings
from tests.hostile_corpus import CORPUS_MAX_BYTES, CORPUS_MAX_PIXELS, all_cases


def test_upload_many_reports_each_file(client: TestClient, project: dict) -> None:
    report = upload(
        client,
        project["id"],
        [
            ("red.png", png_bytes(64, 48)),
            ("blue.png", png_bytes(30, 20, (0, 0, 255))),
            ("again.png", png_bytes(64, 48)),  # same bytes as red.png
            ("notes.png", b"<html><script>alert(1)</script></html>"),
            ("empty.jpg", b""),
        ],
    )
    assert [(i["filename"], i["width"], i["height"]) for i in report["imported"]] == [
        ("red.png", 64, 48),
        ("blue.png", 30, 20),
    ]
    assert report["duplicates"] == [
        {"filename": "again.png", "existing_id": report["imported"][0]["id"]}
    ]
    assert {e["filename"] for e in report["errors"]} == {"notes.png", "empty.jpg"}
    assert all(e["error"] for e in report["errors"])
    again = upload(client, project["id"], [("red-copy.png", png_bytes(64, 48))])
    assert again["imported"] == [] and len(again["duplicates"]) == 1


def test_upload_filename_is_sanitised(client: TestClient, project: dict) -> None:
    report = upload(client, project["id"], [("../../etc/evil<b>.png", png_bytes())])
    assert report["imported"][0]["filename"] == "evil<b>.png"
    assert clean_filename("a\\b\x00\x1bc\u202e.png") == "bc.png"
    assert clean_filename("/") == "unnamed"


def test_upload_needs_files(client: TestClient, project: dict) -> None:
    assert_error_shape(client.post(f"/api/projects/{project['id']}/images"), 422)
    assert_error_shape(
        client.post("/api/projects/999/images", files=[("files", ("a.png", png_bytes()))]), 404
    )


def test_list_get_file_thumbnail_delete(client: TestClient, project: dict) -> None:
    ids = [
        i["id"]
        for i in upload(
            client, project["id"], [(f"{n}.png", png_bytes(80 + n, 40)) for n in range(5)]
        )["imported"]
    ]
    page = client.get(f"/api/projects/{project['id']}/images?offset=1&limit=2").json()
    assert page["total"] == 5 and [i["id"] for i in page["items"]] == ids[1:3]
    meta = client.get(f"/api/images/{ids[0]}").json()
    assert (meta["width"], meta["height"], meta["status"]) == (80, 40, "ready")

    served = client.get(f"/api/images/{ids[0]}/file")
    assert served.status_code == 200
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-type"] == "image/png"  # lossless source stays lossless
    assert PILImage.open(io.BytesIO(served.content)).getpixel((3, 3)) == (200, 30, 30)

    thumb = client.get(f"/api/images/{ids[0]}/thumbnail?size=40")
    assert thumb.headers["content-type"] == "image/jpeg"
    assert PILImage.open(io.BytesIO(thumb.content)).size == (40, 20)
    assert_error_shape(client.get(f"/api/images/{ids[0]}/thumbnail?size=5"), 422)
    assert_error_shape(client.get(f"/api/images/{ids[0]}/thumbnail?size=abc"), 422)
    assert_error_shape(client.get(f"/api/projects/{project['id']}/images?limit=0"), 422)

    assert client.delete(f"/api/images/{ids[0]}").status_code == 204
    assert_error_shape(client.get(f"/api/images/{ids[0]}"), 404)
    assert_error_shape(client.get(f"/api/images/{ids[0]}/file"), 404)
    assert client.get(f"/api/projects/{project['id']}").json()["image_count"] == 4


def test_exif_rotated_upload_uses_canonical_frame(client: TestClient, project: dict) -> None:
    buffer = io.BytesIO()
    exif = PILImage.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display: stored 60x20 becomes 20x60
    PILImage.new("RGB", (60, 20), (10, 200, 10)).save(buffer, format="JPEG", exif=exif)
    imported = upload(client, project["id"], [("rot.jpg", buffer.getvalue())])["imported"][0]
    assert (imported["width"], imported["height"]) == (20, 60)
    served = client.get(f"/api/images/{imported['id']}/file").content
    assert PILImage.open(io.BytesIO(served)).size == (20, 60)
    thumb = client.get(f"/api/images/{imported['id']}/thumbnail?size=32").content
    assert PILImage.open(io.BytesIO(thumb)).size == (11, 32)


@pytest.fixture
def hostile_client(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path / "data", max_upload_bytes=CORPUS_MAX_BYTES, max_image_pixels=CORPUS_MAX_PIXELS
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_hostile_corpus_through_the_api(hostile_client: TestClient) -> None:
    """Every hostile file is rejected with a 4xx-style per-file error or imported as the right
    canonical image; no 5xx, and the server stays healthy after each."""
    cases = all_cases()
    assert len(cases) >= 25
    project_id = hostile_client.post("/api/projects", json={"name": "hostile"}).json()["id"]
    for case in cases:
        response = hostile_client.post(
            f"/api/projects/{project_id}/images", files=[("files", (case.filename, case.data))]
        )
        assert response.status_code == 200, (case.filename, response.text)
        report = response.json()
        if case.expect == "reject":
            assert report["imported"] == [] and report["duplicates"] == [], case.filename
            assert report["errors"][0]["code"] == case.code, (case.filename, report)
        else:
            done = report["imported"] or report["duplicates"]
            assert done, (case.filename, report)
            if report["imported"]:
                got = report["imported"][0]
                assert (got["width"], got["height"]) == case.expected_size, case.filename
                served = hostile_client.get(f"/api/images/{got['id']}/file")
                assert served.status_code == 200
                assert PILImage.open(io.BytesIO(served.content)).mode == "RGB"
        assert hostile_client.get("/api/health").status_code == 200


def test_image_list_counts_and_filters(client: TestClient, project: dict) -> None:
    from tests.team.conftest import add_segments

    pid = project["id"]
    files = [
        (f"{name}.png", png_bytes(color=(40 * i, 30, 30)))
        for i, name in enumerate(["cat_1", "Cat_2", "dog"])
    ]
    cat1, cat2, dog = (i["id"] for i in upload(client, pid, files)["imported"])
    label = client.post(f"/api/projects/{pid}/labels", json={"name": "x"}).json()["id"]
    db = client.app.state.context.db  # type: ignore[attr-defined]
    add_segments(db, pid, cat1, 2, label_class_id=label)
    add_segments(db, pid, cat2, 3)
    add_segments(db, pid, cat2, 1, label_class_id=label)

    def listed(**params: str) -> list[tuple[str, int, int]]:
        items = client.get(f"/api/projects/{pid}/images", params=params).json()["items"]
        return [(i["filename"], i["segment_count"], i["labelled_count"]) for i in items]

    assert listed() == [("cat_1.png", 2, 2), ("Cat_2.png", 4, 1), ("dog.png", 0, 0)]
    assert [f for f, *_ in listed(name="CAT")] == ["cat_1.png", "Cat_2.png"]
    assert [f for f, *_ in listed(name="_")] == ["cat_1.png", "Cat_2.png"]  # no LIKE wildcard
    assert [f for f, *_ in listed(progress="labelled")] == ["cat_1.png"]
    assert [f for f, *_ in listed(progress="unlabelled")] == ["Cat_2.png", "dog.png"]
    page = client.get(f"/api/projects/{pid}/images", params={"progress": "unlabelled"}).json()
    assert page["total"] == 2 and dog in [i["id"] for i in page["items"]]
    bad = client.get(f"/api/projects/{pid}/images", params={"progress": "maybe"})
    assert_error_shape(bad, 422)
