"""Live team updates in the browser: alice (signed in, in Chromium) sees what bob (an API
client with his own token) does, on a server with sign-in required: his assigns recolour her
map, his presence on her image raises the soft-lock warning and his relabel reaches her
annotator's segment list, and his rejects refresh her review queue and suggestion colours."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.masks import encode_rle
from app.models import Role
from tests.e2e.conftest import ConsoleWatch, upload_images, watched_page
from tests.e2e.review_seed import propagate, seed_clusters
from tests.e2e.seed import seed_segments
from tests.server_process import ServerProcess
from tests.team.conftest import SERVER_ENV, api_token, bearer, database, make_user

ALICE_PASSWORD = "alice-live-password"
# Batches with more changes come as their count, and pages read their changes as columns.
INLINE = 10


@pytest.fixture(scope="package")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A sign-in server with two admins: alice (password) and bob (API token)."""
    data_dir: Path = tmp_path_factory.mktemp("live") / "data"
    db = database(data_dir)
    make_user(db, "alice", Role.admin, ALICE_PASSWORD)
    token = api_token(db, make_user(db, "bob", Role.admin))
    db.dispose()
    with (
        ServerProcess(
            data_dir, env={**SERVER_ENV, "LASSOLABEL_LIVE_INLINE_CHANGES": str(INLINE)}
        ) as server,
        httpx.Client(base_url=server.url, headers=bearer(token), timeout=60) as bob,
    ):
        yield {"server": server, "bob": bob, "data_dir": data_dir}


@pytest.fixture
def alice(browser, team: dict) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A page signed in as alice; fails the test on any console error."""
    console = ConsoleWatch()
    context = browser.new_context(
        base_url=team["server"].url, viewport={"width": 1400, "height": 900}
    )
    signed_in = context.request.post(
        "/api/auth/login", data={"username": "alice", "password": ALICE_PASSWORD}
    )
    assert signed_in.ok, signed_in.text()
    yield watched_page(context, console)
    context.close()
    assert not console.unexpected(), f"console errors: {console.unexpected()}"


def new_project(bob: httpx.Client, name: str) -> dict:
    response = bob.post("/api/projects", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


def add_label(bob: httpx.Client, pid: int, name: str, color: str) -> int:
    return bob.post(f"/api/projects/{pid}/labels", json={"name": name, "color": color}).json()["id"]


def assign(bob: httpx.Client, pid: int, ids: list[int], label_id: int) -> int:
    response = bob.post(
        f"/api/projects/{pid}/assign", json={"segment_ids": ids, "label_id": label_id}
    )
    assert response.status_code == 200, response.text
    return response.json()["batch_id"]


def test_bobs_assign_recolours_alices_map(alice, team: dict) -> None:  # type: ignore[no-untyped-def]
    bob = team["bob"]
    project = new_project(bob, "live map")
    pid = project["id"]
    image = bob.get(f"/api/images/{upload_images(bob, pid, 1)[0]['id']}").json()
    xy = np.random.default_rng(0).uniform(0, 10, (30, 2)).astype(np.float32)
    ids = seed_segments(
        team["data_dir"], project_id=pid, image=image, embedder=project["embedder"], xy=xy
    )
    cat = add_label(bob, pid, "cat", "#ff0000")
    dog = add_label(bob, pid, "dog", "#0000ff")
    alice.goto(f"/projects/{pid}/map")
    alice.wait_for_selector("body[data-map-ready=true][data-live=open]")
    cat_count = f"#map-labels li[data-label-id='{cat}'] .count"
    assert alice.text_content(cat_count) == "0"

    batch = assign(bob, pid, ids[:7], cat)
    alice.wait_for_selector(f"body[data-live-painted='{batch}']")
    assert alice.text_content(cat_count) == "7"
    labels = alice.evaluate(
        "ids => ids.map((id) => lassolabelMap.model.labelIdAt(lassolabelMap.model.pointOf(id)))",
        ids[:8],
    )
    assert labels == [cat] * 7 + [None]
    assert alice.text_content("#project-progress") == "7 / 30 labelled"

    # A batch too big to list in the event: her map reads its changes and recolours all.
    big = assign(bob, pid, ids[5:25], dog)
    assert len(ids[5:25]) > INLINE
    alice.wait_for_selector(f"body[data-live-painted='{big}']")
    assert alice.text_content(cat_count) == "5"
    assert alice.text_content(f"#map-labels li[data-label-id='{dog}'] .count") == "20"
    labels = alice.evaluate(
        "ids => ids.map((id) => lassolabelMap.model.labelIdAt(lassolabelMap.model.pointOf(id)))",
        ids[4:26],
    )
    assert labels == [cat] + [dog] * 20 + [None]

    # Bob says he is here (on no image): alice's header lists him, by name, as text.
    bob.post(f"/api/projects/{pid}/presence", json={"image_id": None})
    alice.wait_for_selector("#presence .presence-user[data-username=bob]")
    assert alice.locator("#presence .presence-user[data-username=alice]").count() == 0
    bob.delete(f"/api/projects/{pid}/presence")
    alice.wait_for_selector("#presence", state="hidden")


def test_annotator_warns_while_bob_holds_the_image(alice, team: dict) -> None:  # type: ignore[no-untyped-def]
    bob = team["bob"]
    project = new_project(bob, "live annotator")
    pid = project["id"]
    first, second = upload_images(bob, pid, 2)
    image = bob.get(f"/api/images/{first['id']}").json()
    xy = np.zeros((INLINE + 2, 2), np.float32)
    ids = seed_segments(
        team["data_dir"], project_id=pid, image=image, embedder=project["embedder"], xy=xy
    )
    dog = add_label(bob, pid, "dog", "#0000ff")
    bob.post(f"/api/projects/{pid}/presence", json={"image_id": first["id"]})  # bob came first

    alice.goto(f"/projects/{pid}/annotate?image={first['id']}")
    banner = alice.wait_for_selector("#presence-banner[data-held-by=bob]")
    assert banner.text_content() == "bob is labelling this image"
    alice.wait_for_selector(f"#filmstrip img[data-image-id='{first['id']}'][data-here=bob]")
    assert (
        alice.locator(f"#segment-list li[data-segment-id='{ids[0]}'] .label-name").text_content()
        == "unlabelled"
    )

    # Bob labels a segment of this image: alice's list follows without a reload.
    batch = assign(bob, pid, ids[:1], dog)
    alice.wait_for_selector(f"body[data-live-batch='{batch}']")
    alice.wait_for_selector(
        f"#segment-list li[data-segment-id='{ids[0]}'] .label-name:text-is('dog')"
    )
    # ... and when he relabels more segments than an event lists.
    cat = add_label(bob, pid, "cat", "#ff0000")
    batch = assign(bob, pid, ids, cat)
    alice.wait_for_selector(f"body[data-live-batch='{batch}']")
    for segment_id in (ids[0], ids[-1]):
        alice.wait_for_selector(
            f"#segment-list li[data-segment-id='{segment_id}'] .label-name:text-is('cat')"
        )

    # Bob draws a new segment here, then deletes it: alice's list follows both.
    mask = np.zeros((image["height"], image["width"]), bool)
    mask[10:40, 20:60] = True
    made = bob.post(
        f"/api/images/{first['id']}/segments", json={"rle": encode_rle(mask), "label_id": dog}
    )
    assert made.status_code == 201, made.text
    new_row = f"#segment-list li[data-segment-id='{made.json()['id']}']"
    alice.wait_for_selector(f"{new_row} .label-name:text-is('dog')")
    assert bob.delete(f"/api/segments/{made.json()['id']}").status_code == 204
    alice.wait_for_selector(new_row, state="detached")
    kinds = [b["kind"] for b in bob.get(f"/api/projects/{pid}/history").json()["items"]]
    assert kinds[:2] == ["delete", "create"]

    # Alice moves on: no warning there; back, and bob has left: the lock is hers.
    alice.keyboard.press("ArrowRight")
    alice.wait_for_selector(f"#filmstrip img.current[data-image-id='{second['id']}']")
    alice.wait_for_selector("#presence-banner", state="hidden")
    bob.delete(f"/api/projects/{pid}/presence")
    # The page tells the server where alice is with its next beat, after the image shows.
    claimed = f'{{"image_id":{first["id"]}}}'
    with alice.expect_response(
        lambda r: (
            r.url.endswith(f"/api/projects/{pid}/presence")
            and r.request.method == "POST"
            and (r.request.post_data or "").replace(" ", "") == claimed
        )
    ):
        alice.keyboard.press("ArrowLeft")
    alice.wait_for_selector(
        f"#filmstrip img.current[data-image-id='{first['id']}']:not([data-here])"
    )
    assert alice.locator("#presence-banner").is_hidden()
    assert bob.get(f"/api/projects/{pid}/presence").json()["locks"] == {str(first["id"]): "alice"}


def test_bobs_rejects_refresh_alices_review_queue_and_suggestion_colours(alice, team: dict) -> None:  # type: ignore[no-untyped-def]
    bob = team["bob"]
    seeded = seed_clusters(bob, team["data_dir"], new_project(bob, "live review"))
    pid = seeded["pid"]
    propagate(bob, pid)
    alice.goto(f"/projects/{pid}/review")
    alice.wait_for_selector("body[data-review-ready=true][data-live=open]")
    alice.wait_for_selector("#review-total:text('51 to review')")
    listed = [
        int(x)
        for x in alice.locator(".review-card").evaluate_all(
            "cards => cards.map((c) => c.dataset.segmentId)"
        )
    ]
    gone = listed[-3:]
    # A reject writes no label batch: only the `suggestions` event can tell alice's page.
    response = bob.post(f"/api/projects/{pid}/suggestions/reject", json={"segment_ids": gone})
    assert response.json()["dismissed"] == 3
    alice.wait_for_selector("#review-total:text('48 to review')")
    for segment_id in gone:
        assert alice.locator(f".review-card[data-segment-id='{segment_id}']").count() == 0

    # On the map, coloured by suggestion: the colours reload when bob rejects more.
    alice.goto(f"/projects/{pid}/map")
    alice.wait_for_selector("body[data-map-ready=true][data-live=open]")
    alice.select_option("#color-mode", "suggestions")
    alice.wait_for_selector("body[data-color-by=suggestions]")
    bob.post(f"/api/projects/{pid}/suggestions/reject", json={"segment_ids": listed[:2]})
    alice.wait_for_selector("body[data-suggestions='46']")
