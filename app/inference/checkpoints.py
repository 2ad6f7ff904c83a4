"""Official SAM checkpoints: where they live, their pinned sha256, download and verification.

Nothing here imports torch: this is files and hashes only (loading is in architecture.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from app.inference.base import ModelUnavailable


@dataclass(frozen=True)
class OfficialCheckpoint:
    arch: str
    url: str
    sha256: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[1]


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


def download_official(arch: str, models_dir: Path, *, progress: bool = True) -> Path:
    """Download the official arch checkpoint once into models_dir (see download)."""
    return download(OFFICIAL_CHECKPOINTS[arch], models_dir, progress=progress)


def download(checkpoint: OfficialCheckpoint, models_dir: Path, *, progress: bool = True) -> Path:
    """Fetch checkpoint.url into models_dir once, resuming a partial file.

    The bytes go to '<name>.part'; only a file whose sha256 matches the pinned value is
    renamed into place. Returns the final path (immediately when already present).
    """
    final = models_dir / checkpoint.filename
    if final.is_file():
        return final
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(final.name + ".part")
    _fetch_resuming(checkpoint.url, partial, progress=progress)
    try:
        verify(partial, checkpoint)
    except ChecksumMismatch:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, final)
    return final


def _fetch_resuming(url: str, partial: Path, *, progress: bool) -> None:
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urllib.request.urlopen(request, timeout=60) as response:
        if response.status != 206:
            have = 0  # the server ignored the range: start over
        total = have + int(response.headers.get("Content-Length") or 0)
        with (
            partial.open("ab" if have else "wb") as out,
            tqdm(
                total=total or None,
                initial=have,
                unit="B",
                unit_scale=True,
                desc=partial.name.removesuffix(".part"),
                disable=not progress,
            ) as bar,
        ):
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                bar.update(len(chunk))


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
