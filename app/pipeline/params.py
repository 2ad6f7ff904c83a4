"""Validated parameters of each pipeline job (checked when the job is created: bad -> 422)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SegmentParams(_Params):
    """SamAutomaticMaskGenerator's own argument names and defaults, but for the grid."""

    # 8x8 prompts find fewer, whole-object masks than SAM's 32x32. bench/effort.py on
    # camvid-dev (sam-pool map): 90% of 542 segments correct in 60 actions (9.0x fewer than one
    # per segment); 16x16 gave 1,054 segments and 158 actions (6.7x).
    points_per_side: int = Field(8, ge=1, le=128)
    points_per_batch: int = Field(64, ge=1, le=1024)
    pred_iou_thresh: float = Field(0.88, ge=0, le=1)
    stability_score_thresh: float = Field(0.95, ge=0, le=1)
    stability_score_offset: float = Field(1.0, ge=0)
    box_nms_thresh: float = Field(0.7, ge=0, le=1)
    # Crop layers would encode every crop again; the job reuses the one cached embedding.
    crop_n_layers: int = Field(0, ge=0, le=0, description="only 0: the image is encoded once")
    min_mask_region_area: int = Field(0, ge=0)
    image_ids: list[int] | None = Field(None, description="only these images (default: all)")

    def generator_args(self) -> dict[str, float | int]:
        """The grid and what the user set: each backend keeps its other defaults (the
        offline segmenter's scores are on another scale than SAM's 0.88 IoU threshold)."""
        chosen = self.model_dump(exclude={"image_ids", "crop_n_layers"}, exclude_unset=True)
        return {"points_per_side": self.points_per_side, **chosen}


class EmbedParams(_Params):
    embedder: str | None = Field(
        None,
        description="timm:<model>, sam-pool, parts joined by +, or auto (sam-pool where SAM "
        "segments); default: the project's embedder",
    )
    batch_size: int = Field(32, ge=1, le=512)


class ProjectionParams(_Params):
    """Projector settings; unset ones take the projector's defaults (chosen by
    bench/projection.py). Without `refit`, new segments are placed on the existing map."""

    projector: Literal["auto", "umap", "cuml-umap", "pca"] | None = Field(
        None, description="default: LASSOLABEL_PROJECTOR (auto = cuML on a GPU, else UMAP)"
    )
    refit: bool = Field(False, description="refit from scratch instead of placing new points")
    n_neighbors: int | None = Field(None, ge=2, le=200)
    min_dist: float | None = Field(None, ge=0, le=1)
    metric: Literal["cosine", "euclidean"] | None = None
    n_epochs: int | None = Field(None, ge=10, le=1000)
    init: Literal["spectral", "pca", "random"] | None = None
    pca_components: int | None = Field(None, ge=0, le=512)

    def projector_args(self) -> dict[str, object]:
        return self.model_dump(exclude={"projector", "refit"}, exclude_none=True)
