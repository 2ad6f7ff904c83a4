"""`lassolabel models list|download|verify`: the official SAM checkpoints in the models dir."""

from __future__ import annotations

import argparse
import sys

from app.config import Settings
from app.inference.base import ModelUnavailable
from app.inference.checkpoints import (
    OFFICIAL_CHECKPOINTS,
    download_official,
    official_path,
    verify_official,
)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    print(f"models dir: {settings.models_dir}")
    for arch, checkpoint in OFFICIAL_CHECKPOINTS.items():
        path = official_path(arch, settings.models_dir)
        state = f"present ({path.stat().st_size / 1e6:.0f} MB)" if path.is_file() else "absent"
        print(f"  {arch:<6} {checkpoint.filename:<22} {state:<18} sha256 {checkpoint.sha256}")
    configured = settings.sam_checkpoint
    print(f"configured checkpoint: {configured or '(none: LASSOLABEL_SAM_CHECKPOINT unset)'}")
    return 0


def _download(args: argparse.Namespace, settings: Settings) -> int:
    try:
        path = download_official(args.arch, settings.models_dir)
    except (OSError, ModelUnavailable) as exc:
        print(f"lassolabel: download failed: {exc}", file=sys.stderr)
        return 1
    print(f"{args.arch}: {path} (sha256 verified)")
    return 0


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
    download = actions.add_parser("download", help="download an official checkpoint (resumable)")
    download.add_argument("arch", choices=list(OFFICIAL_CHECKPOINTS), nargs="?", default="vit_b")
    download.set_defaults(handler=_download)
    verify = actions.add_parser("verify", help="check present checkpoints against pinned sha256")
    verify.add_argument("arch", choices=list(OFFICIAL_CHECKPOINTS), nargs="?")
    verify.set_defaults(handler=_verify)
