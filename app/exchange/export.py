"""Export a project from its one mask store into any format, into a zip or a folder."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from app.db import Database
from app.errors import Invalid
from app.exchange import coco, csvexport, pngmasks, yolo
from app.exchange.dataset import ExportClass, ExportImage, iter_images, load_classes
from app.exchange.sinks import Sink, ZipSink, spooled_zip
from app.imaging.encode import display_media
from app.services.image_files import ImageFiles

FORMATS = ("coco", "coco-polygons", "yolo-seg", "masks-png", "csv")

README = """lassolabel export, format {fmt}

Images are in their canonical frame: EXIF orientation already applied and no metadata kept,
so every mask, box and polygon coordinate refers to exactly these pixels (x right, y down).
{details}
"""

_DETAILS = {
    "coco": "annotations.json: COCO instances, segmentation as RLE (compressed counts, size "
    "[h, w]); iscrowd is 0 because each RLE is one object (SA-1B style); pycocotools' annToMask "
    "decodes it exactly. Category ids are 1-based; 0 'unlabelled' appears only if asked for.",
    "coco-polygons": "annotations.json: COCO instances, segmentation as polygons on pixel "
    "edges (pycocotools rasterises them back exactly when tolerance is 0). One polygon per "
    "part; holes are joined to their outline by zero-width cuts, which COCO's even-odd fill "
    "cancels.",
    "yolo-seg": "data.yaml, images/, labels/: Ultralytics segmentation, one line per object "
    "part (class x y ... normalised; points are boundary pixel centres + 0.5). Parts of one "
    "object become separate lines with the same class; holes are joined by zero-width cuts.",
    "masks-png": "semantic/*.png: palette PNG, value = class (legend.json), 0 background, 255 "
    "unlabelled. instances/*.png: 16-bit, value = instance number, listed per image in "
    "legend.json. Overlaps: larger segments are painted first, smaller ones on top.",
    "csv": "segments.csv: one row per segment; bbox is XYWH in canonical pixels.",
}


@dataclass(frozen=True)
class ExportOptions:
    include_unlabelled: bool = False
    tolerance: float = 0.0  # polygon simplification, pixels (0 = exact)
    include_images: bool = True


@dataclass(frozen=True)
class ExportSummary:
    images: int
    segments: int


def export_project(
    *,
    db: Database,
    files: ImageFiles,
    project_id: int,
    fmt: str,
    options: ExportOptions,
    sink: Sink,
) -> ExportSummary:
    """Write project `project_id` in format `fmt` (one of FORMATS) into `sink`."""
    if fmt not in FORMATS:
        raise Invalid(f"unknown export format {fmt!r}", detail={"formats": list(FORMATS)})
    classes = load_classes(db, project_id)
    images = iter_images(db, project_id, classes, include_unlabelled=options.include_unlabelled)
    counted = _Counter(images)
    writer = _WRITERS[fmt]
    writer(_Job(files, classes, counted, options, sink))
    sink.write("README.txt", README.format(fmt=fmt, details=_DETAILS[fmt]).encode())
    return ExportSummary(images=counted.images, segments=counted.segments)


def export_zip(
    *, db: Database, files: ImageFiles, project_id: int, fmt: str, options: ExportOptions
) -> IO[bytes]:
    """The export as a zip in a spooled temporary file, rewound; the caller closes it."""
    spool, archive = spooled_zip()
    try:
        with archive:
            export_project(
                db=db,
                files=files,
                project_id=project_id,
                fmt=fmt,
                options=options,
                sink=ZipSink(archive),
            )
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


class _Counter:
    """Passes images through while counting them and their segments."""

    def __init__(self, images: Iterator[ExportImage]) -> None:
        self._images, self.images, self.segments = images, 0, 0

    def __iter__(self) -> Iterator[ExportImage]:
        for image in self._images:
            self.images += 1
            self.segments += len(image.segments)
            yield image


@dataclass(frozen=True)
class _Job:
    files: ImageFiles
    classes: list[ExportClass]
    images: _Counter
    options: ExportOptions
    sink: Sink

    def copy_image(self, image: ExportImage, folder: str) -> str:
        """Write the canonical-frame image under `folder`; returns its path in the export."""
        if not self.options.include_images:
            media = display_media(image.format, image.width, image.height)
            return f"{folder}/{image.name}{'.png' if media == 'image/png' else '.jpg'}"
        path, media = self.files.display(image.stored_path, image.sha256, image.format)
        name = f"{folder}/{image.name}{'.png' if media == 'image/png' else '.jpg'}"
        self.sink.write(name, path.read_bytes())
        return name


def _write_coco(job: _Job, polygons: bool) -> None:
    # Streamed through a temporary file: the images are written into the sink meanwhile, and
    # a zip takes one open entry at a time.
    with tempfile.TemporaryFile() as document:
        coco.write_coco(
            document,
            job.images,
            job.classes,
            file_name=lambda image: job.copy_image(image, "images"),
            polygons=polygons,
            tolerance=job.options.tolerance,
        )
        document.seek(0)
        with job.sink.open("annotations.json") as out:
            shutil.copyfileobj(document, out, 1 << 20)


def _write_yolo(job: _Job) -> None:
    unlabelled = len(job.classes)
    for image in job.images:
        job.copy_image(image, "images")
        masks = [(s.label.index - 1 if s.label else unlabelled, s.rle) for s in image.segments]
        text = yolo.label_lines(masks, image.width, image.height, job.options.tolerance)
        job.sink.write(f"labels/{image.name}.txt", text.encode())
    names = [c.name for c in job.classes]
    if job.options.include_unlabelled:
        names.append("unlabelled")
    job.sink.write("data.yaml", yolo.data_yaml(names))


def _write_pngs(job: _Job) -> None:
    colours = pngmasks.palette(job.classes)
    legend = {}
    for image in job.images:
        source = job.copy_image(image, "images")
        semantic, instances, entries = pngmasks.paint(image)
        job.sink.write(f"semantic/{image.name}.png", pngmasks.semantic_png(semantic, colours))
        job.sink.write(f"instances/{image.name}.png", pngmasks.instance_png(instances))
        legend[image.name] = {"image_id": image.id, "image": source, "instances": entries}
    job.sink.write("legend.json", pngmasks.legend_json(job.classes, legend))


def _write_csv(job: _Job) -> None:
    job.sink.write("segments.csv", csvexport.csv_text(job.images).encode())


_WRITERS: dict[str, Callable[[_Job], None]] = {
    "coco": lambda job: _write_coco(job, polygons=False),
    "coco-polygons": lambda job: _write_coco(job, polygons=True),
    "yolo-seg": _write_yolo,
    "masks-png": _write_pngs,
    "csv": _write_csv,
}
