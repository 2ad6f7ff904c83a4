"""MobileSAM's image encoder (SAM `vit_t`): TinyViT at 1024 px with SAM's 256-channel neck.

Derived from MobileSAM's `mobile_sam/modeling/tiny_vit_sam.py` (Copyright (c) 2022 Microsoft,
TinyViT, adapted from LeViT and Swin Transformer; adapted for SAM by the MobileSAM authors),
licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
Changes: inference only (no drop path, gradient checkpointing or layer-wise learning-rate
decay), the attention-bias index written in closed form, the hyper-parameters in one frozen
dataclass. Module and parameter names are the original's, so the official checkpoint loads
strictly. timm's TinyViT is the 224 px classification network and does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from segment_anything.modeling.common import LayerNorm2d
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class TinyVitArchitecture:
    """TinyViT encoder hyper-parameters. embed_dims and depths have one entry per stage;
    num_heads and window_sizes one per attention stage (all but the convolutional first).
    img_size is not in the weights: MobileSAM is trained at 1024 px."""

    name: str
    embed_dims: tuple[int, ...] = (64, 128, 160, 320)
    depths: tuple[int, ...] = (2, 2, 6, 2)
    num_heads: tuple[int, ...] = (4, 5, 10)
    window_sizes: tuple[int, ...] = (7, 14, 7)
    img_size: int = 1024
    mlp_ratio: float = 4.0
    mbconv_expand_ratio: float = 4.0
    prompt_embed_dim: int = 256
    num_classes: int = 1000  # the checkpoint carries TinyViT's unused classification head

    @property
    def embedding_size(self) -> int:
        """Side of the square feature map the encoder returns (img_size / 16)."""
        return self.img_size // 16

    def build_encoder(self) -> TinyViT:
        return TinyViT(self)


class Conv2dBN(nn.Sequential):
    """Convolution without bias followed by batch norm (named `c`, `bn` as in the original)."""

    def __init__(
        self, a: int, b: int, ks: int = 1, stride: int = 1, pad: int = 0, groups: int = 1
    ) -> None:
        super().__init__()
        self.add_module("c", nn.Conv2d(a, b, ks, stride, pad, groups=groups, bias=False))
        self.add_module("bn", nn.BatchNorm2d(b))


class PatchEmbed(nn.Module):
    """Bx3xHxW -> BxCx(H/4)x(W/4): two stride-2 3x3 convolutions."""

    def __init__(self, in_chans: int, embed_dim: int) -> None:
        super().__init__()
        self.seq = nn.Sequential(
            Conv2dBN(in_chans, embed_dim // 2, 3, 2, 1),
            nn.GELU(),
            Conv2dBN(embed_dim // 2, embed_dim, 3, 2, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq(x)


class MBConv(nn.Module):
    """Inverted residual block on BxCxHxW: 1x1 expand, 3x3 depthwise, 1x1 project."""

    def __init__(self, dim: int, expand_ratio: float) -> None:
        super().__init__()
        hidden = int(dim * expand_ratio)
        self.conv1 = Conv2dBN(dim, hidden)
        self.act1 = nn.GELU()
        self.conv2 = Conv2dBN(hidden, hidden, ks=3, pad=1, groups=hidden)
        self.act2 = nn.GELU()
        self.conv3 = Conv2dBN(hidden, dim)
        self.act3 = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act2(self.conv2(self.act1(self.conv1(x))))
        return self.act3(self.conv3(y) + x)


class PatchMerging(nn.Module):
    """BxCxHxW or Bx(H*W)xC -> Bx(H'*W')xC': 1x1, 3x3 depthwise (stride 2 or 1), 1x1."""

    def __init__(self, resolution: int, dim: int, out_dim: int, stride: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.act = nn.GELU()
        self.conv1 = Conv2dBN(dim, out_dim)
        self.conv2 = Conv2dBN(out_dim, out_dim, 3, stride, 1, groups=out_dim)
        self.conv3 = Conv2dBN(out_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:
            x = x.view(len(x), self.resolution, self.resolution, -1).permute(0, 3, 1, 2)
        x = self.conv3(self.act(self.conv2(self.act(self.conv1(x)))))
        return x.flatten(2).transpose(1, 2)


class Attention(nn.Module):
    """Multi-head attention over BxNxC windows (N = window^2) with a learned bias per head
    and per absolute offset (|dy|, |dx|) between two positions of the window."""

    attention_bias_idxs: torch.Tensor  # NxN index into attention_biases, a non-saved buffer

    def __init__(self, dim: int, num_heads: int, window: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.key_dim = dim // num_heads
        self.scale = self.key_dim**-0.5
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, window * window))
        ys, xs = torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
        ys, xs = ys.flatten(), xs.flatten()
        offsets = (ys[:, None] - ys[None]).abs() * window + (xs[:, None] - xs[None]).abs()
        self.register_buffer("attention_bias_idxs", offsets, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, _ = x.shape
        qkv = self.qkv(self.norm(x)).view(batch, tokens, self.num_heads, -1)
        q, k, v = (t.permute(0, 2, 1, 3) for t in qkv.split(self.key_dim, dim=3))
        bias = self.attention_biases[:, self.attention_bias_idxs]
        attn = ((q @ k.transpose(-2, -1)) * self.scale + bias).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(batch, tokens, -1))


class TinyViTBlock(nn.Module):
    """Bx(H*W)xC -> same: windowed attention, 3x3 depthwise conv, MLP (residuals around)."""

    def __init__(self, dim: int, resolution: int, num_heads: int, window: int, mlp_ratio: float):
        super().__init__()
        self.resolution = resolution
        self.window = window
        self.attn = Attention(dim, num_heads, window)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.local_conv = Conv2dBN(dim, dim, ks=3, pad=1, groups=dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        side, w = self.resolution, self.window
        batch, tokens, dim = x.shape
        if side == w:
            attended = self.attn(x)
        else:
            # Padded positions take part in attention as zeros, exactly as in training.
            pad = (w - side % w) % w
            grid = F.pad(x.view(batch, side, side, dim), (0, 0, 0, pad, 0, pad))
            n = (side + pad) // w
            windows = grid.view(batch, n, w, n, w, dim).transpose(2, 3).reshape(-1, w * w, dim)
            grid = self.attn(windows).view(batch, n, n, w, w, dim).transpose(2, 3)
            grid = grid.reshape(batch, n * w, n * w, dim)[:, :side, :side]
            attended = grid.reshape(batch, tokens, dim)
        x = x + attended
        x = self.local_conv(x.transpose(1, 2).reshape(batch, dim, side, side))
        x = x.view(batch, dim, tokens).transpose(1, 2)
        return x + self.mlp(x)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(self.norm(x))))


class Stage(nn.Module):
    """Blocks at one resolution, then an optional PatchMerging to the next stage."""

    def __init__(self, blocks: list[nn.Module], downsample: PatchMerging | None) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x if self.downsample is None else self.downsample(x)


class TinyViT(nn.Module):
    """Bx3x1024x1024 normalised image -> Bx256x64x64 image embedding (SAM's contract)."""

    def __init__(self, arch: TinyVitArchitecture) -> None:
        super().__init__()
        self.img_size = arch.img_size
        self.side = arch.embedding_size
        dims = arch.embed_dims
        self.patch_embed = PatchEmbed(3, dims[0])
        self.layers = nn.ModuleList()
        resolution = arch.img_size // 4
        for i, (dim, depth) in enumerate(zip(dims, arch.depths, strict=True)):
            last = i == len(dims) - 1
            # The last merge keeps the resolution so the embedding is img_size / 16.
            stride = 1 if i == len(dims) - 2 else 2
            merge = None if last else PatchMerging(resolution, dim, dims[i + 1], stride)
            blocks: list[nn.Module] = [
                MBConv(dim, arch.mbconv_expand_ratio)
                if i == 0
                else TinyViTBlock(
                    dim, resolution, arch.num_heads[i - 1], arch.window_sizes[i - 1], arch.mlp_ratio
                )
                for _ in range(depth)
            ]
            self.layers.append(Stage(blocks, merge))
            resolution = resolution if last else resolution // stride
        self.norm_head = nn.LayerNorm(dims[-1])
        self.head = nn.Linear(dims[-1], arch.num_classes)
        out = arch.prompt_embed_dim
        self.neck = nn.Sequential(
            nn.Conv2d(dims[-1], out, kernel_size=1, bias=False),
            LayerNorm2d(out),
            nn.Conv2d(out, out, kernel_size=3, padding=1, bias=False),
            LayerNorm2d(out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x)
        batch, _, dim = x.shape
        x = x.view(batch, self.side, self.side, dim).permute(0, 3, 1, 2)
        return self.neck(x)
