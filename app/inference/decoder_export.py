"""SAM's decoder graphs exported to ONNX, and the runner that serves clicks from them.

GRAPHS are the graphs one checkpoint exports: "full" (decoder.py's LowResDecoder, any click)
for the server's runner; "image" + "prompt" (split_decoder.py, the same maths split at the
image) for the page's in-page decoder; "auto" for the automatic masks' point batches
(batch_decoder.py). Exports are atomic and reused when present (decoder_files.py names them).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from segment_anything.modeling import Sam

from app.inference.decoder import (
    DECODER_INPUTS,
    DECODER_OUTPUTS,
    DecoderRunner,
    LowResDecoder,
    OnnxDecoder,
    TorchDecoder,
)
from app.inference.decoder_copy import decoder_copy
from app.inference.decoder_files import PAGE_GRAPHS, graph_path
from app.inference.split_decoder import IMAGE_OUTPUTS, BatchPromptStage, ImageStage, PromptStage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Graph:
    """One exportable decoder graph: its module, example inputs and ONNX input/output names."""

    module: Callable[[Sam], torch.nn.Module]
    example: Callable[[Sam], tuple[torch.Tensor, ...]]
    inputs: list[str]
    outputs: list[str]
    batched: bool = False  # prompts (point_coords' first axis) vary in number


def _full_example(sam: Sam) -> tuple[torch.Tensor, ...]:
    grid = sam.prompt_encoder.image_embedding_size
    features = torch.zeros(1, sam.prompt_encoder.embed_dim, *grid)
    return (
        features,
        *_points_example(),
        torch.zeros(1, 1, 4 * grid[0], 4 * grid[1]),
        torch.zeros(1),
    )


def _points_example() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.zeros(1, 2, 2), torch.tensor([[1.0, -1.0]])


def _image_example(sam: Sam) -> tuple[torch.Tensor, ...]:
    return _full_example(sam)[:1]


def _prompt_example(sam: Sam) -> tuple[torch.Tensor, ...]:
    features = _image_example(sam)
    return (*features, *ImageStage(sam).cpu()(*features), *_points_example())


def _batch_example(sam: Sam) -> tuple[torch.Tensor, ...]:
    *image, coords, labels = _prompt_example(sam)
    return (*image, coords.expand(2, -1, -1), labels.expand(2, -1))


# full: LowResDecoder, any click. image + prompt: the same maths split at the image for clicks
# without a mask input (split_decoder.py); the page runs image once per image.
GRAPHS = {
    "full": _Graph(
        partial(LowResDecoder, folded=True), _full_example, DECODER_INPUTS, DECODER_OUTPUTS
    ),
    "image": _Graph(ImageStage, _image_example, DECODER_INPUTS[:1], IMAGE_OUTPUTS),
    "prompt": _Graph(
        PromptStage,
        _prompt_example,
        [DECODER_INPUTS[0], *IMAGE_OUTPUTS, *DECODER_INPUTS[1:3]],
        DECODER_OUTPUTS,
    ),
    # auto: prompt for many prompts at once, multimask tokens only (automatic masks,
    # batch_decoder.py).
    "auto": _Graph(
        BatchPromptStage,
        _batch_example,
        [DECODER_INPUTS[0], *IMAGE_OUTPUTS, *DECODER_INPUTS[1:3]],
        DECODER_OUTPUTS,
        batched=True,
    ),
}


def export_decoder(sam: Sam, path: Path, part: str = "full") -> Path:
    """Export GRAPHS[part] to ONNX at path (atomically; reused when it already exists)."""
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = GRAPHS[part]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # The tracer warns about python-int shape arithmetic in segment-anything; it is static here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _export(graph, sam, tmp)
    _share_constants(tmp, graph)
    os.replace(tmp, path)
    return path


def _export(graph: _Graph, sam: Sam, tmp: Path) -> None:
    axes = {1: "num_points", **({0: "prompts"} if graph.batched else {})}
    points = {"point_coords": axes, "point_labels": axes}
    if graph.batched:
        points.update({name: {0: "prompts"} for name in graph.outputs})
    # eval(): export restores the wrapper's mode afterwards, and a fresh module is in training
    # mode, which would leave SAM's BatchNorm (TinyViT, vit_t) on batch statistics.
    torch.onnx.export(
        graph.module(sam).cpu().eval(),
        graph.example(sam),
        str(tmp),
        input_names=graph.inputs,
        output_names=graph.outputs,
        dynamic_axes={
            name: axes for name, axes in points.items() if name in graph.inputs + graph.outputs
        },
        opset_version=17,
        do_constant_folding=True,
        dynamo=False,
    )


def _share_constants(path: Path, graph: _Graph) -> None:
    """Rewire equal Constant nodes to one copy (constant folding repeats the 4 MB positional
    encoding once per transformer layer; this keeps the browser's download ~12 MB smaller)."""
    import onnx

    model = onnx.load(str(path))
    first: dict[bytes, str] = {}
    renamed: dict[str, str] = {}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute[0].name == "value":
            key = node.attribute[0].t.SerializeToString()
            renamed[node.output[0]] = first.setdefault(key, node.output[0])
    for node in model.graph.node:
        node.input[:] = [renamed.get(name, name) for name in node.input]
    extracted = onnx.utils.Extractor(model).extract_model(graph.inputs, graph.outputs)
    onnx.save(extracted, str(path))


def make_decoder(
    sam: Sam, onnx_path: Path | None, threads: int, *, device_type: str | None = None
) -> DecoderRunner:
    """ONNX runner on CPU when onnx_path is given and export works, else eager torch.

    Off the CPU (device_type, sam.device.type unless given: tests give "cuda" to take that path
    on a CPU model) the eager decoder runs on sam's device and the page's graphs are exported.
    """
    if onnx_path is None:
        return TorchDecoder(sam)
    if (device_type or sam.device.type) != "cpu":
        export_page_graphs(sam, onnx_path)
        return TorchDecoder(sam)
    try:
        runner: DecoderRunner = OnnxDecoder(export_decoder(sam, onnx_path), threads)
    except Exception:  # noqa: BLE001 - any export/runtime failure falls back to eager
        log.exception("ONNX decoder unavailable; falling back to the PyTorch decoder")
        return TorchDecoder(sam)
    _export_split(sam, onnx_path)
    return runner


def _export_split(sam: Sam, onnx_path: Path) -> None:
    """The page's image + prompt graphs beside the full one; without them it uses the full."""
    try:
        for part in ("image", "prompt"):
            export_decoder(sam, graph_path(onnx_path, part), part)
    except Exception:  # noqa: BLE001 - the full graph still serves every click
        log.exception("split ONNX decoder graphs unavailable")


def export_page_graphs(sam: Sam, onnx_path: Path) -> None:
    """Export the graphs the page's in-page decoder fetches (PAGE_GRAPHS, beside onnx_path) from
    a CPU copy of sam's prompt encoder and mask decoder (decoder_copy.py): sam stays on its
    device. Nothing is copied when they are all cached; on failure the page uses /predict."""
    if all(graph_path(onnx_path, part).is_file() for part in PAGE_GRAPHS):
        return
    try:
        cpu = decoder_copy(sam)
        for part in PAGE_GRAPHS:
            export_decoder(cpu, graph_path(onnx_path, part), part)
    except Exception:  # noqa: BLE001 - the server decodes every click itself
        log.exception("ONNX decoder graphs for the page unavailable")
