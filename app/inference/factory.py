"""Build the configured segmenter from Settings (called on the worker thread at start-up)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

from app.config import Settings
from app.inference.base import ModelUnavailable, Segmenter
from app.inference.cache import EmbeddingCache
from app.inference.fetcher import ModelFetcher
from app.inference.selection import Choice, choose
from app.inference.worker import InferenceWorker


def sam_segmenter(settings: Settings, checkpoint: Path | None = None) -> Segmenter:
    """SAM from `checkpoint` (else the configured one), loaded by app/inference/sam_loader.py,
    imported only here: an app that serves the classic segmenter never imports torch."""
    from app.inference.sam_loader import load_sam_segmenter

    return load_sam_segmenter(settings, checkpoint)


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
    return lambda: sam_segmenter(settings, choice.checkpoint)


def model_fetcher(settings: Settings, worker: InferenceWorker, arch: str) -> ModelFetcher:
    """Obtains the official arch weights in the background once started, then switches the
    worker to SAM."""

    def load_and_switch(path: Path) -> None:
        rebuild = lambda: sam_segmenter(settings, path)  # noqa: E731
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
