"""Label batches logged as one compact block (app/history/block.py): a big assign, its undo and
their stale checks behave exactly as with one audit row per segment."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.history.audit import Actor, Change, record_batch, replay
from app.history.block import Changes, decode, encode
from app.live.stream import batches_after
from app.models import AuditBlock, AuditChange, Segment
from tests.conftest import assert_error_shape
from tests.team.conftest import add_segments, bearer
from tests.team.test_history import assign, labels_of
from tests.team.test_history import team as team  # noqa: F401  (fixture)

BIG = 3000


def test_block_round_trips_ids_labels_and_versions() -> None:
    rng = np.random.default_rng(0)
    ids = np.unique(rng.integers(1, 2**40, 5000))
    changes = Changes(
        ids,
        rng.integers(0, 5, len(ids)),
        np.full(len(ids), 7),
        rng.integers(1, 10**6, len(ids)),
    )
    back = decode(encode(changes))
    for column in ("segment_ids", "old_labels", "new_labels", "new_versions"):
        assert np.array_equal(getattr(back, column), getattr(changes, column)), column
    assert back.rows()[0] == (int(ids[0]), int(changes.old_labels[0]) or None, 7, back.rows()[0][3])
    with pytest.raises(ValueError):
        decode(b"\x09" + encode(changes)[1:])


@pytest.fixture
def big(team_client: TestClient, team: dict) -> dict:  # noqa: F811
    """BIG more segments in the project, a third already cat, a third dog."""
    image_id = team_client.get(
        f"/api/segments/{team['ids'][0]}", headers=bearer(team["tokens"]["ann"])
    ).json()["image_id"]
    ids = add_segments(team["db"], team["pid"], image_id, BIG)
    cat, dog = team["labels"]
    assign(team_client, team, "ann", ids[: BIG // 3], cat)
    assign(team_client, team, "bob", ids[BIG // 3 : 2 * BIG // 3], dog)
    return {**team, "ids": ids}


def changes_paged(
    client: TestClient, batch_url: str, headers: dict[str, str], limit: int
) -> list[dict]:
    """Every change of a batch, read page by page; each page holds at most `limit`, and
    together they hold each of the batch's segments exactly once, by segment id."""
    changes: list[dict] = []
    after = 0
    while True:
        page = client.get(batch_url, params={"after": after, "limit": limit}, headers=headers)
        assert page.status_code == 200, page.text
        detail = page.json()
        assert 0 < len(detail["changes"]) <= limit
        changes += detail["changes"]
        if detail["next_after"] is None:
            break
        assert detail["next_after"] == detail["changes"][-1]["segment_id"]
        after = detail["next_after"]
    ids = [c["segment_id"] for c in changes]
    assert ids == sorted(set(ids)) and len(ids) == detail["segment_count"]
    return changes


def test_history_detail_pages_a_big_batch(team_client: TestClient, big: dict) -> None:
    cat, _ = big["labels"]
    ann = bearer(big["tokens"]["ann"])
    done = assign(team_client, big, "ann", big["ids"], cat).json()
    batch_url = f"/api/projects/{big['pid']}/history/{done['batch_id']}"
    first = team_client.get(batch_url, headers=ann).json()
    assert first["segment_count"] == BIG and len(first["changes"]) == 500  # the default page
    changes = changes_paged(team_client, batch_url, ann, limit=1000)
    assert [c["segment_id"] for c in changes] == sorted(big["ids"])
    assert all(
        c["new_label_id"] == cat and c["new_version"] == done["versions"][str(c["segment_id"])]
        for c in changes
    )
    middle = sorted(big["ids"])[BIG // 2]
    rest = team_client.get(batch_url, params={"after": middle, "limit": 5000}, headers=ann).json()
    assert rest["changes"][0]["segment_id"] > middle and rest["next_after"] is None
    assert len(rest["changes"]) == BIG - BIG // 2 - 1
    for bad in ({"limit": 0}, {"limit": 5001}, {"after": -1}):
        assert_error_shape(team_client.get(batch_url, params=bad, headers=ann), 422)


def test_history_detail_pages_a_mask_batch(team_client: TestClient, big: dict) -> None:
    """Mask batches keep a row per segment (audit_changes): paged by segment id in SQL."""
    ids = sorted(big["ids"])[:25]
    actor = Actor(user_id=None, username="script")
    with big["db"].write() as session:
        batch_id = record_batch(
            session,
            project_id=big["pid"],
            actor=actor,
            kind="edit",
            changes=[Change(sid, None, None, 2, mask_undo="{}") for sid in reversed(ids)],
        )
    url = f"/api/projects/{big['pid']}/history/{batch_id}"
    changes = changes_paged(team_client, url, bearer(big["tokens"]["ann"]), limit=7)
    assert [c["segment_id"] for c in changes] == ids


def test_live_event_of_a_big_batch_is_its_count_and_columns_carry_the_changes(
    team_client: TestClient, big: dict
) -> None:
    """Above the inline limit a live `labels` event names the batch and its count; the batch's
    columns endpoint then gives every change (a row batch encoded like a block)."""
    cat, _ = big["labels"]
    ann = bearer(big["tokens"]["ann"])
    done = assign(team_client, big, "ann", big["ids"], cat).json()
    small = assign(team_client, big, "bob", big["ids"][:3], None).json()
    events = batches_after(big["db"], big["pid"], done["batch_id"] - 1, 10, inline=BIG - 1)
    assert [(e["batch_id"], e["count"]) for e in events] == [
        (done["batch_id"], BIG),
        (small["batch_id"], 3),
    ]
    assert events[0]["changes"] is None
    assert [change[0] for change in events[1]["changes"]] == sorted(big["ids"][:3])
    history = f"/api/projects/{big['pid']}/history"
    for batch_id in (done["batch_id"], small["batch_id"]):
        answer = team_client.get(f"{history}/{batch_id}/columns", headers=ann)
        assert answer.headers["content-type"] == "application/octet-stream"
        paged = changes_paged(team_client, f"{history}/{batch_id}", ann, limit=5000)
        assert [list(row) for row in decode(answer.content).rows()] == [
            [c["segment_id"], c["old_label_id"], c["new_label_id"], c["new_version"]] for c in paged
        ]
    with big["db"].write() as session:
        rows_id = record_batch(
            session,
            project_id=big["pid"],
            actor=Actor(user_id=None, username="script"),
            kind="edit",
            changes=[Change(big["ids"][0], cat, cat, 9, mask_undo="{}")],
        )
    rows = team_client.get(f"{history}/{rows_id}/columns", headers=ann)
    assert decode(rows.content).rows() == [(big["ids"][0], cat, cat, 9)]
    assert_error_shape(team_client.get(f"{history}/{rows_id + 1}/columns", headers=ann), 404)


def _counts(team: dict) -> tuple[int, int]:
    with team["db"].read() as session:
        blocks = session.scalar(select(func.count()).select_from(AuditBlock))
        rows = session.scalar(select(func.count()).select_from(AuditChange))
    return int(blocks or 0), int(rows or 0)


def _state(team: dict) -> dict[int, tuple[int | None, int]]:
    with team["db"].read() as session:
        return {s.id: (s.label_class_id, s.version) for s in session.query(Segment)}


def test_big_assign_is_one_row_and_undo_restores_exactly(
    team_client: TestClient, big: dict
) -> None:
    cat, dog = big["labels"]
    before, (blocks, rows) = _state(big), _counts(big)
    versions = {sid: before[sid][1] for sid in big["ids"]}
    done = assign(team_client, big, "ann", big["ids"], cat, expected_versions=versions)
    assert done.status_code == 200, done.text
    assert _counts(big) == (blocks + 1, rows)
    batch_url = f"/api/projects/{big['pid']}/history/{done.json()['batch_id']}"
    changes = changes_paged(team_client, batch_url, bearer(big["tokens"]["ann"]), limit=700)
    assert {c["old_label_id"] for c in changes} == {cat, dog, None}

    undone = team_client.post(f"{batch_url}/undo", headers=bearer(big["tokens"]["ann"]))
    assert undone.status_code == 200 and undone.json()["count"] == BIG
    after = _state(big)
    assert {sid: label for sid, (label, _) in after.items()} == {
        sid: label for sid, (label, _) in before.items()
    }
    assert all(after[sid][1] == before[sid][1] + 2 for sid in big["ids"])
    with big["db"].read() as session:
        assert replay(session, big["pid"]) == {
            sid: state for sid, state in after.items() if state[1] > 1
        }


@pytest.mark.parametrize("change", ["relabel", "delete"])
def test_undo_of_a_big_assign_is_refused_when_one_segment_moved_on(
    team_client: TestClient, big: dict, change: str
) -> None:
    cat, dog = big["labels"]
    done = assign(team_client, big, "ann", big["ids"], cat).json()
    moved = big["ids"][BIG // 2]
    if change == "relabel":
        assign(team_client, big, "bob", [moved], dog)
    else:
        deleted = team_client.delete(f"/api/segments/{moved}", headers=bearer(big["tokens"]["ann"]))
        assert deleted.status_code == 204
    before = labels_of(big)
    refused = team_client.post(
        f"/api/projects/{big['pid']}/history/{done['batch_id']}/undo",
        headers=bearer(big["tokens"]["ann"]),
    )
    error = assert_error_shape(refused, 409, "stale_version")
    assert error["detail"]["changed_count"] == 1
    [named] = error["detail"]["changed"]
    assert (
        named["segment_id"] == moved and named["expected_version"] == done["versions"][str(moved)]
    )
    if change == "relabel":
        assert (named["version"], named["label_id"]) == (done["versions"][str(moved)] + 1, dog)
    else:
        assert (named["version"], named["label_id"]) == (None, None)
    assert labels_of(big) == before  # all or nothing


def test_undo_of_an_undo_puts_the_assign_back(team_client: TestClient, big: dict) -> None:
    cat, _ = big["labels"]
    done = assign(team_client, big, "ann", big["ids"], cat).json()
    history = f"/api/projects/{big['pid']}/history"
    ann = bearer(big["tokens"]["ann"])
    undo = team_client.post(f"{history}/{done['batch_id']}/undo", headers=ann).json()
    redo = team_client.post(f"{history}/{undo['batch_id']}/undo", headers=ann)
    assert redo.status_code == 200, redo.text
    state = _state(big)
    assert all(state[sid] == (cat, done["versions"][str(sid)] + 2) for sid in big["ids"])
