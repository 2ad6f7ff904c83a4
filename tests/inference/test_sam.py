"""SamSegmenter on the tiny SAM: the ONNX decoder path must give SamPredictor's masks."""

import numpy as np
import pytest
import torch
from segment_anything import SamPredictor

from app.inference.base import Prompt
from app.inference.decoder import TorchDecoder
from app.inference.sam import SamSegmenter
from tests.inference.conftest import photo

POINT = dict(points=np.array([[150.0, 100.0]], np.float32), point_labels=np.array([1], np.int32))
BOX_AND_NEGATIVE = dict(
    points=np.array([[160.0, 120.0]], np.float32),
    point_labels=np.array([0], np.int32),
    box=np.array([60.0, 40.0, 260.0, 200.0], np.float32),
)


@pytest.fixture(scope="module")
def prepared(tiny_segmenter):
    image = photo()
    return image, tiny_segmenter.prepare([image])[0]


@pytest.fixture(scope="module")
def reference(tiny_segmenter, prepared):
    """SamPredictor as segment-anything users call it, on the same (fp16-rounded) features."""
    image, state = prepared
    predictor = SamPredictor(tiny_segmenter.sam)
    predictor.set_image(image)
    predictor.features = torch.from_numpy(state.arrays["features"].astype(np.float32))
    return predictor


def test_prepare_matches_set_image_and_keeps_full_predictor_state(tiny_segmenter, prepared):
    image, state = prepared
    predictor = SamPredictor(tiny_segmenter.sam)
    predictor.set_image(image)
    assert state.arrays["features"].shape == (1, 256, 64, 64)
    assert state.arrays["features"].dtype == np.float16
    assert state.original_size == (240, 320) and state.input_size == predictor.input_size
    np.testing.assert_allclose(
        state.arrays["features"].astype(np.float32),
        predictor.features.numpy(),
        atol=2e-2,
        rtol=1e-2,
    )


def test_batch_encode_equals_one_by_one(tiny_segmenter):
    images = [photo(seed=1), photo(200, 300, seed=2)]
    batched = tiny_segmenter.prepare(images)
    single = [tiny_segmenter.prepare([im])[0] for im in images]
    for a, b in zip(batched, single, strict=True):
        np.testing.assert_allclose(a.arrays["features"], b.arrays["features"], atol=2e-3)
        assert a.input_size == b.input_size


@pytest.mark.parametrize("kwargs", [POINT, BOX_AND_NEGATIVE, {"box": BOX_AND_NEGATIVE["box"]}])
@pytest.mark.parametrize("multimask", [True, False])
def test_onnx_path_gives_sam_predictor_masks(
    tiny_segmenter, prepared, reference, kwargs, multimask
):
    assert tiny_segmenter.decoder.name == "onnx"
    _, state = prepared
    ours = tiny_segmenter.predict(state, Prompt(multimask=multimask, **kwargs))
    masks, scores, low_res = reference.predict(
        point_coords=kwargs.get("points"),
        point_labels=kwargs.get("point_labels"),
        box=kwargs.get("box"),
        multimask_output=multimask,
    )
    order = np.argsort(-scores)
    assert len(ours) == len(order) == (3 if multimask else 1)
    for got, index in zip(ours, order, strict=True):
        assert got.mask.shape == (240, 320) and got.mask.dtype == bool
        assert np.mean(got.mask == masks[index]) > 0.999
        assert got.score == pytest.approx(float(np.clip(scores[index], 0, 1)), abs=1e-4)
        np.testing.assert_allclose(got.low_res_logits, low_res[index], atol=1e-3)


def test_refinement_with_mask_input_matches_and_changes_the_answer(
    tiny_segmenter, prepared, reference
):
    _, state = prepared
    first = tiny_segmenter.predict(state, Prompt(**POINT))[0]
    refined = tiny_segmenter.predict(
        state, Prompt(mask_input=first.low_res_logits[None], multimask=False, **POINT)
    )
    masks, _, _ = reference.predict(
        point_coords=POINT["points"],
        point_labels=POINT["point_labels"],
        mask_input=first.low_res_logits[None],
        multimask_output=False,
    )
    assert np.mean(refined[0].mask == masks[0]) > 0.999
    plain = tiny_segmenter.predict(state, Prompt(multimask=False, **POINT))[0]
    assert not np.allclose(plain.low_res_logits, refined[0].low_res_logits)


def test_onnx_and_torch_decoders_agree(tiny_segmenter, prepared):
    _, state = prepared
    eager = SamSegmenter(
        tiny_segmenter.sam, tiny_segmenter.model_id, TorchDecoder(tiny_segmenter.sam)
    )
    for kwargs in (POINT, BOX_AND_NEGATIVE):
        a = tiny_segmenter.predict(state, Prompt(**kwargs))
        b = eager.predict(state, Prompt(**kwargs))
        assert [round(m.score, 4) for m in a] == [round(m.score, 4) for m in b]
        for x, y in zip(a, b, strict=True):
            assert np.mean(x.mask == y.mask) > 0.999


def test_scores_are_sorted_and_in_unit_interval(tiny_segmenter, prepared):
    _, state = prepared
    scores = [m.score for m in tiny_segmenter.predict(state, Prompt(**BOX_AND_NEGATIVE))]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)


def test_auto_reuses_the_state_and_yields_between_batches(tiny_segmenter, prepared):
    image, state = prepared
    calls: list[int] = []
    params = {
        "points_per_side": 2,
        "points_per_batch": 2,
        "pred_iou_thresh": 0.0,
        "stability_score_thresh": 0.0,
        "prune": False,
    }
    masks = tiny_segmenter.auto(state, image, params, lambda: calls.append(1))
    assert len(calls) == 2
    assert all(m.mask.shape == (240, 320) for m in masks)
    with pytest.raises(ValueError, match="unknown"):
        tiny_segmenter.auto(state, image, {"crop_n_layers": 2})


def test_model_id_names_architecture_and_checkpoint_hash(tiny_segmenter, tiny_sam_checkpoint):
    from app.inference.checkpoints import sha256_file

    assert tiny_segmenter.model_id == f"sam-custom_e32_d2-{sha256_file(tiny_sam_checkpoint)[:16]}"


def test_sdpa_encoder_attention_matches_segment_anything(tiny_sam_checkpoint):
    from app.inference.acceleration import use_sdpa
    from app.inference.architecture import infer_architecture, load_sam, read_state_dict

    state = read_state_dict(tiny_sam_checkpoint)
    plain = load_sam(state, infer_architecture(state))
    fused = load_sam(state, infer_architecture(state))
    use_sdpa(fused.image_encoder)
    x = torch.randn(1, 3, 1024, 1024)
    with torch.inference_mode():
        np.testing.assert_allclose(
            fused.image_encoder(x), plain.image_encoder(x), atol=1e-4, rtol=1e-4
        )


def test_out_of_memory_fails_the_request_with_a_clear_error(tiny_segmenter, prepared):
    from app.inference.base import InferenceOutOfMemory

    def exhausted(*_):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    _, state = prepared
    broken = SamSegmenter(tiny_segmenter.sam, tiny_segmenter.model_id, exhausted)
    with pytest.raises(InferenceOutOfMemory, match="out of memory on cpu"):
        broken.predict(state, Prompt(**POINT))
    assert tiny_segmenter.predict(state, Prompt(**POINT))  # the model itself is fine


def test_out_of_memory_while_staging_the_encoder_input_is_our_error_too(tiny_segmenter):
    """Uploading and normalising a batch allocates on the device as well (12 MB an image)."""
    from app.inference.base import InferenceOutOfMemory

    class StagingFails(SamSegmenter):
        def _model_input(self, resized: np.ndarray) -> torch.Tensor:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 12.00 MiB")

    broken = StagingFails(tiny_segmenter.sam, tiny_segmenter.model_id, tiny_segmenter.decoder)
    with pytest.raises(InferenceOutOfMemory, match="out of memory on cpu"):
        broken.prepare([photo(), photo(seed=1)])
