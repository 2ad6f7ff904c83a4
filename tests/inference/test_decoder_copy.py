"""The page's decoder graphs exported for a model off the CPU (a GPU server): from a CPU copy of
SAM's per-click half, the same graphs as the CPU server's direct export, the model untouched.
The device check is taken by make_decoder's device_type; CUDA itself: test_cuda.py."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from app.inference.decoder_copy import decoder_copy
from app.inference.decoder_export import export_decoder, export_page_graphs, make_decoder
from app.inference.decoder_files import DECODER_GRAPH, PAGE_GRAPHS, graph_path
from tests.fixtures.coins import coins
from tests.fixtures.decoder_graphs import assert_same_outputs, example_inputs, page_graph_outputs
from tests.fixtures.tiny_sam import build_tiny_sam


@pytest.fixture(scope="module")
def sam():
    return build_tiny_sam(seed=5)


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: t.clone() for name, t in module.state_dict().items()}


def test_the_copy_holds_the_decoder_half_only_in_its_own_memory(sam) -> None:
    copy = decoder_copy(sam)
    half = {
        f"{part}.{name}": t
        for part in ("prompt_encoder", "mask_decoder")
        for name, t in getattr(sam, part).state_dict().items()
    }
    copied = copy.state_dict()
    assert copied.keys() == half.keys()  # no image encoder weights
    assert copy.image_encoder.img_size == sam.image_encoder.img_size and not copy.training
    for name, tensor in copied.items():
        assert tensor.device.type == "cpu"
        assert torch.equal(tensor, half[name]) and tensor.data_ptr() != half[name].data_ptr()
    torch.testing.assert_close(copy.pixel_mean, sam.pixel_mean, rtol=0, atol=0)


def test_graphs_from_the_copy_compute_what_the_direct_export_does(sam, tmp_path) -> None:
    direct, copied = tmp_path / "direct" / "d.onnx", tmp_path / "copied" / "d.onnx"
    for part in PAGE_GRAPHS:
        export_decoder(sam, graph_path(direct, part), part)
    before = snapshot(sam)
    export_page_graphs(sam, copied)
    inputs = example_inputs()
    assert_same_outputs(page_graph_outputs(copied, *inputs), page_graph_outputs(direct, *inputs))
    after = snapshot(sam)
    assert all(torch.equal(after[name], value) for name, value in before.items())


def test_make_decoder_off_the_cpu_decodes_eagerly_and_writes_the_page_graphs(sam, tmp_path):
    onnx_path = tmp_path / "onnx" / f"sam-test.{DECODER_GRAPH}.onnx"
    live = [t.data_ptr() for t in sam.parameters()]
    runner = make_decoder(sam, onnx_path, 1, device_type="cuda")
    assert [t.data_ptr() for t in sam.parameters()] == live and not sam.training
    assert runner.name == "torch"
    paths = [graph_path(onnx_path, part) for part in PAGE_GRAPHS]
    assert all(path.is_file() for path in paths)
    assert not graph_path(onnx_path, "auto").exists()  # automatic masks run on the GPU
    written = [path.stat().st_mtime_ns for path in paths]
    make_decoder(sam, onnx_path, 1, device_type="cuda")  # cached by model id: not exported again
    assert [path.stat().st_mtime_ns for path in paths] == written
    features, coords, labels, mask = example_inputs()
    eager, _ = runner(features, coords, labels, mask, np.ones(1, np.float32))
    graph = page_graph_outputs(onnx_path, features, coords, labels, mask)["full mask=1 low_res"]
    np.testing.assert_allclose(eager, graph, atol=1e-4, rtol=1e-4)


def test_a_failed_export_off_the_cpu_leaves_the_eager_decoder(sam, tmp_path, caplog) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with caplog.at_level(logging.ERROR):
        runner = make_decoder(
            sam, blocker / f"sam-test.{DECODER_GRAPH}.onnx", 1, device_type="cuda"
        )
    assert runner.name == "torch"
    assert "graphs for the page unavailable" in caplog.text


def test_mobile_sams_graphs_from_the_copy_are_the_cpu_servers(mobile_sam, models_dir, tmp_path):
    """The real MobileSAM (a TinyViT encoder, which the copy leaves out) on a real embedding."""
    served = models_dir / "onnx" / f"{mobile_sam.model_id}.{DECODER_GRAPH}.onnx"
    copied = tmp_path / served.name
    export_page_graphs(mobile_sam.sam, copied)
    features = mobile_sam.prepare([coins().image])[0].arrays["features"].astype(np.float32)
    inputs = (features, *example_inputs()[1:])
    assert_same_outputs(page_graph_outputs(copied, *inputs), page_graph_outputs(served, *inputs))
