"""Where an export writes its files: a zip archive or a plain folder, one `write` each."""

from __future__ import annotations

import tempfile
import zipfile
from contextlib import AbstractContextManager
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

# Already-compressed payloads gain nothing from deflate; storing them keeps exports fast.
_STORED_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})
SPOOL_BYTES = 32 * 1024 * 1024


class Sink(Protocol):
    def write(self, name: str, data: bytes) -> None:
        """Write one file; `name` is a relative POSIX path (folders are created)."""
        ...

    def open(self, name: str) -> AbstractContextManager[IO[bytes]]:
        """One file written in pieces (a document too large to hold in memory)."""
        ...


def _checked(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"unsafe archive path {name!r}")
    return path


class ZipSink:
    """Writes into an open zip file (entries deflated unless already compressed)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive

    def write(self, name: str, data: bytes) -> None:
        path = _checked(name)
        stored = path.suffix.lower() in _STORED_SUFFIXES
        method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        self.archive.writestr(str(path), data, compress_type=method)

    def open(self, name: str) -> AbstractContextManager[IO[bytes]]:
        # force_zip64: the size is unknown up front and may pass 2 GiB.
        return self.archive.open(str(_checked(name)), "w", force_zip64=True)


class DirSink:
    """Writes into a folder on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, name: str, data: bytes) -> None:
        target = self.root / _checked(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def open(self, name: str) -> AbstractContextManager[IO[bytes]]:
        target = self.root / _checked(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "wb")  # noqa: SIM115 - the caller's with-block closes it


def spooled_zip() -> tuple[IO[bytes], zipfile.ZipFile]:
    """A temporary file (in memory up to SPOOL_BYTES, then on disk) and a zip writing to it."""
    # Closed by the caller once streamed (export_zip hands it over).
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    return spool, zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED)
