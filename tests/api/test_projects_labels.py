from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import assert_error_shape, png_bytes, upload


def test_health_reports_versions(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert {"python", "fastapi", "sqlalchemy"} <= set(body["versions"])


def test_project_crud(client: TestClient) -> None:
    created = client.post("/api/projects", json={"name": "  cells  ", "description": "d"})
    assert created.status_code == 201
    project = created.json()
    assert project["name"] == "cells" and project["image_count"] == 0
    assert client.get(f"/api/projects/{project['id']}").json()["name"] == "cells"
    renamed = client.patch(f"/api/projects/{project['id']}", json={"name": "nuclei"})
    assert renamed.json()["name"] == "nuclei"
    listing = client.get("/api/projects").json()
    assert listing["total"] == 1 and listing["items"][0]["name"] == "nuclei"
    assert client.delete(f"/api/projects/{project['id']}").status_code == 204
    assert_error_shape(client.get(f"/api/projects/{project['id']}"), 404, "not_found")


def test_project_errors(client: TestClient) -> None:
    client.post("/api/projects", json={"name": "a"})
    assert_error_shape(client.post("/api/projects", json={"name": "a"}), 409, "duplicate_name")
    assert_error_shape(client.post("/api/projects", json={"name": "   "}), 422, "invalid")
    assert_error_shape(client.post("/api/projects", json={}), 422)
    assert_error_shape(
        client.post(
            "/api/projects", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        422,
    )
    assert_error_shape(client.get("/api/projects/0"), 422)
    assert_error_shape(client.get("/api/projects/abc"), 422)
    assert_error_shape(client.get("/api/projects/99999999999999999999999"), 422)
    assert_error_shape(client.patch("/api/projects/42", json={"name": "x"}), 404)
    assert_error_shape(client.delete("/api/projects/42"), 404)
    assert_error_shape(client.put("/api/projects", json={}), 405)
    assert_error_shape(client.get("/api/nothing-here"), 404)


def test_project_delete_removes_files_and_rows(client: TestClient, project: dict, settings) -> None:
    upload(client, project["id"], [("a.png", png_bytes())])
    stored = list((settings.data_dir / "images").rglob("*.png"))
    assert len(stored) == 1
    client.delete(f"/api/projects/{project['id']}")
    assert not stored[0].exists()


def test_labels_crud_and_hotkeys(client: TestClient, project: dict) -> None:
    base = f"/api/projects/{project['id']}/labels"
    cat = client.post(base, json={"name": "cat"}).json()
    dog = client.post(base, json={"name": "dog", "color": "#FF0000"}).json()
    assert (cat["hotkey"], dog["hotkey"]) == (1, 2)
    assert dog["color"] == "#ff0000"
    # Giving hotkey 1 to dog takes it from cat.
    assert client.patch(f"{base}/{dog['id']}", json={"hotkey": 1}).json()["hotkey"] == 1
    labels = {label["name"]: label for label in client.get(base).json()["items"]}
    assert labels["cat"]["hotkey"] is None
    assert client.delete(f"{base}/{cat['id']}").status_code == 204
    assert [label["name"] for label in client.get(base).json()["items"]] == ["dog"]


def test_label_validation(client: TestClient, project: dict) -> None:
    base = f"/api/projects/{project['id']}/labels"
    client.post(base, json={"name": "cat"})
    assert_error_shape(client.post(base, json={"name": "cat"}), 409)
    assert_error_shape(client.post(base, json={"name": "  "}), 422)
    assert_error_shape(client.post(base, json={"name": "a\x07b"}), 422)
    assert_error_shape(client.post(base, json={"name": "x" * 101}), 422)
    assert_error_shape(client.post(base, json={"name": "ok", "color": "red"}), 422)
    assert_error_shape(client.post(base, json={"name": "ok", "hotkey": 10}), 422)
    assert_error_shape(client.patch(f"{base}/999", json={"name": "z"}), 404)


def test_label_from_other_project_is_not_found(client: TestClient, project: dict) -> None:
    other = client.post("/api/projects", json={"name": "other"}).json()
    label = client.post(f"/api/projects/{other['id']}/labels", json={"name": "x"}).json()
    assert_error_shape(
        client.patch(f"/api/projects/{project['id']}/labels/{label['id']}", json={"name": "y"}), 404
    )


def test_label_name_is_stored_as_plain_text(client: TestClient, project: dict) -> None:
    name = "<img src=x onerror=alert(1)>"
    created = client.post(f"/api/projects/{project['id']}/labels", json={"name": name})
    assert created.status_code == 201 and created.json()["name"] == name


def test_new_label_without_a_colour_gets_one_nobody_uses(client: TestClient, project: dict) -> None:
    base = f"/api/projects/{project['id']}/labels"
    first = client.post(base, json={"name": "a"}).json()["color"]
    taken = client.post(base, json={"name": "b", "color": "#F28E2B"}).json()["color"]
    third = client.post(base, json={"name": "c"}).json()["color"]
    assert len({first, taken, third}) == 3
    client.delete(f"{base}/{client.get(base).json()['items'][0]['id']}")
    assert client.post(base, json={"name": "d"}).json()["color"] == first  # free again
