"""The per-click half of SAM (prompt encoder + mask decoder), run by onnxruntime or torch.

Both runners take model-frame inputs (ONNX-demo convention of segment-anything) and return
all four mask tokens at low resolution; choosing tokens and upscaling is the caller's job,
so only the masks actually returned are ever upscaled.

Inputs: features 1x256x64x64 float32; coords 1xNx2 float32 (X, Y) in the 1024 model frame,
box corners appended with labels 2/3, or a padding point (label -1) when there is no box;
labels 1xN float32; mask_input 1x1x256x256 float32; has_mask 1 float32 (0 or 1).
Outputs: low_res 4x256x256 float32 logits and scores 4 float32 (token 0 = single mask).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from segment_anything.modeling import Sam
from segment_anything.utils.onnx import SamOnnxModel

from app.inference.decoder_copy import decoder_copy
from app.inference.decoder_files import PAGE_GRAPHS, graph_path
from app.inference.fast_attention import folded_decoder
from app.inference.fast_upscaling import channels_last_decoder
from app.inference.split_decoder import IMAGE_OUTPUTS, BatchPromptStage, ImageStage, PromptStage

log = logging.getLogger(__name__)

DECODER_INPUTS = [
    "image_embeddings",
    "point_coords",
    "point_labels",
    "mask_input",
    "has_mask_input",
]
DECODER_OUTPUTS = ["low_res_masks", "iou_predictions"]


class DecoderRunner(Protocol):
    name: str

    def __call__(
        self,
        features: np.ndarray,
        coords: np.ndarray,
        labels: np.ndarray,
        mask_input: np.ndarray,
        has_mask: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]: ...


class LowResDecoder(torch.nn.Module):
    """SamOnnxModel's traceable prompt embedding + SAM's mask decoder, without upscaling.

    folded: use the algebraically equal, cheaper cross-attention (fast_attention.py) and
    matrix-product upscaling (fast_upscaling.py), same maths in fewer, faster kernels.
    The dense positional encoding is a constant (it was sin/cos over 1M values per click).
    """

    def __init__(self, sam: Sam, *, folded: bool = False) -> None:
        super().__init__()
        self.onnx_model = SamOnnxModel(sam, return_single_mask=False)
        self.sam = sam
        decoder = sam.mask_decoder
        self.mask_decoder = channels_last_decoder(folded_decoder(decoder)) if folded else decoder
        with torch.no_grad():
            dense_pe = sam.prompt_encoder.get_dense_pe()
        self.register_buffer("dense_pe", dense_pe, persistent=False)

    @torch.no_grad()
    def forward(
        self,
        image_embeddings: torch.Tensor,
        point_coords: torch.Tensor,
        point_labels: torch.Tensor,
        mask_input: torch.Tensor,
        has_mask_input: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        sparse = self.onnx_model._embed_points(point_coords, point_labels)
        dense = self.onnx_model._embed_masks(mask_input, has_mask_input)
        masks, scores = self.mask_decoder.predict_masks(
            image_embeddings=image_embeddings,
            image_pe=self.dense_pe,
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
        )
        return masks[0], scores[0]


class TorchDecoder:
    """Eager PyTorch runner (any device); the reference the ONNX runner is checked against."""

    name = "torch"

    def __init__(self, sam: Sam) -> None:
        self.module = LowResDecoder(sam)
        self.device = sam.device

    def __call__(self, features, coords, labels, mask_input, has_mask):  # type: ignore[no-untyped-def]
        args = [
            torch.from_numpy(a).to(self.device)
            for a in (features, coords, labels, mask_input, has_mask)
        ]
        with torch.inference_mode():
            masks, scores = self.module(*args)
        return masks.float().cpu().numpy(), scores.float().cpu().numpy()


class OnnxDecoder:
    """onnxruntime (CPU) runner over the exported LowResDecoder graph."""

    name = "onnx"

    def __init__(self, onnx_path: Path, threads: int) -> None:
        self.session = onnx_session(onnx_path, threads)

    def __call__(self, features, coords, labels, mask_input, has_mask):  # type: ignore[no-untyped-def]
        feed = dict(
            zip(DECODER_INPUTS, (features, coords, labels, mask_input, has_mask), strict=True)
        )
        masks, scores = self.session.run(DECODER_OUTPUTS, feed)
        return masks, scores


def onnx_session(onnx_path: Path, threads: int) -> Any:
    """An onnxruntime CPU session over one exported graph, all optimisations on."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


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
