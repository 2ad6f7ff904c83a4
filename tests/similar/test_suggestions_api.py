from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.maps.wire import decode_map
from app.models import Segment, SegmentSource
from app.similar.suggestions import replace_suggestions
from tests.pipeline.conftest import run_job

NO_EMBED = {"embed_missing": False}


@pytest.fixture
def labelled(client: TestClient, embedded: dict) -> dict:
    """Two labels per cluster given by hand; the other 13 segments await propagation."""
    pid, ids, cluster = embedded["pid"], embedded["ids"], embedded["cluster"]
    label_ids = []
    for name in ("cat", "dog", "cow"):
        label_ids.append(
            client.post(f"/api/projects/{pid}/labels", json={"name": name}).json()["id"]
        )
    for c, label_id in enumerate(label_ids):
        members = [i for i, k in zip(ids, cluster, strict=True) if k == c][:2]
        client.post(
            f"/api/projects/{pid}/assign", json={"segment_ids": members, "label_id": label_id}
        )
    truth = {i: label_ids[k] for i, k in zip(ids, cluster, strict=True)}
    return {**embedded, "label_ids": label_ids, "truth": truth}


def suggestions(client: TestClient, pid: int, **params) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/projects/{pid}/suggestions", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_propagation_recovers_the_clusters(client: TestClient, labelled: dict) -> None:
    pid, truth = labelled["pid"], labelled["truth"]
    job = run_job(client, pid, "propagate", NO_EMBED)
    assert job["state"] == "succeeded", job
    body = suggestions(client, pid, limit=100)
    assert body["total"] == len(truth) - 6 == len(body["items"])
    assert all(truth[s["segment_id"]] == s["label_id"] for s in body["items"])
    confidences = [s["confidence"] for s in body["items"]]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 <= c <= 1 for c in confidences)
    uncertain = suggestions(client, pid, order="uncertain", limit=3, offset=1)
    assert [s["confidence"] for s in uncertain["items"]] == sorted(confidences)[1:4]
    assert suggestions(client, pid, min_confidence=1.0)["total"] <= body["total"]


def test_accept_above_a_threshold_then_a_list(client: TestClient, labelled: dict) -> None:
    pid, truth = labelled["pid"], labelled["truth"]
    run_job(client, pid, "propagate", NO_EMBED)
    items = suggestions(client, pid, limit=100)["items"]
    threshold = items[4]["confidence"]
    above = [s["segment_id"] for s in items if s["confidence"] >= threshold]
    response = client.post(
        f"/api/projects/{pid}/suggestions/accept", json={"min_confidence": threshold}
    )
    assert response.status_code == 200, response.text
    assert response.json()["count"] == len(above)
    (batch_id,) = response.json()["batch_ids"]  # one batch, whatever the labels: one undo
    accepted = client.get(f"/api/projects/{pid}/history/{batch_id}").json()
    assert accepted["kind"] == "accept" and accepted["segment_count"] == len(above)
    assert len({c["new_label_id"] for c in accepted["changes"]}) > 1
    left = suggestions(client, pid, limit=100)["items"]
    assert {s["segment_id"] for s in left}.isdisjoint(above) and len(left) == len(items) - len(
        above
    )
    ctx = client.app.state.context  # type: ignore[attr-defined]
    with ctx.db.read() as session:
        for segment_id in above:
            segment = session.get(Segment, segment_id)
            assert segment.label_class_id == truth[segment_id]
            assert segment.source == SegmentSource.propagated and segment.version > 0
    chosen = [left[0]["segment_id"]]
    response = client.post(f"/api/projects/{pid}/suggestions/accept", json={"segment_ids": chosen})
    assert response.json()["count"] == 1
    assert suggestions(client, pid, limit=100)["total"] == len(left) - 1
    history = client.get(f"/api/projects/{pid}/history").json()
    assert history  # accepted labels are audited like any assign
    undo = client.post(f"/api/projects/{pid}/history/{batch_id}/undo")
    assert undo.json()["count"] == len(above)
    with ctx.db.read() as session:
        assert all(session.get(Segment, s).label_class_id is None for s in above)


def test_labelled_meanwhile_is_hidden_and_not_overwritten(
    client: TestClient, labelled: dict
) -> None:
    pid, label_ids = labelled["pid"], labelled["label_ids"]
    run_job(client, pid, "propagate", NO_EMBED)
    first = suggestions(client, pid, limit=1)["items"][0]
    other = next(label for label in label_ids if label != first["label_id"])
    client.post(
        f"/api/projects/{pid}/assign",
        json={"segment_ids": [first["segment_id"]], "label_id": other},
    )
    assert first["segment_id"] not in {
        s["segment_id"] for s in suggestions(client, pid, limit=100)["items"]
    }
    accepted = client.post(
        f"/api/projects/{pid}/suggestions/accept", json={"segment_ids": [first["segment_id"]]}
    )
    assert accepted.json()["count"] == 0
    ctx = client.app.state.context  # type: ignore[attr-defined]
    with ctx.db.read() as session:
        assert session.get(Segment, first["segment_id"]).label_class_id == other


def test_rerun_replaces_and_bad_requests_are_rejected(client: TestClient, labelled: dict) -> None:
    pid = labelled["pid"]
    run_job(client, pid, "propagate", NO_EMBED)
    run_job(client, pid, "propagate", {**NO_EMBED, "method": "logistic"})
    assert suggestions(client, pid, limit=100)["total"] == len(labelled["ids"]) - 6
    assert client.post(f"/api/projects/{pid}/suggestions/accept", json={}).status_code == 422
    bad = client.post(
        f"/api/projects/{pid}/jobs", json={"kind": "propagate", "params": {"method": "x"}}
    )
    assert bad.status_code == 422


def test_no_labels_no_suggestions(client: TestClient, embedded: dict) -> None:
    job = run_job(client, embedded["pid"], "propagate", NO_EMBED)
    assert job["state"] == "succeeded"
    assert suggestions(client, embedded["pid"])["total"] == 0


def store(client: TestClient, pid: int, kind: str, rows: dict[int, tuple[int, float]]) -> None:
    """Write suggestions of one kind through the service the jobs use: {segment: (label, conf)}."""
    ctx = client.app.state.context  # type: ignore[attr-defined]
    ids = sorted(rows)
    with ctx.db.write() as session:
        replace_suggestions(
            session=session,
            project_id=pid,
            kind=kind,
            segment_ids=np.array(ids, np.int64),
            label_ids=np.array([rows[i][0] for i in ids], np.int64),
            confidence=np.array([rows[i][1] for i in ids], np.float32),
        )


def reject(client: TestClient, pid: int, **body) -> dict:  # type: ignore[no-untyped-def]
    response = client.post(f"/api/projects/{pid}/suggestions/reject", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_reject_dismisses_until_the_next_run(client: TestClient, labelled: dict) -> None:
    pid = labelled["pid"]
    run_job(client, pid, "propagate", NO_EMBED)
    items = suggestions(client, pid, limit=100)["items"]
    assert {s["kind"] for s in items} == {"propagate"}
    assert all(s["image_id"] == labelled["image_id"] for s in items)
    gone = [items[0]["segment_id"], items[-1]["segment_id"]]
    assert reject(client, pid, segment_ids=gone) == {"dismissed": 2, "deleted_segments": []}
    left = suggestions(client, pid, limit=100)
    assert left["total"] == len(items) - 2
    assert {s["segment_id"] for s in left["items"]}.isdisjoint(gone)
    accepted = client.post(f"/api/projects/{pid}/suggestions/accept", json={"min_confidence": 0})
    assert accepted.json()["count"] == len(items) - 2
    ctx = client.app.state.context  # type: ignore[attr-defined]
    with ctx.db.read() as session:  # rejected: still there, still unlabelled
        assert [session.get(Segment, i).label_class_id for i in gone] == [None, None]
    run_job(client, pid, "propagate", NO_EMBED)
    assert {s["segment_id"] for s in suggestions(client, pid)["items"]} == set(gone)
    assert reject(client, pid, segment_ids=gone)["dismissed"] == 2
    assert reject(client, pid, segment_ids=gone)["dismissed"] == 0


def test_kinds_filter_list_accept_and_reject(client: TestClient, labelled: dict) -> None:
    pid, ids, (cat, dog, _) = labelled["pid"], labelled["ids"], labelled["label_ids"]
    a, b, c = ids[2], ids[3], ids[4]  # unlabelled members of cluster 0
    store(client, pid, "propagate", {a: (cat, 0.9), b: (cat, 0.4)})
    store(client, pid, "exemplar", {a: (dog, 0.7), c: (dog, 0.95)})
    listed = suggestions(client, pid)
    assert (listed["total"], listed["segments"]) == (4, 3)  # a has one of each kind
    above = suggestions(client, pid, min_confidence=0.6)
    assert (above["total"], above["segments"]) == (3, 2)
    exemplar = suggestions(client, pid, kind="exemplar")["items"]
    assert [(s["segment_id"], s["kind"]) for s in exemplar] == [(c, "exemplar"), (a, "exemplar")]
    assert reject(client, pid, segment_ids=[a], kind="exemplar")["dismissed"] == 1
    assert [s["kind"] for s in suggestions(client, pid)["items"] if s["segment_id"] == a] == [
        "propagate"
    ]
    done = client.post(
        f"/api/projects/{pid}/suggestions/accept", json={"min_confidence": 0.5, "kind": "exemplar"}
    )
    assert done.json()["count"] == 1  # c only: a's 0.9 is a propagate suggestion
    assert {s["segment_id"] for s in suggestions(client, pid)["items"]} == {a, b}


def test_map_columns_carry_the_best_suggestion_of_unlabelled_segments(
    client: TestClient, labelled: dict
) -> None:
    pid, ids, (cat, dog, cow) = labelled["pid"], labelled["ids"], labelled["label_ids"]
    none = {"segment_ids": [], "label_ids": [], "confidence": []}
    assert client.get(f"/api/projects/{pid}/suggestions/map").json() == none  # nothing yet
    store(client, pid, "propagate", {ids[2]: (cat, 0.6), ids[3]: (cat, 0.8), ids[9]: (dog, 0.5)})
    store(client, pid, "exemplar", {ids[2]: (cow, 0.75), ids[3]: (dog, 0.1)})
    client.post(f"/api/projects/{pid}/assign", json={"segment_ids": [ids[9]], "label_id": dog})
    body = client.get(f"/api/projects/{pid}/suggestions/map").json()
    assert body == {
        "segment_ids": [ids[2], ids[3]],
        "label_ids": [cow, cat],
        "confidence": [0.75, 0.8],
    }
    binary = client.get(f"/api/projects/{pid}/suggestions/map", params={"format": "binary"})
    assert binary.headers["content-type"] == "application/octet-stream"
    header, columns = decode_map(binary.content)
    assert header["count"] == 2
    assert columns["segment_id"].tolist() == [ids[2], ids[3]]
    assert columns["label_id"].tolist() == [cow, cat]
    assert np.allclose(columns["confidence"], [0.75, 0.8])


def test_reject_validates_and_stays_in_its_project(client: TestClient, labelled: dict) -> None:
    pid = labelled["pid"]
    store(client, pid, "propagate", {labelled["ids"][2]: (labelled["label_ids"][0], 0.9)})
    url = f"/api/projects/{pid}/suggestions/reject"
    assert client.post(url, json={"segment_ids": []}).status_code == 422
    assert client.post(url, json={}).status_code == 422
    other = client.post("/api/projects", json={"name": "other"}).json()["id"]
    body = {"segment_ids": [labelled["ids"][2]]}
    assert client.post(f"/api/projects/{other}/suggestions/reject", json=body).json() == {
        "dismissed": 0,
        "deleted_segments": [],
    }
    assert suggestions(client, pid)["total"] == 1
    assert client.get("/api/projects/999/suggestions/map").status_code == 404


def test_rejecting_an_exemplar_proposal_deletes_it(client: TestClient, labelled: dict) -> None:
    pid, ids, (cat, dog, _) = labelled["pid"], labelled["ids"], labelled["label_ids"]
    proposal, twice, kept = ids[2], ids[3], ids[4]
    ctx = client.app.state.context  # type: ignore[attr-defined]
    with ctx.db.write() as session:
        session.execute(
            update(Segment)
            .where(Segment.id.in_([proposal, twice, kept]))
            .values(source=SegmentSource.exemplar)
        )
    store(client, pid, "exemplar", {proposal: (cat, 0.5), twice: (cat, 0.5), kept: (cat, 0.5)})
    store(client, pid, "propagate", {twice: (dog, 0.4)})
    client.post(f"/api/projects/{pid}/assign", json={"segment_ids": [kept], "label_id": dog})
    done = reject(client, pid, segment_ids=[proposal, twice, kept], kind="exemplar")
    assert done == {"dismissed": 3, "deleted_segments": [proposal]}
    assert client.get(f"/api/segments/{proposal}").status_code == 404
    assert client.get(f"/api/segments/{twice}").status_code == 200  # still has a suggestion
    assert client.get(f"/api/segments/{kept}").json()["label_id"] == dog  # labelled: a segment
