"""Load SAM from a checkpoint: check it, place it on its device, export its decoder to ONNX.
The only start-up path that imports torch (app/inference/factory.py imports it lazily)."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import torch
from segment_anything.modeling import ImageEncoderViT

from app.config import Settings
from app.inference.acceleration import safe_autocast, use_sdpa
from app.inference.architecture import infer_architecture, load_sam, read_state_dict
from app.inference.base import ModelUnavailable
from app.inference.batch_decoder import make_batch_runner
from app.inference.checkpoints import checkpoint_sha256
from app.inference.decoder_export import make_decoder
from app.inference.decoder_files import DECODER_GRAPH
from app.inference.sam import SamSegmenter
from app.inference.selection import require_checkpoint

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
    """Load, check and place SAM; export its decoder to ONNX (cached by model id): on the CPU
    the server decodes with it, on a GPU the page's in-page decoder only."""
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
