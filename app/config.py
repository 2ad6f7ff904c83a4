"""Settings: the one place that reads the environment (prefix LASSOLABEL_, optional .env)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_cache_dir, user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """./data when running from a source checkout, else the per-user data directory."""
    if (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "migrations").is_dir():
        return REPO_ROOT / "data"
    return Path(user_data_dir("lassolabel"))


def default_model_dir() -> Path:
    """The per-user model cache: checkpoints are large and the same for every data dir."""
    return Path(user_cache_dir("lassolabel")) / "models"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LASSOLABEL_", env_file=".env", extra="ignore", validate_default=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Server folders users may import from; empty disables folder import.
    import_roots: list[Path] = []
    max_upload_bytes: int = 200 * 1024 * 1024
    # Pillow's own decompression-bomb threshold (about 89.5 Mpx): above it decoding is refused.
    max_image_pixels: int = 89_478_485
    folder_import_job_threshold: int = 20
    seed_demo: bool = True
    log_level: str = "info"
    # Exact origins allowed for CORS (never "*"); empty means same-origin only.
    cors_origins: list[str] = []

    # Access: "required" (accounts, sessions, tokens) or "none" (single user, loopback only).
    auth: Literal["required", "none"] = "required"
    # Host headers accepted besides loopback names on `port` (DNS-rebinding guard):
    # "name" accepts any port, "name:port" one port.
    allowed_hosts: list[str] = []
    session_days: int = 14
    invite_days: int = 7
    # A soft lock on an image lasts this long after its holder's last heartbeat.
    presence_ttl_seconds: float = 30.0
    # A live `labels` event lists a batch's changes up to this many (about 20 bytes each);
    # a bigger batch is announced by its count, and clients read its changes compactly.
    live_inline_changes: int = Field(10_000, ge=0)

    # Segmenter / SAM
    segmenter: Literal["auto", "sam", "classic"] = "auto"
    sam_checkpoint: Path | None = None
    sam_model_type: Literal["vit_b", "vit_l", "vit_h", "vit_t"] | None = None
    sam_download: bool = False
    # The model cache (checkpoints, exported decoder graphs), shared by every data dir.
    model_dir: Path = Field(default_factory=default_model_dir)
    # Obtain missing MobileSAM weights in the background (segmenter auto / sam).
    model_fetch: bool = True
    device: str = "auto"
    torch_threads: int | None = None
    embedding_cache_bytes: int = 1024 * 1024 * 1024
    encoder_max_batch: int = 4
    prefetch_ahead: int = 2

    # Embedding / projection
    # "auto": sam-pool where SAM segments, else timm:tf_efficientnet_lite0 (bench/effort.py).
    embedder: str = "auto"
    # Local checkpoint for a non-default timm embedder (else timm downloads, else fallback).
    embedder_weights: Path | None = None
    # "auto" (cuML on GPU when installed, else umap), "umap", "cuml-umap", "pca".
    projector: str = "auto"
    # Ray: run the segment and embed jobs' per-image work on a Ray cluster ("auto", "local",
    # "ray://head:10001", a GCS address); unset: in-process, and Ray is never imported.
    ray_address: str | None = None
    # Model-holding actors per job: 0 = one per GPU of the cluster, else one per CPU.
    ray_actors: int = Field(0, ge=0)
    # Images per actor call (the encoder's batch on the actor).
    ray_batch_size: int = Field(4, ge=1, le=64)
    # Compile UMAP's numba kernels in a background thread at start-up (~1 min on 2 cores).
    warm_numba_at_startup: bool = True

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, origins: list[str]) -> list[str]:
        if "*" in origins:
            raise ValueError("wildcard CORS is not allowed: list exact origins")
        return origins

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'lassolabel.db'}"

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def models_dir(self) -> Path:
        return self.model_dir

    def ensure_dirs(self) -> None:
        for path in (self.data_dir, self.images_dir, self.cache_dir, self.models_dir):
            path.mkdir(parents=True, exist_ok=True)
