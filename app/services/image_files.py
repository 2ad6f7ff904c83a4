"""Where image bytes live on disk: originals (content-addressed), display copies, thumbnails.

Originals are stored untouched under data_dir/images/<sha[:2]>/<sha><ext>; everything derived
(display re-encode, thumbnails) is a cache keyed by the content hash, since the canonical frame
is a pure function of the bytes. Every path handed out is checked to stay inside data_dir.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from app import imaging
from app.config import Settings
from app.errors import NotFound

_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif", "BMP": ".bmp"}


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder and rename, so readers never see a torn file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ImageFiles:
    """The image folders of one data directory."""

    def __init__(self, settings: Settings) -> None:
        self.root = Path(os.path.realpath(settings.data_dir))
        self.max_pixels = settings.max_image_pixels

    def resolve(self, relative: str) -> Path:
        """Absolute path of a stored file; refuses anything that escapes the data dir."""
        path = Path(os.path.realpath(self.root / relative))
        if os.path.commonpath([self.root, path]) != str(self.root):
            raise NotFound("image file not found")
        return path

    def save_original(self, sha256: str, fmt: str, data: bytes) -> str:
        """Store the original bytes once per content hash; returns the path relative to root."""
        relative = f"images/{sha256[:2]}/{sha256}{_EXTENSIONS.get(fmt, '.bin')}"
        path = self.root / relative
        if not path.exists():
            write_atomic(path, data)
        return relative

    def remove_original(self, relative: str) -> None:
        self.resolve(relative).unlink(missing_ok=True)

    def open_canonical(self, relative: str):  # -> PIL.Image.Image
        path = self.resolve(relative)
        if not path.is_file():
            raise NotFound("image file is missing from the data directory")
        return imaging.open_canonical(path, max_pixels=self.max_pixels)

    def load_array(self, relative: str):  # -> np.ndarray HxWx3 uint8
        return imaging.as_array(self.open_canonical(relative))

    def display(self, relative: str, sha256: str, source_format: str) -> tuple[Path, str]:
        """The canonical image re-encoded for browsers, cached; returns (path, media type)."""
        for ext, media in ((".jpg", "image/jpeg"), (".png", "image/png")):
            cached = self.root / "cache" / "display" / f"{sha256}{ext}"
            if cached.is_file():
                return cached, media
        data, media = imaging.encode_display(
            self.open_canonical(relative), source_format=source_format
        )
        ext = ".png" if media == "image/png" else ".jpg"
        cached = self.root / "cache" / "display" / f"{sha256}{ext}"
        write_atomic(cached, data)
        return cached, media

    def thumbnail(self, relative: str, sha256: str, size: int) -> Path:
        """A JPEG thumbnail with longest side `size` (canonical frame), cached on disk."""
        cached = self.root / "cache" / "thumbs" / f"{sha256}_{size}.jpg"
        if not cached.is_file():
            write_atomic(cached, imaging.make_thumbnail(self.open_canonical(relative), size))
        return cached
