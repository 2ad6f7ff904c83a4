"""SAM's decoder split at the image: the work that never sees a prompt runs once per image.

Without a mask input the dense prompt embedding is the constant no_mask_embed, so the image
tokens entering the two-way transformer, src = embedding + no_mask_embed, and their positional
encoding pe are per-image constants. Layer 0 projects them three ways before any prompt is
involved: the tokens->image keys k_proj(src + pe) and values v_proj(src), and the image->tokens
queries q_proj(src + pe) (4096 x 128 each). ImageStage computes those once per image;
PromptStage takes them with the points and runs the rest, so layer 0's two cross-attentions
cost products with the few prompt tokens instead of two 4096 x 256 x 128 projections each.

Same maths as LowResDecoder with has_mask_input = 0 (refinement clicks with a mask input keep
LowResDecoder). Tensors between the stages are head-split: B x heads x 4096 x (128 / heads).
"""

from __future__ import annotations

import math

import torch
from segment_anything.modeling import Sam
from segment_anything.modeling.transformer import Attention, TwoWayAttentionBlock
from segment_anything.utils.onnx import SamOnnxModel

from app.inference.fast_attention import folded_decoder, image_update
from app.inference.fast_upscaling import channels_last_decoder, masks_and_scores, prompt_tokens

IMAGE_OUTPUTS = ["layer0_keys", "layer0_values", "layer0_queries"]


class _Stage(torch.nn.Module):
    """What both stages share: the image tokens' constants and the first transformer layer."""

    pe_rows: torch.Tensor  # 1 x HW x C dense positional encoding, row-major (i, j)
    no_mask: torch.Tensor  # 1 x 1 x C: the dense prompt embedding without a mask input

    def __init__(self, sam: Sam) -> None:
        super().__init__()
        self.first = sam.mask_decoder.transformer.layers[0]
        with torch.no_grad():
            pe = sam.prompt_encoder.get_dense_pe()
            no_mask = sam.prompt_encoder.no_mask_embed.weight.reshape(1, 1, -1).clone()
        self.register_buffer("pe_rows", _rows(pe), persistent=False)
        self.register_buffer("no_mask", no_mask, persistent=False)

    def src_rows(self, image_embeddings: torch.Tensor) -> torch.Tensor:
        """1 x C x H x W embedding -> 1 x HW x C image tokens with the no-mask embedding."""
        return _rows(image_embeddings) + self.no_mask


class ImageStage(_Stage):
    """image_embeddings 1 x 256 x 64 x 64 -> layer 0's image projections (IMAGE_OUTPUTS)."""

    @torch.no_grad()
    def forward(self, image_embeddings: torch.Tensor) -> tuple[torch.Tensor, ...]:
        src = self.src_rows(image_embeddings)
        keyed = src + self.pe_rows
        to_image, to_tokens = (
            self.first.cross_attn_token_to_image,
            self.first.cross_attn_image_to_token,
        )
        return (
            _heads(to_image.k_proj(keyed), to_image),
            _heads(to_image.v_proj(src), to_image),
            _heads(to_tokens.q_proj(keyed), to_tokens),
        )


class PromptStage(_Stage):
    """ImageStage's outputs + the embedding + points -> LowResDecoder's outputs (no mask input).

    Inputs: image_embeddings 1 x 256 x 64 x 64, the three IMAGE_OUTPUTS, point_coords 1 x N x 2
    and point_labels 1 x N as in decoder.py. Outputs: 4 x 256 x 256 logits, 4 IoU predictions.
    """

    tokens = slice(None)  # the mask tokens it returns

    def __init__(self, sam: Sam) -> None:
        super().__init__(sam)
        self.onnx_model = SamOnnxModel(sam, return_single_mask=False)
        self.decoder = channels_last_decoder(folded_decoder(sam.mask_decoder))

    @torch.no_grad()
    def forward(
        self,
        image_embeddings: torch.Tensor,
        layer0_keys: torch.Tensor,
        layer0_values: torch.Tensor,
        layer0_queries: torch.Tensor,
        point_coords: torch.Tensor,
        point_labels: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = prompt_tokens(
            self.decoder, self.onnx_model._embed_points(point_coords, point_labels)
        )
        image = (self.src_rows(image_embeddings), layer0_keys, layer0_values, layer0_queries)
        queries, keys = _first_layer(self.first, tokens, *image)
        transformer = self.decoder.transformer
        for layer in transformer.layers[1:]:
            queries, keys = layer(queries=queries, keys=keys, query_pe=tokens, key_pe=self.pe_rows)
        final = transformer.final_attn_token_to_image
        attended = final(q=queries + tokens, k=keys + self.pe_rows, v=keys)
        hs = transformer.norm_final_attn(queries + attended)
        masks, scores = masks_and_scores(
            self.decoder, hs, keys, image_embeddings.shape[-2:], self.tokens
        )
        return self._outputs(masks, scores)

    def _outputs(
        self, masks: torch.Tensor, scores: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return masks[0], scores[0]


class BatchPromptStage(PromptStage):
    """PromptStage for B prompts on one image at once (automatic masks): point_coords B x N x 2,
    point_labels B x N -> B x 3 x 256 x 256 logits, B x 3 IoU predictions of the multimask
    tokens 1-3 only (automatic masks never use token 0; its upscaling product and unshuffle
    were a quarter of the last two steps). The image tensors stay batch 1 and broadcast;
    each prompt still gets its own two-way transformer pass."""

    tokens = slice(1, None)

    def _outputs(
        self, masks: torch.Tensor, scores: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return masks, scores


def _first_layer(
    layer: TwoWayAttentionBlock,
    tokens: torch.Tensor,
    src: torch.Tensor,
    image_keys: torch.Tensor,
    image_values: torch.Tensor,
    image_queries: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """TwoWayAttentionBlock.forward for layer 0 (no PE on its self-attention) on projected
    image tokens. tokens: B x N x C; src: B x L x C; image_*: B x h x L x c -> (queries, keys)."""
    queries = layer.norm1(layer.self_attn(q=tokens, k=tokens, v=tokens))
    attended = _tokens_to_image(
        layer.cross_attn_token_to_image, queries + tokens, image_keys, image_values
    )
    queries = layer.norm2(queries + attended)
    queries = layer.norm3(queries + layer.mlp(queries))
    update = _image_to_tokens(
        layer.cross_attn_image_to_token, image_queries, queries + tokens, queries
    )
    return queries, layer.norm4(src + update)


def _tokens_to_image(
    attention: Attention, q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor
) -> torch.Tensor:
    """q: B x N x C tokens; keys, values: B x h x L x c projected image tokens -> B x N x C."""
    q_heads = _heads(attention.q_proj(q), attention)  # B x h x N x c
    attn = torch.softmax(q_heads @ keys.transpose(2, 3) / math.sqrt(q_heads.shape[-1]), dim=-1)
    pooled = (attn @ values).transpose(1, 2)  # B x N x h x c
    return attention.out_proj(pooled.reshape(q.shape[0], q.shape[1], attention.internal_dim))


def _image_to_tokens(
    attention: Attention, queries: torch.Tensor, k: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """queries: B x h x L x c projected image tokens; k, v: B x N x C tokens -> B x L x C."""
    k_heads = _heads(attention.k_proj(k), attention)  # B x h x N x c
    attn = torch.softmax(queries @ k_heads.transpose(2, 3) / math.sqrt(k_heads.shape[-1]), dim=-1)
    batch, heads, length, n_tokens = attn.shape
    head_major = attn.permute(0, 2, 1, 3).reshape(batch, length, heads * n_tokens)
    return image_update(attention, head_major, v)


def _heads(x: torch.Tensor, attention: Attention) -> torch.Tensor:
    """B x L x (h c) -> B x h x L x c, as segment-anything's Attention separates heads."""
    batch, length, _ = x.shape
    return x.reshape(batch, length, attention.num_heads, -1).transpose(1, 2)


def _rows(grid: torch.Tensor) -> torch.Tensor:
    """B x C x H x W -> B x HW x C, row-major (i, j)."""
    return grid.flatten(2).transpose(1, 2)
