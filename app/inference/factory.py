"""Build the configured segmenter from Settings (called on the worker thread at start-up)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import cast

import torch
from segment_anything.modeling import ImageEncoderViT

from app.config import Settings
from app.inference.acceleration import safe_autocast, use_sdpa
from app.inference.architecture import infer_architecture, load_sam, read_state_dict
from app.inference.base import ModelUnavailable, Segmenter
from app.inference.cache import EmbeddingCache
from app.inference.checkpoints import checkpoint_sha256, download_official, official_path
from app.inference.decoder import DECODER_GRAPH, make_decoder
from app.inference.sam import SamSegmenter
from app.inference.worker import InferenceWorker

log = logging.getLogger(__name__)

HOW_TO_CONFIGURE = (
    "no SAM checkpoint is configured: set LASSOLABEL_SAM_CHECKPOINT=/path/to/sam_vit_b_01ec64.pth "
    "(or a fine-tune such as MedSAM), or set LASSOLABEL_SAM_DOWNLOAD=1 to download the official "
    "checkpoint, or run `lassolabel models download vit_b`"
)


def resolve_checkpoint(settings: Settings) -> Path:
    """The checkpoint file to load: configured path, official file in models dir, or download."""
    if settings.sam_checkpoint is not None:
        if not settings.sam_checkpoint.is_file():
            raise ModelUnavailable(
                f"LASSOLABEL_SAM_CHECKPOINT={settings.sam_checkpoint} does not exist"
            )
        return settings.sam_checkpoint
    arch = settings.sam_model_type or "vit_b"
    present = official_path(arch, settings.models_dir)
    if present.is_file():
        return present
    if settings.sam_download:
        try:
            return download_official(arch, settings.models_dir)
        except OSError as exc:
            raise ModelUnavailable(f"could not download the {arch} checkpoint: {exc}") from None
    raise ModelUnavailable(HOW_TO_CONFIGURE)


def pick_device(setting: str) -> torch.device:
    """'auto' -> cuda when available else cpu; anything else as given ('cpu', 'cuda:1')."""
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(setting)


def load_sam_segmenter(settings: Settings, checkpoint: Path | None = None) -> SamSegmenter:
    """Load, check and place SAM; export its decoder to ONNX (cached by model id) on CPU."""
    path = checkpoint or resolve_checkpoint(settings)
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    state = read_state_dict(path)
    arch = infer_architecture(state, settings.sam_model_type)
    sam = load_sam(state, arch).to(pick_device(settings.device))
    model_id = f"sam-{arch.name}-{checkpoint_sha256(path, settings.models_dir)[:16]}"
    onnx_path = settings.models_dir / "onnx" / f"{model_id}.{DECODER_GRAPH}.onnx"
    decoder = make_decoder(sam, onnx_path, torch.get_num_threads())
    segmenter = SamSegmenter(sam, model_id, decoder)
    if sam.device.type == "cuda":
        if isinstance(sam.image_encoder, ImageEncoderViT):  # TinyViT (vit_t) stays eager
            use_sdpa(sam.image_encoder)
        segmenter.autocast_dtype = safe_autocast(segmenter)
    log.info("loaded %s on %s (decoder: %s)", model_id, sam.device, decoder.name)
    return segmenter


def sam_configured(settings: Settings) -> bool:
    """Whether the settings point at a SAM checkpoint (a path, an official file, a download)."""
    if settings.sam_checkpoint is not None or settings.sam_download:
        return True
    return official_path(settings.sam_model_type or "vit_b", settings.models_dir).is_file()


def classic_segmenter() -> Segmenter:
    from app.inference.classic import ClassicSegmenter

    return ClassicSegmenter()


def segmenter_factory(settings: Settings) -> Callable[[], Segmenter]:
    """What InferenceWorker calls on its thread. `sam` needs SAM (else ModelUnavailable with a
    how-to); `classic` is the offline segmenter; `auto` is SAM when a checkpoint is configured
    and the offline segmenter otherwise. A configured checkpoint that fails to load is an
    error, never a silent fallback."""
    if settings.segmenter == "classic" or (
        settings.segmenter == "auto" and not sam_configured(settings)
    ):
        return classic_segmenter
    return lambda: load_sam_segmenter(settings)


def build_worker(
    settings: Settings, segmenter: Segmenter | Callable[[], Segmenter] | None = None
) -> InferenceWorker:
    """The app's worker: the configured SAM, or `segmenter` (an instance or a factory) instead."""
    factory: Callable[[], Segmenter]
    if segmenter is None:
        factory = segmenter_factory(settings)
    elif hasattr(segmenter, "predict"):
        instance = cast(Segmenter, segmenter)
        factory = lambda: instance  # noqa: E731
    else:
        factory = cast(Callable[[], Segmenter], segmenter)
    cache = EmbeddingCache(settings.embedding_cache_bytes, settings.cache_dir / "embeddings")
    return InferenceWorker(factory, cache, max_batch=settings.encoder_max_batch)
