"""The audit log and undo: who changed what, replayable, undone only when nothing moved on."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.history.audit import replay
from app.models import Role, Segment
from tests.conftest import assert_error_shape, png_bytes
from tests.team.conftest import add_segments, api_token, bearer, make_user


@pytest.fixture
def team(team_client: TestClient) -> dict:
    """A project with 6 segments, two labels, two annotators (members) and an admin."""
    db = team_client.app.state.context.db  # type: ignore[attr-defined]
    tokens = {
        name: api_token(db, make_user(db, name, role))
        for name, role in (("admin", Role.admin), ("ann", Role.annotator), ("bob", Role.annotator))
    }
    admin = bearer(tokens["admin"])
    pid = team_client.post("/api/projects", json={"name": "p"}, headers=admin).json()["id"]
    for name in ("ann", "bob"):
        uid = next(
            u["id"]
            for u in team_client.get("/api/users", headers=admin).json()["items"]
            if u["username"] == name
        )
        team_client.put(
            f"/api/projects/{pid}/members/{uid}", json={"role": "annotator"}, headers=admin
        )
    files = [("files", ("a.png", png_bytes(), "image/png"))]
    image = team_client.post(f"/api/projects/{pid}/images", files=files, headers=admin).json()
    labels = [
        team_client.post(f"/api/projects/{pid}/labels", json={"name": n}, headers=admin).json()[
            "id"
        ]
        for n in ("cat", "dog")
    ]
    ids = add_segments(db, pid, image["imported"][0]["id"], 6)
    return {"pid": pid, "ids": ids, "labels": labels, "tokens": tokens, "db": db}


def assign(client: TestClient, team: dict, who: str, ids: list[int], label: int | None, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/projects/{team['pid']}/assign",
        json={"segment_ids": ids, "label_id": label, **extra},
        headers=bearer(team["tokens"][who]),
    )


def labels_of(team: dict) -> dict[int, int | None]:
    with team["db"].read() as session:
        return {s.id: s.label_class_id for s in session.query(Segment).order_by(Segment.id)}


def test_every_change_is_logged_with_author_and_before_after(
    team_client: TestClient, team: dict
) -> None:
    cat, dog = team["labels"]
    ids = team["ids"]
    first = assign(team_client, team, "ann", ids[:4], cat).json()
    second = assign(team_client, team, "bob", ids[2:], dog).json()
    history = team_client.get(
        f"/api/projects/{team['pid']}/history", headers=bearer(team["tokens"]["bob"])
    ).json()
    assert [(b["id"], b["username"], b["segment_count"]) for b in history["items"]] == [
        (second["batch_id"], "bob", 4),
        (first["batch_id"], "ann", 4),
    ]
    detail = team_client.get(
        f"/api/projects/{team['pid']}/history/{second['batch_id']}",
        headers=bearer(team["tokens"]["ann"]),
    ).json()
    before_after = {
        c["segment_id"]: (c["old_label_id"], c["new_label_id"]) for c in detail["changes"]
    }
    assert before_after == {
        ids[2]: (cat, dog),
        ids[3]: (cat, dog),
        ids[4]: (None, dog),
        ids[5]: (None, dog),
    }
    with team["db"].read() as session:
        logged = replay(session, team["pid"])
        live = {s.id: (s.label_class_id, s.version) for s in session.query(Segment)}
    assert logged == live


def test_undo_restores_and_is_itself_versioned(team_client: TestClient, team: dict) -> None:
    cat, dog = team["labels"]
    ids = team["ids"]
    assign(team_client, team, "ann", ids, cat)
    batch = assign(team_client, team, "ann", ids[:3], dog).json()
    undo_url = f"/api/projects/{team['pid']}/history/{batch['batch_id']}/undo"

    assert_error_shape(team_client.post(undo_url, headers=bearer(team["tokens"]["bob"])), 403)
    assign(team_client, team, "bob", [ids[0]], None)  # someone moved on since
    before = labels_of(team)
    refused = team_client.post(undo_url, headers=bearer(team["tokens"]["ann"]))
    error = assert_error_shape(refused, 409, "stale_version")
    assert [c["segment_id"] for c in error["detail"]["changed"]] == [ids[0]]
    assert labels_of(team) == before  # all or nothing

    other = assign(team_client, team, "ann", ids[3:], dog).json()
    undone = team_client.post(
        f"/api/projects/{team['pid']}/history/{other['batch_id']}/undo",
        headers=bearer(team["tokens"]["admin"]),
    )
    assert undone.status_code == 200 and undone.json()["count"] == 3
    assert [labels_of(team)[i] for i in ids[3:]] == [cat, cat, cat]
    again = team_client.post(
        f"/api/projects/{team['pid']}/history/{other['batch_id']}/undo",
        headers=bearer(team["tokens"]["ann"]),
    )
    assert_error_shape(again, 409, "already_undone")
    with team["db"].read() as session:
        assert replay(session, team["pid"]) == {
            s.id: (s.label_class_id, s.version) for s in session.query(Segment)
        }


def test_stale_batch_assign_is_refused_naming_what_changed(
    team_client: TestClient, team: dict
) -> None:
    cat, dog = team["labels"]
    ids = team["ids"]
    seen = assign(team_client, team, "ann", ids, cat).json()["versions"]
    assign(team_client, team, "bob", ids[1:2], dog)
    stale = assign(team_client, team, "ann", ids, None, expected_versions=seen)
    error = assert_error_shape(stale, 409, "stale_version")
    assert error["detail"]["changed"] == [
        {"segment_id": ids[1], "expected_version": 2, "version": 3, "label_id": dog}
    ]
    assert labels_of(team)[ids[0]] == cat


def test_drawn_and_deleted_segments_are_logged_and_not_undone(
    team_client: TestClient, team: dict
) -> None:
    """A person's new segment and deletion are batches (history, live views); undoing them
    deletes the new segment and brings the deleted one back under its id."""
    import numpy as np

    from app.masks import encode_rle

    ann, cat = bearer(team["tokens"]["ann"]), team["labels"][0]
    image_id = team_client.get(f"/api/segments/{team['ids'][0]}", headers=ann).json()["image_id"]
    image = team_client.get(f"/api/images/{image_id}", headers=ann).json()
    mask = np.zeros((image["height"], image["width"]), bool)
    mask[2:6, 2:6] = True
    made = team_client.post(
        f"/api/images/{image_id}/segments",
        json={"rle": encode_rle(mask), "label_id": cat},
        headers=ann,
    ).json()
    assert team_client.delete(f"/api/segments/{team['ids'][1]}", headers=ann).status_code == 204
    history = team_client.get(f"/api/projects/{team['pid']}/history", headers=ann).json()
    deleted, created = history["items"][:2]
    assert (created["kind"], deleted["kind"]) == ("create", "delete")
    assert (created["username"], deleted["username"]) == ("ann", "ann")
    detail = team_client.get(
        f"/api/projects/{team['pid']}/history/{created['id']}", headers=ann
    ).json()
    assert [(c["segment_id"], c["old_label_id"], c["new_label_id"]) for c in detail["changes"]] == [
        (made["id"], None, cat)
    ]
    for batch in (created, deleted):
        undone = team_client.post(
            f"/api/projects/{team['pid']}/history/{batch['id']}/undo", headers=ann
        )
        assert undone.status_code == 200, undone.text
    assert team_client.get(f"/api/segments/{made['id']}", headers=ann).status_code == 404
    back = team_client.get(f"/api/segments/{team['ids'][1]}", headers=ann).json()
    assert back["version"] == 3  # 1, deleted as 2, restored as 3
