"""A CPU copy of SAM's per-click half, for exporting the decoder graphs of a model on a GPU.

Exporting needs the modules on the CPU, and moving the live model there (`.cpu()` on a graph
module moves every module it holds, SAM's image encoder included) would take it off its device
under the server. The copy holds only what the graphs read: the prompt encoder, the mask
decoder (~4M parameters for every SAM size) and the image encoder's input size.
"""

from __future__ import annotations

import copy

import torch
from segment_anything.modeling import Sam


class _InputSize(torch.nn.Module):
    """Stands in for the image encoder: the graphs read its img_size only, no weights."""

    def __init__(self, img_size: int) -> None:
        super().__init__()
        self.img_size = img_size


def decoder_copy(sam: Sam) -> Sam:
    """A Sam on the CPU, in eval mode, with copies of sam's prompt encoder and mask decoder
    (same dtypes and values) and a weightless image encoder; sam itself is left untouched.

    Each tensor is copied straight to host memory: no second copy on sam's device.
    """
    parts = (sam.prompt_encoder, sam.mask_decoder)
    memo: dict[int, object] = {}
    for part in parts:
        for param in part.parameters():
            memo[id(param)] = torch.nn.Parameter(_host(param), param.requires_grad)
        for buffer in part.buffers():
            memo[id(buffer)] = _host(buffer)
    prompt_encoder, mask_decoder = copy.deepcopy(parts, memo)
    return Sam(
        image_encoder=_InputSize(sam.image_encoder.img_size),  # type: ignore[arg-type]
        prompt_encoder=prompt_encoder,
        mask_decoder=mask_decoder,
        pixel_mean=sam.pixel_mean.flatten().tolist(),
        pixel_std=sam.pixel_std.flatten().tolist(),
    ).eval()


def _host(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.detach().to("cpu", copy=True)
