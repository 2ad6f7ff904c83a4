"""Cheaper, algebraically equal cross-attention for SAM's mask decoder (used for ONNX export).

In the decoder's cross-attention one side has ~4096 image tokens and the other ~7 prompt
tokens. segment-anything projects the image side (4096x256 @ 256x128) for every click; here
the projection weights are folded into the small side instead:

- tokens -> image: softmax(Q_h (X W_k,h^T + b_k,h)^T) X W_v,h^T + b_v,h
  = softmax((Q_h W_k,h) X^T) (A_h X) W_v,h^T + b_v,h   (Q_h b_k,h is constant per row,
  so it drops out of the softmax; rows of A sum to 1, so b_v passes through).
- image -> tokens: logits X (W_q,h^T K_h^T) + b_q,h K_h^T, and the output projection folded
  into the values, U_h = V_h W_o,h^T, so the 4096-row products are 56 wide instead of 128.

Same maths, about 40% fewer multiply-adds per click; agreement is checked against
SamPredictor in tests.
"""

from __future__ import annotations

import copy
import math
import types

import torch
from segment_anything.modeling.mask_decoder import MaskDecoder
from segment_anything.modeling.transformer import Attention


def folded_decoder(decoder: MaskDecoder) -> MaskDecoder:
    """A copy of decoder whose cross-attention layers use the folded forms (weights shared)."""
    fast = copy.copy(decoder)
    fast.transformer = copy.deepcopy(decoder.transformer)
    for layer in fast.transformer.layers:
        layer.cross_attn_token_to_image.forward = types.MethodType(
            _tokens_to_image, layer.cross_attn_token_to_image
        )
        layer.cross_attn_image_to_token.forward = types.MethodType(
            _image_to_tokens, layer.cross_attn_image_to_token
        )
    final = fast.transformer.final_attn_token_to_image
    final.forward = types.MethodType(_tokens_to_image, final)
    return fast


def _tokens_to_image(
    self: Attention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """q: BxNxC prompt tokens; k, v: BxLxC image tokens -> BxNxC."""
    batch, n_tokens, _ = q.shape
    heads, per_head = self.num_heads, self.internal_dim // self.num_heads
    q_heads = self.q_proj(q).reshape(batch, n_tokens, heads, per_head).transpose(1, 2)
    w_k = self.k_proj.weight.reshape(heads, per_head, -1)
    query_in_image_space = (q_heads @ w_k) / math.sqrt(per_head)  # B x h x N x C
    # All heads' queries as the rows of one matrix: each product with the 4096 image rows is
    # then one GEMM that reads (and packs) k and v once, not once per head.
    query_rows = query_in_image_space.reshape(batch, heads * n_tokens, -1)  # B x hN x C
    attn = torch.softmax(query_rows @ k.transpose(1, 2), dim=-1)  # B x hN x L
    pooled = (attn @ v).reshape(batch, heads, n_tokens, -1)  # B x h x N x C
    w_v = self.v_proj.weight.reshape(heads, per_head, -1)
    out = pooled @ w_v.transpose(1, 2) + self.v_proj.bias.reshape(heads, 1, per_head)
    return self.out_proj(out.transpose(1, 2).reshape(batch, n_tokens, self.internal_dim))


def _image_to_tokens(
    self: Attention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """q: BxLxC image tokens; k, v: BxNxC prompt tokens -> BxLxC."""
    batch, n_tokens, _ = k.shape
    heads, per_head = self.num_heads, self.internal_dim // self.num_heads
    k_heads = self.k_proj(k).reshape(batch, n_tokens, heads, per_head).transpose(1, 2)
    scale = math.sqrt(per_head)
    keys_in_image_space = (k_heads @ self.q_proj.weight.reshape(heads, per_head, -1)) / scale
    key_bias = (k_heads @ self.q_proj.bias.reshape(heads, per_head, 1)) / scale  # B x h x N x 1
    m = keys_in_image_space.reshape(batch, heads * n_tokens, -1)  # B x hN x C
    logits = q @ m.transpose(1, 2) + key_bias.reshape(batch, 1, heads * n_tokens)
    attn = torch.softmax(logits.reshape(batch, -1, heads, n_tokens), dim=-1)
    return image_update(self, attn.reshape(batch, -1, heads * n_tokens), v)


def image_update(attention: Attention, attn: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The image->tokens output from its softmax weights, out_proj folded into the values.

    attn: B x L x hN weights, head-major columns (head h, token n) at h * N + n;
    v: B x N x C tokens (before v_proj) -> B x L x C.
    """
    batch, n_tokens, _ = v.shape
    heads = attention.num_heads
    per_head = attention.internal_dim // heads
    v_heads = attention.v_proj(v).reshape(batch, n_tokens, heads, per_head).transpose(1, 2)
    w_o = attention.out_proj.weight.reshape(-1, heads, per_head).permute(1, 2, 0)  # h x c x C
    values = (v_heads @ w_o).reshape(batch, heads * n_tokens, -1)  # B x hN x C
    return attn @ values + attention.out_proj.bias
