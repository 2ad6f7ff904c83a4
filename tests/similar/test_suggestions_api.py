from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.models import Segment, SegmentSource
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
    assert len(response.json()["batch_ids"]) >= 1
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
