"""Undoing mask batches from the history: an edit (RLE or polygon), a merge, a split, a create
and a delete put back exactly the masks and segments they changed, as an "undo" batch that can
itself be undone; a segment changed since makes the undo a 409, never an overwrite."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from app.masks import encode_rle
from app.models import AuditBatch, AuditChange
from tests.conftest import assert_error_shape, png_bytes, upload

H, W = 48, 64


def square(box: tuple[int, int, int, int]) -> dict:
    mask = np.zeros((H, W), bool)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = True
    return encode_rle(mask)


class Project:
    def __init__(self, client: TestClient, pid: int) -> None:
        self.client, self.pid = client, pid
        image = upload(client, pid, [("a.png", png_bytes())])["imported"][0]
        self.segments_url = f"/api/images/{image['id']}/segments"

    def add(self, box: tuple[int, int, int, int], label_id: int | None = None) -> dict:
        body = {"rle": square(box), "label_id": label_id}
        return self.client.post(self.segments_url, json=body).json()

    def segments(self) -> dict[int, dict]:
        return {s["id"]: s for s in self.client.get(self.segments_url).json()["segments"]}

    def last_batch(self) -> dict:
        return self.client.get(f"/api/projects/{self.pid}/history").json()["items"][0]

    def undo(self, batch_id: int):  # type: ignore[no-untyped-def]
        return self.client.post(f"/api/projects/{self.pid}/history/{batch_id}/undo")

    def undo_last(self) -> dict:
        batch = self.last_batch()
        assert batch["masks_kept"], batch
        response = self.undo(batch["id"])
        assert response.status_code == 200, response.text
        return response.json()


def test_edit_and_polygon_edit_undone_and_redone(client: TestClient, project: dict) -> None:
    p = Project(client, project["id"])
    made = p.add((10, 10, 30, 30))
    url = f"/api/segments/{made['id']}"
    client.patch(url, json={"rle": square((10, 10, 40, 30)), "version": 1})
    polygon = [[[0, 0], [20, 0], [20, 20], [0, 20]]]
    client.patch(url, json={"polygon": polygon, "version": 2})
    assert p.last_batch()["kind"] == "edit"
    first_undo = p.undo_last()  # the polygon edit
    after = p.segments()[made["id"]]
    assert after["rle"] == square((10, 10, 40, 30)) and after["version"] == 4
    undo = p.last_batch()
    assert (undo["kind"], undo["undo_of"], undo["masks_kept"]) == (
        "undo",
        first_undo["batch_id"] - 1,
        True,
    )
    p.undo_last()  # undo the undo: the polygon's square is back
    assert p.segments()[made["id"]]["rle"] == square((0, 0, 20, 20))


def test_merge_and_split_undone(client: TestClient, project: dict) -> None:
    p = Project(client, project["id"])
    label = client.post(f"/api/projects/{p.pid}/labels", json={"name": "cell"}).json()["id"]
    left, right = p.add((0, 0, 10, 10), label), p.add((20, 0, 30, 10))
    client.post(f"/api/segments/{left['id']}/merge", json={"other_id": right["id"]})
    assert set(p.segments()) == {left["id"]}
    p.undo_last()
    back = p.segments()
    assert set(back) == {left["id"], right["id"]}  # the same id, the same mask and label
    assert back[right["id"]]["rle"] == right["rle"] and back[right["id"]]["label_id"] is None
    assert back[left["id"]]["rle"] == left["rle"] and back[left["id"]]["label_id"] == label

    cut = client.post(f"/api/segments/{left['id']}/split", json={"line": [[5, 0], [5, 47]]})
    piece = cut.json()["segments"][1]["id"]
    p.undo_last()
    after = p.segments()
    assert piece not in after and after[left["id"]]["rle"] == left["rle"]


def test_create_and_delete_undone(client: TestClient, project: dict) -> None:
    p = Project(client, project["id"])
    made = p.add((5, 5, 15, 15))
    p.undo_last()
    assert made["id"] not in p.segments()
    other = p.add((30, 5, 40, 15))
    assert client.delete(f"/api/segments/{other['id']}").status_code == 204
    p.undo_last()
    assert p.segments()[other["id"]]["rle"] == other["rle"]


def test_undo_refused_when_the_segment_changed_since(client: TestClient, project: dict) -> None:
    p = Project(client, project["id"])
    made = p.add((10, 10, 30, 30))
    url = f"/api/segments/{made['id']}"
    client.patch(url, json={"rle": square((10, 10, 40, 30))})
    edit = p.last_batch()
    client.patch(url, json={"rle": square((0, 0, 5, 5))})  # someone's later edit
    body = assert_error_shape(p.undo(edit["id"]), 409, "stale_version")
    assert body["detail"]["changed"][0]["segment_id"] == made["id"]
    assert p.segments()[made["id"]]["rle"] == square((0, 0, 5, 5))  # theirs stands

    assert client.delete(url).status_code == 204
    later = p.add((40, 40, 44, 44))
    create = p.last_batch()
    client.patch(f"/api/segments/{later['id']}", json={"rle": square((40, 40, 48, 44))})
    assert_error_shape(p.undo(create["id"]), 409, "stale_version")
    assert later["id"] in p.segments()


def test_mask_batches_logged_without_masks_stay_refused(client: TestClient, project: dict) -> None:
    p = Project(client, project["id"])
    made = p.add((10, 10, 30, 30))
    client.patch(f"/api/segments/{made['id']}", json={"rle": square((10, 10, 40, 30))})
    edit = p.last_batch()
    db = client.app.state.context.db  # type: ignore[attr-defined]
    with db.write() as session:  # as a batch logged before revision 0009 reads
        session.get(AuditBatch, edit["id"]).masks_kept = False
        session.query(AuditChange).filter_by(batch_id=edit["id"]).update({"mask_undo": None})
    body = assert_error_shape(p.undo(edit["id"]), 422, "not_undoable")
    assert "before the history kept masks" in body["message"]


def test_the_last_steps_undone_one_by_one(client: TestClient, project: dict) -> None:
    """A later step undone cancels out: the step before it can then be undone too."""
    p = Project(client, project["id"])
    left, right = p.add((0, 0, 10, 10)), p.add((20, 0, 30, 10))
    client.post(f"/api/segments/{left['id']}/merge", json={"other_id": right["id"]})
    merge = p.last_batch()
    client.patch(f"/api/segments/{left['id']}", json={"rle": square((0, 0, 5, 5))})
    p.undo_last()  # the edit
    assert p.undo(merge["id"]).status_code == 200
    back = p.segments()
    assert back[left["id"]]["rle"] == left["rle"] and back[right["id"]]["rle"] == right["rle"]
