"""Which one-click candidate is shown first: predicted IoU, then what the project kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.inference.base import PredictedMask, PreparedImage, Prompt
from app.inference.candidates import WEIGHT, CandidatePicks
from app.main import create_app
from app.masks import encode_rle
from tests.conftest import png_bytes, upload
from tests.inference.fakes import FakeSegmenter

SCORES = {1: 0.90, 2: 0.88, 3: 0.86}  # token -> predicted IoU: token 1 leads by a little


def nested_masks(height: int, width: int) -> dict[int, np.ndarray]:
    """Token -> a square around the image centre, larger with the token (part, object, all)."""
    masks = {}
    for token, half in ((1, 4), (2, 10), (3, 18)):
        mask = np.zeros((height, width), bool)
        mask[height // 2 - half : height // 2 + half, width // 2 - half : width // 2 + half] = True
        masks[token] = mask
    return masks


def candidates(height: int = 48, width: int = 64) -> list[PredictedMask]:
    logits = np.zeros((256, 256), np.float32)
    return [
        PredictedMask(mask, SCORES[token], logits, token=token)
        for token, mask in nested_masks(height, width).items()
    ]


class ThreeCandidates(FakeSegmenter):
    """SAM-like answers: three nested multimask candidates, best predicted IoU first."""

    def predict(self, state: PreparedImage, prompt: Prompt) -> list[PredictedMask]:
        return candidates(*state.original_size)


def test_a_new_project_shows_the_top_scored_candidate() -> None:
    assert [m.token for m in CandidatePicks().order(1, candidates())] == [1, 2, 3]


def test_kept_candidates_move_ahead_for_their_project_only() -> None:
    picks = CandidatePicks()
    for _ in range(3):
        shown = picks.order(7, candidates())
        picks.offered(70, shown, [encode_rle(m.mask) for m in shown])
        picks.kept(7, 70, encode_rle(nested_masks(48, 64)[3]))
    assert picks.order(7, candidates())[0].token == 3
    assert picks.order(8, candidates())[0].token == 1


def test_a_saved_mask_unlike_every_candidate_teaches_nothing() -> None:
    picks = CandidatePicks()
    shown = candidates()
    far = np.zeros((48, 64), bool)
    far[:3, :3] = True
    for _ in range(5):
        picks.offered(70, shown, [encode_rle(m.mask) for m in shown])
        picks.kept(7, 70, encode_rle(far))
    assert picks.order(7, shown)[0].token == 1


def test_a_token_named_by_the_page_counts_and_retires_the_servers_offer() -> None:
    """The in-page decoder says which token it showed: that token counts, whatever the saved
    mask looks like, and the image's last /predict offer no longer matches a later save."""
    picks = CandidatePicks()
    shown = candidates()
    picks.offered(70, shown, [encode_rle(m.mask) for m in shown])
    far = encode_rle(np.zeros((48, 64), bool))
    for _ in range(3):
        picks.kept(7, 70, far, token=2)
    picks.kept(7, 70, encode_rle(nested_masks(48, 64)[3]))  # the offer is gone: no count
    assert picks.counts(7) == [0, 0, 3, 0]
    assert picks.counts(8) == [0, 0, 0, 0]
    assert picks.order(7, candidates())[0].token == 2


def test_backends_without_tokens_keep_their_order() -> None:
    plain = [PredictedMask(m.mask, m.score, m.low_res_logits) for m in candidates()][::-1]
    assert CandidatePicks().order(1, plain) == plain


@pytest.fixture
def fake_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, segmenter=ThreeCandidates())) as client:
        yield client


def click(client: TestClient, image_id: int) -> dict[str, Any]:
    body = {"points": [[32, 24]], "point_labels": [1], "multimask": True}
    response = client.post(f"/api/images/{image_id}/predict", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_predict_learns_from_the_segments_people_save(fake_client: TestClient) -> None:
    """Saving the largest candidate (by RLE, as the page does) three times puts it first."""
    pid = fake_client.post("/api/projects", json={"name": "picks"}).json()["id"]
    image = upload(fake_client, pid, [("a.png", png_bytes(64, 48))])["imported"][0]
    first = click(fake_client, image["id"])
    assert [m["area"] for m in first["masks"]] == [64, 400, 1296]
    for _ in range(3):
        masks = click(fake_client, image["id"])["masks"]
        largest = next(m for m in masks if m["area"] == 1296)
        saved = fake_client.post(
            f"/api/images/{image['id']}/segments", json={"rle": largest["rle"]}
        )
        assert saved.status_code == 201, saved.text
    answer = click(fake_client, image["id"])
    assert answer["masks"][0]["area"] == 1296
    assert answer["mask_input"] == answer["masks"][0]["handle"]


def picks_of(client: TestClient, project_id: int) -> dict[str, Any]:
    response = client.get(f"/api/projects/{project_id}/candidate-picks")
    assert response.status_code == 200, response.text
    return response.json()


def test_saves_naming_a_token_move_the_counts_and_the_predict_order(
    fake_client: TestClient,
) -> None:
    """What the in-page decoder does: read the counts and weight, save with the token it
    showed; /predict then ranks that token first too."""
    pid = fake_client.post("/api/projects", json={"name": "page picks"}).json()["id"]
    image = upload(fake_client, pid, [("a.png", png_bytes(64, 48))])["imported"][0]
    assert picks_of(fake_client, pid) == {"weight": WEIGHT, "counts": [0, 0, 0, 0]}
    rle = encode_rle(nested_masks(48, 64)[2])
    url = f"/api/images/{image['id']}/segments"
    for _ in range(3):
        saved = fake_client.post(url, json={"rle": rle, "candidate_token": 2})
        assert saved.status_code == 201, saved.text
    assert picks_of(fake_client, pid)["counts"] == [0, 0, 3, 0]
    assert click(fake_client, image["id"])["masks"][0]["area"] == 400


@pytest.mark.parametrize("token", [0, 4, -1, "two", 2.5])
def test_a_bad_candidate_token_is_refused_and_saves_nothing(
    fake_client: TestClient, token: object
) -> None:
    pid = fake_client.post("/api/projects", json={"name": "bad picks"}).json()["id"]
    image = upload(fake_client, pid, [("a.png", png_bytes(64, 48))])["imported"][0]
    url = f"/api/images/{image['id']}/segments"
    rle = encode_rle(nested_masks(48, 64)[1])
    response = fake_client.post(url, json={"rle": rle, "candidate_token": token})
    assert response.status_code == 422
    assert set(response.json()["error"]) >= {"code", "message", "detail"}
    assert fake_client.get(url).json()["segments"] == []
    assert picks_of(fake_client, pid)["counts"] == [0, 0, 0, 0]


def test_candidate_picks_of_a_missing_project_is_a_404(fake_client: TestClient) -> None:
    response = fake_client.get("/api/projects/999/candidate-picks")
    assert response.status_code == 404
    assert response.json()["error"]["code"]
