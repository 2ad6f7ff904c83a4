"""Confirmed labels: what a person saw is trusted by propagation and skipped by review; the
unseen rest is reviewed likely-wrong first."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.similar.job import UNSEEN_TRUST
from tests.pipeline.conftest import run_job

NO_EMBED = {"embed_missing": False}


@pytest.fixture
def classes(client: TestClient, embedded: dict) -> dict:
    pid = embedded["pid"]
    label_ids = [
        client.post(f"/api/projects/{pid}/labels", json={"name": n}).json()["id"]
        for n in ("cat", "dog", "cow")
    ]
    members = [
        [i for i, k in zip(embedded["ids"], embedded["cluster"], strict=True) if k == c]
        for c in range(3)
    ]
    return {**embedded, "label_ids": label_ids, "members": members}


def assign(client: TestClient, pid: int, ids: list[int], label_id: int, seen: list[int]) -> None:
    body = {"segment_ids": ids, "label_id": label_id, "seen_ids": seen}
    response = client.post(f"/api/projects/{pid}/assign", json=body)
    assert response.status_code == 200, response.text


def confirmed(client: TestClient, segment_id: int) -> bool:
    return client.get(f"/api/segments/{segment_id}").json()["confirmed"]


def test_only_seen_labels_are_confirmed(client: TestClient, classes: dict) -> None:
    pid, (cats, dogs, _) = classes["pid"], classes["members"]
    cat, dog = classes["label_ids"][:2]
    assign(client, pid, cats, cat, seen=cats[:3])
    assert [confirmed(client, i) for i in cats] == [True] * 3 + [False] * (len(cats) - 3)
    client.patch(f"/api/segments/{cats[5]}", json={"label_id": cat})
    assert confirmed(client, cats[5])
    assign(client, pid, cats[:2], dog, seen=[])  # relabelled in bulk: no longer seen
    assert not confirmed(client, cats[0])
    response = client.post(f"/api/projects/{pid}/confirm", json={"segment_ids": [cats[0], dogs[0]]})
    assert response.status_code == 200 and response.json()["count"] == 1  # dogs[0] unlabelled
    assert confirmed(client, cats[0]) and not confirmed(client, dogs[0])


def suggested(client: TestClient, pid: int, params: dict) -> dict[int, int]:
    run_job(client, pid, "propagate", {**NO_EMBED, **params})
    items = client.get(f"/api/projects/{pid}/suggestions", params={"limit": 100}).json()["items"]
    return {s["segment_id"]: s["label_id"] for s in items}


def test_propagation_ignores_a_lassos_unseen_tail(client: TestClient, classes: dict) -> None:
    pid, (cats, dogs, cows) = classes["pid"], classes["members"]
    cat, dog, cow = classes["label_ids"]
    assign(client, pid, cats[:3], cat, seen=cats[:3])
    assign(client, pid, cows[:2], cow, seen=cows[:2])
    # A lasso named "cat" (from its one seen cat) whose unseen tail holds most dogs.
    assign(client, pid, [cats[3], *dogs[:4]], cat, seen=[cats[3]])
    assign(client, pid, [dogs[4]], dog, seen=[dogs[4]])
    assert suggested(client, pid, {})[dogs[5]] == dog
    assert suggested(client, pid, {"seeds": "all"})[dogs[5]] == cat


def test_unseen_seeds_lower_the_confidence(client: TestClient, classes: dict) -> None:
    pid, (cats, dogs, _) = classes["pid"], classes["members"]
    cat, dog, _ = classes["label_ids"]
    assign(client, pid, cats[:4], cat, seen=[])
    assign(client, pid, dogs[:4], dog, seen=[])
    run_job(client, pid, "propagate", NO_EMBED)
    items = client.get(f"/api/projects/{pid}/suggestions", params={"limit": 100}).json()["items"]
    assert items and max(s["confidence"] for s in items) <= UNSEEN_TRUST + 1e-6
    run_job(client, pid, "propagate", {**NO_EMBED, "seeds": "all"})
    items = client.get(f"/api/projects/{pid}/suggestions", params={"limit": 100}).json()["items"]
    assert max(s["confidence"] for s in items) > UNSEEN_TRUST


def test_review_shows_the_likely_wrong_first(client: TestClient, classes: dict) -> None:
    pid, (cats, dogs, _) = classes["pid"], classes["members"]
    cat, dog, _ = classes["label_ids"]
    assign(client, pid, cats[:4], cat, seen=cats[:4])
    assign(client, pid, dogs[:3], dog, seen=dogs[:3])
    wrong = dogs[3:5]
    assign(client, pid, [*cats[4:], *wrong], cat, seen=[])  # unseen: 4 right, 2 wrong
    page = client.get(f"/api/projects/{pid}/review", params={"limit": 2}).json()
    assert page["total"] == len(cats) - 4 + len(wrong)
    assert {item["segment_id"] for item in page["items"]} == set(wrong)
    assert all(item["label_id"] == cat and item["support"] < 0.5 for item in page["items"])
    client.post(f"/api/projects/{pid}/confirm", json={"segment_ids": wrong})
    rest = client.get(f"/api/projects/{pid}/review", params={"limit": 50}).json()
    assert rest["total"] == len(cats) - 4 and all(i["support"] > 0.5 for i in rest["items"])


def test_confirm_rejects_bad_input(client: TestClient, classes: dict) -> None:
    response = client.post(f"/api/projects/{classes['pid']}/confirm", json={"segment_ids": []})
    assert response.status_code == 422 and "error" in response.json()
    response = client.get(f"/api/projects/{classes['pid']}/review", params={"limit": 0})
    assert response.status_code == 422


def test_parts_inherit_the_nearest_confirmed_whole() -> None:
    from app.similar.parts import inherited_labels

    ids = np.array([1, 2, 3, 4, 5])
    parents = np.array([0, 1, 2, 0, 4])  # 3 in 2 in 1; 5 in 4
    labels = np.array([7, 8, 0, 9, 0])
    confirmed = np.array([True, False, False, False, False])  # 2's label nobody saw
    assert inherited_labels(ids, parents, labels, confirmed).tolist() == [0, 7, 7, 0, 0]
    cyclic = inherited_labels(
        np.array([1, 2]), np.array([2, 1]), np.zeros(2, int), np.ones(2, bool)
    )
    assert cyclic.tolist() == [0, 0]
