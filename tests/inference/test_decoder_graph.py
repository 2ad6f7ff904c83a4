"""The exported decoder graph: same maths as segment-anything's decoder, in wasm-friendly ops."""

from collections import Counter

import numpy as np
import onnx
import pytest
import torch

from app.inference.decoder import LowResDecoder, export_decoder
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
