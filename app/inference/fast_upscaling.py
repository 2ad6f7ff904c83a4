"""SAM's mask upscaling as plain matrix products, channels last (used for ONNX export).

segment-anything upscales the 64x64 decoder output with two 2x2 stride-2 transposed
convolutions (NCHW, LayerNorm2d and GELU between) and then takes each mask token's dot product
with every pixel. A 2x2 stride-2 transposed convolution is a matrix product whose four outputs
per input pixel are the four sub-pixels, so the whole upscaling runs on 4096 x C token rows:

    rows (i, j) @ W1 -> (i, j, di, dj) x C/4 -> LayerNorm, GELU -> @ W2 -> (i, j, di, dj, ei, ej)
    x C/8 -> GELU -> @ mask tokens -> one transpose of the 4-token result to 4 x 256 x 256,
    where output row = 4i + 2di + ei and column = 4j + 2dj + ej.

Same maths; no NCHW transposes of the megapixel-sized intermediates, no col2im, and LayerNorm2d
becomes one fused LayerNormalization. onnxruntime-web (wasm) runs transposed convolutions and
the decomposed LayerNorm2d several times slower than native code; GEMMs it runs well.
"""

from __future__ import annotations

import copy
import types

import torch
import torch.nn.functional as F
from segment_anything.modeling.mask_decoder import MaskDecoder


def channels_last_decoder(decoder: MaskDecoder) -> MaskDecoder:
    """A copy of decoder whose predict_masks upscales channels last (weights shared)."""
    fast = copy.copy(decoder)
    fast.predict_masks = types.MethodType(_predict_masks, fast)  # type: ignore[method-assign]
    return fast


def _predict_masks(
    self: MaskDecoder,
    image_embeddings: torch.Tensor,
    image_pe: torch.Tensor,
    sparse_prompt_embeddings: torch.Tensor,
    dense_prompt_embeddings: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MaskDecoder.predict_masks for one image (batch 1) -> (B x T x 4H x 4W, B x T)."""
    tokens = prompt_tokens(self, sparse_prompt_embeddings)
    src = image_embeddings + dense_prompt_embeddings
    hs, rows = self.transformer(src, image_pe, tokens)  # rows: B x HW x C, row-major (i, j)
    return masks_and_scores(self, hs, rows, src.shape[-2:])


def prompt_tokens(decoder: MaskDecoder, sparse_prompt_embeddings: torch.Tensor) -> torch.Tensor:
    """B x N x C prompt embeddings -> B x (1 + T + N) x C: IoU token, mask tokens, prompts."""
    output_tokens = torch.cat([decoder.iou_token.weight, decoder.mask_tokens.weight], dim=0)
    output_tokens = output_tokens.unsqueeze(0).expand(sparse_prompt_embeddings.size(0), -1, -1)
    return torch.cat((output_tokens, sparse_prompt_embeddings), dim=1)


def masks_and_scores(
    decoder: MaskDecoder,
    hs: torch.Tensor,
    rows: torch.Tensor,
    grid: tuple[int, int] | torch.Size,
    tokens: slice = slice(None),
) -> tuple[torch.Tensor, torch.Tensor]:
    """The two-way transformer's outputs -> (B x T x 4H x 4W logits, B x T IoU predictions).

    hs: B x (1 + 4 + N) x C tokens; rows: B x HW x C image tokens, row-major (i, j) over
    grid = (H, W); tokens: which of the 4 mask tokens (T of them) to return.
    """
    mlps = list(enumerate(decoder.output_hypernetworks_mlps))[tokens]
    hyper_in = torch.stack([mlp(hs[:, 1 + i, :]) for i, mlp in mlps], dim=1)  # B x T x C/8
    pixels = _upscale_rows(decoder, rows)  # B x (HW * 16) x C/8
    masks = pixels @ hyper_in.transpose(1, 2)  # B x (HW * 16) x T
    height, width = grid
    scores = decoder.iou_prediction_head(hs[:, 0, :])[:, tokens]
    return _unshuffle(masks, height, width), scores


def _upscale_rows(self: MaskDecoder, rows: torch.Tensor) -> torch.Tensor:
    """B x N x C rows -> B x 16N x C/8: output_upscaling, sub-pixels of a row kept adjacent."""
    up1, norm, _, up2, _ = self.output_upscaling
    x = _transposed_conv_2x2(up1, rows)
    x = F.layer_norm(x, tuple(norm.weight.shape), norm.weight, norm.bias, norm.eps)
    return F.gelu(_transposed_conv_2x2(up2, F.gelu(x)))


def _transposed_conv_2x2(conv: torch.nn.ConvTranspose2d, rows: torch.Tensor) -> torch.Tensor:
    """B x N x Cin -> B x 4N x Cout; output row 4n + 2di + dj is sub-pixel (di, dj) of row n.
    One 2-D product with the bias added before the reshape: onnxruntime fuses that into a
    Gemm (a 3-D MatMul keeps the bias as a separate pass over the megapixel output)."""
    c_in, c_out = conv.weight.shape[:2]
    weight = conv.weight.permute(0, 2, 3, 1).reshape(c_in, 4 * c_out)  # (di, dj, o) columns
    assert conv.bias is not None  # segment-anything's upscaling convolutions have biases
    flat = rows.reshape(-1, c_in) @ weight + conv.bias.repeat(4)
    return flat.reshape(rows.shape[0], -1, c_out)


def _unshuffle(masks: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """B x (H W 2 2 2 2) x T rows in (i, j, di, dj, ei, ej) order -> B x T x 4H x 4W."""
    batch, _, n_tokens = masks.shape
    grid = masks.reshape(batch, height, width, 2, 2, 2, 2, n_tokens)
    # (b, t, i, di, ei, j, dj, ej): row 4i + 2di + ei, column 4j + 2dj + ej.
    grid = grid.permute(0, 7, 1, 3, 5, 2, 4, 6)
    return grid.reshape(batch, n_tokens, 4 * height, 4 * width)
