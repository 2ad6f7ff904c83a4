"""Build the configured segmenter from Settings (called on the worker thread at start-up)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import cast

import torch
from segment_anything.modeling import ImageEncoderViT

from app.config import Settings
from app.inference.acceleration import safe_autocast, use_sdpa
from app.inference.architecture import infer_architecture, load_sam, read_state_dict
from app.inference.base import ModelUnavailable, Segmenter
from app.inference.batch_decoder import make_batch_runner
from app.inference.cache import EmbeddingCache
from app.inference.checkpoints import checkpoint_sha256
from app.inference.decoder import DECODER_GRAPH, make_decoder
from app.inference.fetcher import ModelFetcher
from app.inference.sam import SamSegmenter
from app.inference.selection import Choice, choose, require_checkpoint
from app.inference.worker import InferenceWorker

log = logging.getLogger(__name__)


def resolve_checkpoint(settings: Settings) -> Path:
    """The checkpoint SAM loads: configured path, else the official one in the model cache."""
    return require_checkpoint(settings)


def pick_device(setting: str) -> torch.device:
    """'auto' -> cuda when available else cpu; anything else as given ('cpu', 'cuda:1')."""
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(setting)


def load_sam_segmenter(settings: Settings, checkpoint: Path | None = None) -> SamSegmenter:
    """Load, check and place SAM; export its decoder to ONNX (cached by model id) on CPU."""
    path = checkpoint or resolve_checkpoint(settings)
    if not path.is_file():
        raise ModelUnavailable(f"the SAM checkpoint {path} does not exist")
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    state = read_state_dict(path)
    arch = infer_architecture(state, settings.sam_model_type)
    sam = load_sam(state, arch).to(pick_device(settings.device))
    model_id = f"sam-{arch.name}-{checkpoint_sha256(path, settings.models_dir)[:16]}"
    onnx_path = settings.models_dir / "onnx" / f"{model_id}.{DECODER_GRAPH}.onnx"
    threads = torch.get_num_threads()
    decoder = make_decoder(sam, onnx_path, threads)
    batch = partial(make_batch_runner, sam, onnx_path, threads)
    segmenter = SamSegmenter(sam, model_id, decoder, batch_runner=batch)
    if sam.device.type == "cuda":
        if isinstance(sam.image_encoder, ImageEncoderViT):  # TinyViT (vit_t) stays eager
            use_sdpa(sam.image_encoder)
        segmenter.autocast_dtype = safe_autocast(segmenter)
    log.info("loaded %s on %s (decoder: %s)", model_id, sam.device, decoder.name)
    return segmenter


def classic_segmenter() -> Segmenter:
    from app.inference.classic import ClassicSegmenter

    return ClassicSegmenter()


def _unavailable(reason: str) -> Callable[[], Segmenter]:
    def factory() -> Segmenter:
        raise ModelUnavailable(reason)

    return factory


def segmenter_factory(settings: Settings, choice: Choice) -> Callable[[], Segmenter]:
    """What InferenceWorker calls on its thread for a choice. A configured checkpoint that
    fails to load is an error, never a silent fallback."""
    if choice.kind == "classic":
        return classic_segmenter
    if choice.kind == "none":
        return _unavailable(choice.why)
    return lambda: load_sam_segmenter(settings, choice.checkpoint)


def model_fetcher(settings: Settings, worker: InferenceWorker, arch: str) -> ModelFetcher:
    """Obtains the official arch weights in the background once started, then switches the
    worker to SAM."""

    def load_and_switch(path: Path) -> None:
        rebuild = lambda: load_sam_segmenter(settings, path)  # noqa: E731
        worker.switch(rebuild(), rebuild)
        worker.why = f"official {arch} checkpoint, fetched into the model cache"

    return ModelFetcher(arch, settings.models_dir, load_and_switch)


def build_inference(
    settings: Settings, segmenter: Segmenter | Callable[[], Segmenter] | None = None
) -> tuple[InferenceWorker, ModelFetcher | None]:
    """The app's worker, not started: the chosen segmenter, or `segmenter` (an instance or a
    factory) instead; plus the fetcher of missing official weights, if any (bootstrap starts
    both)."""
    choice = choose(settings) if segmenter is None else Choice("given", "given at construction")
    worker = InferenceWorker(
        _factory(settings, choice, segmenter),
        EmbeddingCache(settings.embedding_cache_bytes, settings.cache_dir / "embeddings"),
        max_batch=settings.encoder_max_batch,
    )
    worker.why = choice.why
    fetcher = model_fetcher(settings, worker, choice.fetch) if choice.fetch else None
    return worker, fetcher


def _factory(
    settings: Settings, choice: Choice, given: Segmenter | Callable[[], Segmenter] | None
) -> Callable[[], Segmenter]:
    if given is None:
        return segmenter_factory(settings, choice)
    if hasattr(given, "predict"):
        instance = cast(Segmenter, given)
        return lambda: instance
    return cast(Callable[[], Segmenter], given)
