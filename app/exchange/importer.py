"""Import existing annotations (COCO instances, YOLO-seg) as working labels or ground truth.

Annotation files name images; we match them to the project's images by content hash (our
own exports carry it), then by file name, then by file stem. An annotation whose image is
unknown, or whose stated size differs from the canonical frame, is skipped with a reason.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import numpy as np
from sqlalchemy import delete, select

from app.db import Database
from app.errors import Invalid
from app.exchange import yolo
from app.exchange.coco import segmentation_to_mask
from app.masks import encode_rle, rle_bbox
from app.models import GroundTruthSegment, Image, Segment, SegmentSource
from app.services import labels as label_service

Target = Literal["labels", "ground-truth"]
IMPORT_FORMATS = ("coco", "yolo-seg")


@dataclass(frozen=True)
class ImportedMask:
    image_id: int
    category: str
    rle: dict[str, Any]
    area: int
    iscrowd: bool = False


@dataclass
class ImportReport:
    target: str
    images: int = 0
    imported: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)


class ImageIndex:
    """The project's images, looked up by sha256, file name or stem (unique matches only)."""

    def __init__(self, images: Iterable[Image]) -> None:
        self.by_id: dict[int, Image] = {}
        self._keys: dict[str, list[Image]] = {}
        for image in images:
            self.by_id[image.id] = image
            name = PurePosixPath(image.filename)
            for key in (f"sha:{image.sha256}", f"name:{name.name}", f"stem:{name.stem}"):
                self._keys.setdefault(key, []).append(image)

    @classmethod
    def load(cls, db: Database, project_id: int) -> ImageIndex:
        with db.read() as session:
            return cls(session.scalars(select(Image).where(Image.project_id == project_id)))

    def find(self, *, names: Iterable[str], sha256: str | None = None) -> Image | None:
        keys = [f"sha:{sha256}"] if sha256 else []
        paths = [PurePosixPath(n.replace("\\", "/")) for n in names if n]
        keys += [f"name:{p.name}" for p in paths] + [f"stem:{p.stem}" for p in paths]
        for key in keys:
            found = self._keys.get(key, [])
            if len(found) == 1:
                return found[0]
        return None


def read_coco(document: Any, index: ImageIndex, report: ImportReport) -> list[ImportedMask]:
    """Masks from a COCO instances document (RLE or polygon segmentations)."""
    if not isinstance(document, dict) or not isinstance(document.get("annotations"), list):
        raise Invalid("not a COCO instances document (no 'annotations' list)")
    names = {c["id"]: str(c["name"]) for c in document.get("categories", [])}
    images = {}
    for entry in document.get("images", []):
        image = index.find(
            names=[entry.get("file_name", ""), entry.get("original_filename", "")],
            sha256=entry.get("sha256"),
        )
        if image is None:
            report.skipped.append({"item": str(entry.get("file_name")), "reason": "no such image"})
        elif (entry.get("height"), entry.get("width")) != (image.height, image.width):
            reason = (
                f"size {entry.get('width')}x{entry.get('height')} != {image.width}x{image.height}"
            )
            report.skipped.append({"item": str(entry.get("file_name")), "reason": reason})
        else:
            images[entry["id"]] = image
    report.images = len(images)
    masks = []
    for annotation in document["annotations"]:
        image = images.get(annotation.get("image_id"))
        if image is None:
            continue
        mask = _coco_mask(annotation, image, report)
        if mask is not None:
            category = names.get(annotation.get("category_id"), "unlabelled")
            masks.append(_imported(image.id, category, mask, bool(annotation.get("iscrowd"))))
    return masks


def _coco_mask(annotation: dict[str, Any], image: Image, report: ImportReport):
    try:
        mask = segmentation_to_mask(annotation.get("segmentation"), image.height, image.width)
    except (ValueError, TypeError) as exc:
        report.skipped.append({"item": f"annotation {annotation.get('id')}", "reason": str(exc)})
        return None
    return mask if mask.any() else None


def read_yolo_zip(archive: zipfile.ZipFile, index: ImageIndex, report: ImportReport):
    """Masks from a zip holding data.yaml and labels/*.txt (any folder depth)."""
    names = [n for n in archive.namelist() if not n.endswith("/")]
    yaml_name = next((n for n in names if PurePosixPath(n).name == "data.yaml"), None)
    if yaml_name is None:
        raise Invalid("a YOLO import needs a data.yaml with the class names")
    label_files = {n: archive.read(n).decode() for n in names if n.endswith(".txt")}
    return read_yolo(yolo.read_names(archive.read(yaml_name).decode()), label_files, index, report)


def read_yolo_folder(root: Path, index: ImageIndex, report: ImportReport):
    """Masks from a folder holding data.yaml and labels/*.txt (any depth)."""
    found = sorted(root.rglob("data.yaml"))
    if not found:
        raise Invalid("a YOLO import needs a data.yaml with the class names")
    label_files = {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.txt"))}
    return read_yolo(yolo.read_names(found[0].read_text()), label_files, index, report)


def read_yolo(
    class_names: list[str], label_files: dict[str, str], index: ImageIndex, report: ImportReport
) -> list[ImportedMask]:
    """Masks from label file texts keyed by path; the file stem names the image."""
    masks = []
    for path, text in sorted(label_files.items()):
        image = index.find(names=[PurePosixPath(path).stem])
        if image is None:
            report.skipped.append({"item": path, "reason": "no such image"})
            continue
        try:
            parsed = yolo.parse_label_file(text, image.height, image.width)
        except ValueError as exc:
            report.skipped.append({"item": path, "reason": str(exc)})
            continue
        report.images += 1
        for class_index, mask in parsed:
            name = class_names[class_index] if 0 <= class_index < len(class_names) else None
            if mask.any():
                masks.append(_imported(image.id, name or f"class_{class_index}", mask))
    return masks


def _imported(image_id: int, category: str, mask: np.ndarray, crowd: bool = False):
    return ImportedMask(image_id, category, encode_rle(mask), int(mask.sum()), crowd)


def save_masks(
    *,
    db: Database,
    project_id: int,
    masks: list[ImportedMask],
    target: Target,
    report: ImportReport,
) -> ImportReport:
    """Store masks as imported working segments, or as the ground truth of their images
    (replacing any ground truth those images had)."""
    with db.write() as session:
        if target == "ground-truth":
            image_ids = sorted({m.image_id for m in masks})
            session.execute(
                delete(GroundTruthSegment).where(GroundTruthSegment.image_id.in_(image_ids))
            )
            session.add_all(_ground_truth(project_id, m) for m in masks)
        else:
            classes = _classes_for(session, project_id, {m.category for m in masks})
            session.add_all(_segment(project_id, m, classes[m.category]) for m in masks)
    report.imported = len(masks)
    return report


def _classes_for(session, project_id: int, names: set[str]) -> dict[str, int]:
    existing = {c.name: c.id for c in label_service.list_labels(session, project_id)}
    for name in sorted(names - set(existing)):
        created = label_service.create_label(
            session, project_id, name=name, color=None, hotkey=None
        )
        existing[name] = created.id
    return existing


def _geometry(mask: ImportedMask) -> dict[str, Any]:
    x, y, w, h = rle_bbox(mask.rle)
    return {
        "rle_counts": mask.rle["counts"],
        "height": mask.rle["size"][0],
        "width": mask.rle["size"][1],
        "bbox_x": x, "bbox_y": y, "bbox_w": w, "bbox_h": h,
        "area": mask.area,
    }  # fmt: skip


def _ground_truth(project_id: int, mask: ImportedMask) -> GroundTruthSegment:
    return GroundTruthSegment(
        project_id=project_id,
        image_id=mask.image_id,
        category=mask.category,
        iscrowd=mask.iscrowd,
        **_geometry(mask),
    )


def _segment(project_id: int, mask: ImportedMask, label_id: int) -> Segment:
    return Segment(
        project_id=project_id,
        image_id=mask.image_id,
        source=SegmentSource.imported,
        label_class_id=label_id,
        **_geometry(mask),
    )


def load_masks(
    *, db: Database, project_id: int, fmt: str, payload: bytes | Path, report: ImportReport
) -> list[ImportedMask]:
    """Masks from `payload`: COCO JSON bytes or file, a zip (COCO or YOLO), or a YOLO folder."""
    index = ImageIndex.load(db, project_id)
    if isinstance(payload, Path) and payload.is_dir():
        if fmt != "yolo-seg":
            payload = next(iter(sorted(payload.rglob("*.json"))), payload)
        else:
            return read_yolo_folder(payload, index, report)
    data = payload.read_bytes() if isinstance(payload, Path) else payload
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if fmt == "yolo-seg":
                return read_yolo_zip(archive, index, report)
            return read_coco(_json(archive.read(_coco_member(archive))), index, report)
    if fmt == "yolo-seg":
        raise Invalid("a YOLO import is a zip or a folder with data.yaml and labels/")
    return read_coco(_json(data), index, report)


def _coco_member(archive: zipfile.ZipFile) -> str:
    members = [n for n in archive.namelist() if n.endswith(".json") and "legend" not in n]
    if not members:
        raise Invalid("the zip holds no COCO .json file")
    return sorted(members, key=lambda n: (n.count("/"), n))[0]


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"not valid JSON: {exc}") from None


def import_annotations(
    *, db: Database, project_id: int, fmt: str, payload: bytes | Path, target: Target
) -> ImportReport:
    """Read annotations in `fmt` ('coco' or 'yolo-seg') and store them as `target`."""
    if fmt not in IMPORT_FORMATS:
        raise Invalid(f"unknown import format {fmt!r}", detail={"formats": list(IMPORT_FORMATS)})
    report = ImportReport(target=target)
    masks = load_masks(db=db, project_id=project_id, fmt=fmt, payload=payload, report=report)
    return save_masks(db=db, project_id=project_id, masks=masks, target=target, report=report)
