"""Accelerator-only speed-ups for SAM, each checked to keep masks equal.

- SDPA: the image encoder's attention through F.scaled_dot_product_attention, with SAM's
  decomposed relative-position terms passed as an additive bias (fused kernels on CUDA).
- Autocast: bf16 (else fp16) for the encoder, kept only if a probe gives the fp32 masks.
"""

from __future__ import annotations

import types

import numpy as np
import torch
from segment_anything.modeling import ImageEncoderViT
from segment_anything.modeling.image_encoder import Attention, get_rel_pos
from torch.nn import functional as F

from app.inference.base import Prompt
from app.inference.sam import SamSegmenter

MASK_AGREEMENT = 0.99  # minimum IoU between fp32 and reduced-precision probe masks


def use_sdpa(encoder: ImageEncoderViT) -> None:
    """Route every encoder attention block through scaled_dot_product_attention (in place)."""
    for block in encoder.blocks:
        block.attn.forward = types.MethodType(_sdpa_forward, block.attn)


def _sdpa_forward(self: Attention, x: torch.Tensor) -> torch.Tensor:
    """Attention.forward of segment-anything, same maths, softmax(QK^T*scale + bias)V fused."""
    batch, height, width, _ = x.shape
    qkv = self.qkv(x).reshape(batch, height * width, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.reshape(3, batch * self.num_heads, height * width, -1).unbind(0)
    bias = None
    if self.use_rel_pos:
        r_q = q.reshape(batch * self.num_heads, height, width, -1)
        rel_h = torch.einsum("bhwc,hkc->bhwk", r_q, get_rel_pos(height, height, self.rel_pos_h))
        rel_w = torch.einsum("bhwc,wkc->bhwk", r_q, get_rel_pos(width, width, self.rel_pos_w))
        bias = (rel_h[:, :, :, :, None] + rel_w[:, :, :, None, :]).reshape(
            batch * self.num_heads, height * width, height * width
        )
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=self.scale)
    out = out.view(batch, self.num_heads, height, width, -1).permute(0, 2, 3, 1, 4)
    return self.proj(out.reshape(batch, height, width, -1))


def safe_autocast(segmenter: SamSegmenter) -> torch.dtype | None:
    """bf16 (else fp16) encoder autocast only if it gives the fp32 masks on a probe image."""
    probe = (np.random.default_rng(0).random((480, 640, 3)) * 255).astype(np.uint8)
    prompts = [
        Prompt(points=np.array([[x, y]], np.float32), point_labels=np.array([1], np.int32))
        for x, y in ((160, 120), (320, 240), (500, 400))
    ]
    segmenter.autocast_dtype = None
    reference = _probe_masks(segmenter, probe, prompts)
    for dtype in (torch.bfloat16, torch.float16):
        segmenter.autocast_dtype = dtype
        candidate = _probe_masks(segmenter, probe, prompts)
        if all(_iou(a, b) >= MASK_AGREEMENT for a, b in zip(reference, candidate, strict=True)):
            return dtype
    segmenter.autocast_dtype = None
    return None


def _probe_masks(
    segmenter: SamSegmenter, image: np.ndarray, prompts: list[Prompt]
) -> list[np.ndarray]:
    state = segmenter.prepare([image])[0]
    return [segmenter.predict(state, p)[0].mask for p in prompts]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)
