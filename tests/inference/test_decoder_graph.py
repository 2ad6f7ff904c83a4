"""The exported decoder graph: same maths as segment-anything's decoder, in wasm-friendly ops."""

from collections import Counter

import numpy as np
import onnx
import pytest
import torch

from app.inference import batch_decoder
from app.inference.decoder import LowResDecoder
from app.inference.decoder_export import export_decoder
from app.inference.decoder_files import graph_path
from app.inference.split_decoder import IMAGE_OUTPUTS, ImageStage, PromptStage
from tests.fixtures.tiny_sam import build_tiny_sam


@pytest.fixture(scope="module")
def sam():
    return build_tiny_sam(seed=3).eval()


def decoder_inputs(with_mask: bool) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(int(with_mask))
    features = torch.randn(1, 256, 64, 64, generator=generator)
    coords = torch.tensor([[[300.0, 420.0], [100.0, 80.0], [700.0, 650.0]]])
    labels = torch.tensor([[1.0, 2.0, 3.0]])
    mask = torch.randn(1, 1, 256, 256, generator=generator) * 4
    return features, coords, labels, mask, torch.tensor([float(with_mask)])


@pytest.mark.parametrize("with_mask", [False, True])
def test_folded_decoder_equals_segment_anything(sam, with_mask: bool) -> None:
    inputs = decoder_inputs(with_mask)
    plain_masks, plain_scores = LowResDecoder(sam)(*inputs)
    fast_masks, fast_scores = LowResDecoder(sam, folded=True)(*inputs)
    assert fast_masks.shape == plain_masks.shape == (4, 256, 256)
    torch.testing.assert_close(fast_masks, plain_masks, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(fast_scores, plain_scores, atol=1e-5, rtol=1e-5)


def test_exported_graph_avoids_slow_wasm_kernels(sam, tmp_path) -> None:
    model = onnx.load(str(export_decoder(sam, tmp_path / "decoder.onnx")))
    ops = Counter(node.op_type for node in model.graph.node)
    # Transposed convolutions and the per-click sin/cos of the 64x64 positional encoding were
    # the slowest parts of the graph in onnxruntime-web; only the prompt points' encoding is left.
    assert "ConvTranspose" not in ops
    assert ops["Sin"] == ops["Cos"] == 1
    payloads = [
        node.attribute[0].t.SerializeToString()
        for node in model.graph.node
        if node.op_type == "Constant" and np.prod(node.attribute[0].t.dims) > 1024
    ]
    assert len(payloads) == len(set(payloads)) >= 1


def split_inputs(with_box: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """features, coords, labels: two clicks and a box, or one click and SAM's padding point."""
    features = torch.randn(1, 256, 64, 64, generator=torch.Generator().manual_seed(7)) * 3
    if with_box:
        coords = torch.tensor([[[300.0, 420.0], [520.0, 610.0], [100.0, 80.0], [700.0, 650.0]]])
        return features, coords, torch.tensor([[1.0, 0.0, 2.0, 3.0]])
    return features, torch.tensor([[[512.0, 300.0], [0.0, 0.0]]]), torch.tensor([[1.0, -1.0]])


@pytest.mark.parametrize("with_box", [False, True])
def test_split_decoder_equals_low_res_decoder(sam, with_box: bool) -> None:
    features, coords, labels = split_inputs(with_box)
    no_mask = (torch.zeros(1, 1, 256, 256), torch.zeros(1))
    plain_masks, plain_scores = LowResDecoder(sam)(features, coords, labels, *no_mask)
    projected = ImageStage(sam)(features)
    assert [tuple(t.shape) for t in projected] == [(1, 8, 4096, 16)] * 3
    split_masks, split_scores = PromptStage(sam)(features, *projected, coords, labels)
    torch.testing.assert_close(split_masks, plain_masks, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(split_scores, plain_scores, atol=1e-5, rtol=1e-5)
    assert iou((split_masks > 0).numpy(), (plain_masks > 0).numpy()) >= 0.99


def test_exported_split_graphs_equal_the_full_graph(sam, tmp_path) -> None:
    import onnxruntime as ort

    full = export_decoder(sam, tmp_path / "decoder.onnx")
    image, prompt = (
        ort.InferenceSession(str(export_decoder(sam, graph_path(full, part), part)))
        for part in ("image", "prompt")
    )
    features, coords, labels = (t.numpy() for t in split_inputs(with_box=True))
    projected = image.run(IMAGE_OUTPUTS, {"image_embeddings": features})
    feed = {"image_embeddings": features, "point_coords": coords, "point_labels": labels}
    masks, scores = prompt.run(None, feed | dict(zip(IMAGE_OUTPUTS, projected, strict=True)))
    no_mask = {
        "mask_input": np.zeros((1, 1, 256, 256), np.float32),
        "has_mask_input": np.zeros(1, np.float32),
    }
    full_masks, full_scores = ort.InferenceSession(str(full)).run(None, feed | no_mask)
    np.testing.assert_allclose(masks, full_masks, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(scores, full_scores, atol=1e-5, rtol=1e-5)
    assert iou(masks > 0, full_masks > 0) >= 0.99


def test_exported_auto_graph_gives_each_prompts_multimask_tokens(sam, tmp_path) -> None:
    """The automatic-mask graph on B prompts at once equals the page's graph run per prompt,
    tokens 1-3."""
    import onnxruntime as ort

    full = tmp_path / "decoder.onnx"
    image, prompt, auto = (
        ort.InferenceSession(str(export_decoder(sam, graph_path(full, part), part)))
        for part in ("image", "prompt", "auto")
    )
    features = split_inputs(with_box=False)[0].numpy()
    coords = np.array([[[512.0, 300.0], [0, 0]], [[100.0, 900.0], [0, 0]]], np.float32)
    labels = np.array([[1.0, -1.0]] * 2, np.float32)
    outputs = image.run(IMAGE_OUTPUTS, {"image_embeddings": features})
    projected = dict(zip(IMAGE_OUTPUTS, outputs, strict=True))
    masks, scores = auto.run(
        None,
        {"image_embeddings": features, "point_coords": coords, "point_labels": labels} | projected,
    )
    assert masks.shape == (2, 3, 256, 256) and scores.shape == (2, 3)
    for b in range(2):
        feed = {"image_embeddings": features, "point_coords": coords[b : b + 1]}
        one_masks, one_scores = prompt.run(
            None, feed | {"point_labels": labels[b : b + 1]} | projected
        )
        np.testing.assert_allclose(masks[b], one_masks[1:], atol=1e-4, rtol=1e-4)
        np.testing.assert_allclose(scores[b], one_scores[1:], atol=1e-5, rtol=1e-5)


def test_batch_runner_splits_many_prompts_into_runs(sam, tmp_path, monkeypatch) -> None:
    """Prompts beyond RUN_PROMPTS go in further onnxruntime runs; the answer is the same."""
    full = tmp_path / "decoder.onnx"
    runner = batch_decoder.OnnxBatchRunner(
        *(export_decoder(sam, graph_path(full, part), part) for part in ("image", "auto")), 1
    )
    features = split_inputs(with_box=False)[0].numpy()
    projected = runner.project(features)
    points = np.random.default_rng(1).uniform(0, 1024, (5, 1, 2)).astype(np.float32)
    coords = np.concatenate([points, np.zeros_like(points)], axis=1)
    labels = np.array([[1.0, -1.0]] * 5, np.float32)
    whole = runner(features, projected, coords, labels)
    monkeypatch.setattr(batch_decoder, "RUN_PROMPTS", 2)
    split = runner(features, projected, coords, labels)
    assert split[0].shape == (5, 3, 256, 256) and split[1].shape == (5, 3)
    for one, other in zip(whole, split, strict=True):
        np.testing.assert_allclose(one, other, atol=1e-5, rtol=1e-5)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a & b) / max(1, np.count_nonzero(a | b)))
