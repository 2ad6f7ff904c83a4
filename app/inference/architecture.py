"""SAM architectures: the official presets (ViT vit_b/l/h, MobileSAM's TinyViT vit_t), inference
from a state dict's tensor shapes, building a `segment_anything` model and loading a checkpoint
into it safely. Only the image encoder differs; prompt encoder and mask decoder are SAM's own.

Checkpoints are read with ``torch.load(weights_only=True)``: a file that needs to run code to
load is refused, never executed. A state dict that does not fit is refused naming the tensors.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import torch
from segment_anything.modeling import (
    ImageEncoderViT,
    MaskDecoder,
    PromptEncoder,
    Sam,
    TwoWayTransformer,
)

from app.inference.base import ModelUnavailable
from app.inference.tiny_vit import TinyVitArchitecture

StateDict = dict[str, torch.Tensor]
_ENC = "image_encoder."
_TINY_VIT_KEY = f"{_ENC}layers.0.blocks.0.conv1.c.weight"


class CheckpointRejected(ModelUnavailable):
    """The checkpoint file is unsafe, unreadable, or does not fit the architecture."""


@dataclass(frozen=True)
class SamArchitecture:
    """Image-encoder hyper-parameters; prompt encoder and mask decoder are SAM's own."""

    name: str
    embed_dim: int
    depth: int
    num_heads: int
    global_attn_indexes: tuple[int, ...]
    img_size: int = 1024
    patch_size: int = 16
    window_size: int = 14
    mlp_ratio: float = 4.0
    prompt_embed_dim: int = 256

    @property
    def embedding_size(self) -> int:
        """Side of the square feature map the encoder returns."""
        return self.img_size // self.patch_size

    def build_encoder(self) -> ImageEncoderViT:
        return ImageEncoderViT(
            img_size=self.img_size,
            patch_size=self.patch_size,
            embed_dim=self.embed_dim,
            depth=self.depth,
            num_heads=self.num_heads,
            mlp_ratio=self.mlp_ratio,
            out_chans=self.prompt_embed_dim,
            qkv_bias=True,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            use_rel_pos=True,
            window_size=self.window_size,
            global_attn_indexes=self.global_attn_indexes,
        )


Architecture = SamArchitecture | TinyVitArchitecture

PRESETS: dict[str, Architecture] = {
    "vit_b": SamArchitecture("vit_b", 768, 12, 12, (2, 5, 8, 11)),
    "vit_l": SamArchitecture("vit_l", 1024, 24, 16, (5, 11, 17, 23)),
    "vit_h": SamArchitecture("vit_h", 1280, 32, 16, (7, 15, 23, 31)),
    "vit_t": TinyVitArchitecture("vit_t"),  # MobileSAM
}


def build_sam(arch: Architecture) -> Sam:
    """An untrained `Sam` of the given architecture, in eval mode (as segment-anything builds it)."""
    grid = arch.embedding_size
    encoder = arch.build_encoder()
    prompt_encoder = PromptEncoder(
        embed_dim=arch.prompt_embed_dim,
        image_embedding_size=(grid, grid),
        input_image_size=(arch.img_size, arch.img_size),
        mask_in_chans=16,
    )
    decoder = MaskDecoder(
        num_multimask_outputs=3,
        transformer=TwoWayTransformer(
            depth=2, embedding_dim=arch.prompt_embed_dim, mlp_dim=2048, num_heads=8
        ),
        transformer_dim=arch.prompt_embed_dim,
        iou_head_depth=3,
        iou_head_hidden_dim=256,
    )
    sam = Sam(
        image_encoder=encoder,
        prompt_encoder=prompt_encoder,
        mask_decoder=decoder,
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
    return sam.eval()


def read_state_dict(path: Path) -> StateDict:
    """Tensors of a checkpoint file, read without executing any code from it."""
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointRejected(
            f"refused to load {path}: it is not a plain weights file (loading it would run "
            f"code it carries, which lassolabel never does). Details: {str(exc)[:300]}"
        ) from None
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a damaged file
        raise CheckpointRejected(
            f"could not read {path} as a PyTorch checkpoint ({type(exc).__name__}: {exc})"
        ) from None
    return _unwrap(loaded, path)


def infer_architecture(state: StateDict, forced: str | None = None) -> Architecture:
    """The architecture a SAM state dict was trained with, read from tensor shapes.

    forced ("vit_b" | "vit_l" | "vit_h" | "vit_t") skips inference (LASSOLABEL_SAM_MODEL_TYPE).
    """
    if forced is not None:
        return PRESETS[forced]
    try:
        inferred = (
            _shapes_to_tiny_vit(state) if _TINY_VIT_KEY in state else _shapes_to_architecture(state)
        )
    except (KeyError, IndexError, ZeroDivisionError) as exc:
        raise CheckpointRejected(
            f"not a SAM checkpoint: missing or odd tensor {exc}; set LASSOLABEL_SAM_MODEL_TYPE "
            "to force an architecture"
        ) from None
    for preset in PRESETS.values():
        if preset == replace(inferred, name=preset.name):
            return preset
    return inferred


def load_sam(state: StateDict, arch: Architecture) -> Sam:
    """A `Sam` with exactly the given weights; CheckpointRejected names what does not fit."""
    sam = build_sam(arch)
    problems = _mismatches(sam.state_dict(), state)
    if problems:
        shown = "; ".join(problems[:8]) + (
            f"; and {len(problems) - 8} more" if len(problems) > 8 else ""
        )
        raise CheckpointRejected(
            f"checkpoint does not fit SAM {arch.name} ({len(problems)} tensors): {shown}"
        )
    sam.load_state_dict(state, strict=True)
    return sam.eval()


def _unwrap(loaded: object, path: Path) -> StateDict:
    """Accept a bare state dict or one nested under 'model' / 'state_dict' (fine-tunes)."""
    for key in ("model", "state_dict"):
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
    if not isinstance(loaded, dict) or not all(
        isinstance(v, torch.Tensor) for v in loaded.values()
    ):
        raise CheckpointRejected(f"{path} does not hold a state dict of tensors")
    return {k.removeprefix("module."): v for k, v in loaded.items()}


def _shapes_to_architecture(state: StateDict) -> SamArchitecture:
    patch = state[f"{_ENC}patch_embed.proj.weight"]
    embed_dim, patch_size = int(patch.shape[0]), int(patch.shape[-1])
    grid = int(state[f"{_ENC}pos_embed"].shape[1])
    blocks = sorted({int(k.split(".")[2]) for k in state if k.startswith(f"{_ENC}blocks.")})
    rel_rows = [int(state[f"{_ENC}blocks.{i}.attn.rel_pos_h"].shape[0]) for i in blocks]
    head_dim = int(state[f"{_ENC}blocks.0.attn.rel_pos_h"].shape[1])
    windowed = [rows for rows in rel_rows if rows != 2 * grid - 1]
    mlp_dim = int(state[f"{_ENC}blocks.0.mlp.lin1.weight"].shape[0])
    return SamArchitecture(
        name=f"custom_e{embed_dim}_d{len(blocks)}",
        embed_dim=embed_dim,
        depth=len(blocks),
        num_heads=embed_dim // head_dim,
        global_attn_indexes=tuple(
            i for i, rows in zip(blocks, rel_rows, strict=True) if rows == 2 * grid - 1
        ),
        img_size=grid * patch_size,
        patch_size=patch_size,
        window_size=(windowed[0] + 1) // 2 if windowed else 0,
        mlp_ratio=mlp_dim / embed_dim,
        prompt_embed_dim=int(state[f"{_ENC}neck.0.weight"].shape[0]),
    )


def _shapes_to_tiny_vit(state: StateDict) -> TinyVitArchitecture:
    stages = sorted({int(k.split(".")[2]) for k in state if k.startswith(f"{_ENC}layers.")})
    dims: list[int] = []
    depths: list[int] = []
    heads: list[int] = []
    windows: list[int] = []
    for i in stages:
        prefix = f"{_ENC}layers.{i}.blocks."
        depths.append(len({k[len(prefix) :].split(".")[0] for k in state if k.startswith(prefix)}))
        if i == 0:  # the convolutional stage
            dims.append(int(state[_TINY_VIT_KEY].shape[1]))
            continue
        biases = state[f"{prefix}0.attn.attention_biases"]
        dims.append(int(state[f"{prefix}0.attn.norm.weight"].shape[0]))
        heads.append(int(biases.shape[0]))
        windows.append(round(int(biases.shape[1]) ** 0.5))
    first_conv = state[_TINY_VIT_KEY]
    return TinyVitArchitecture(
        name=f"custom_tinyvit_{'_'.join(map(str, dims))}",
        embed_dims=tuple(dims),
        depths=tuple(depths),
        num_heads=tuple(heads),
        window_sizes=tuple(windows),
        mlp_ratio=state[f"{_ENC}layers.1.blocks.0.mlp.fc1.weight"].shape[0] / dims[1],
        mbconv_expand_ratio=first_conv.shape[0] / first_conv.shape[1],
        prompt_embed_dim=int(state[f"{_ENC}neck.0.weight"].shape[0]),
        num_classes=int(state[f"{_ENC}head.weight"].shape[0]),
    )


def _mismatches(expected: StateDict, given: StateDict) -> list[str]:
    missing = [f"missing {k}" for k in expected if k not in given]
    unexpected = [f"unexpected {k}" for k in given if k not in expected]
    wrong = [
        f"{k} has shape {tuple(given[k].shape)}, expected {tuple(v.shape)}"
        for k, v in expected.items()
        if k in given and given[k].shape != v.shape
    ]
    return wrong + missing + unexpected
