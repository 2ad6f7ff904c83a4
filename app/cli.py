"""The `lassolabel` command: serve the app, migrate the database, manage models and jobs."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from app.config import Settings

Command = Callable[[argparse.Namespace, Settings], int]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from app.auth.hosts import UnsafeBinding, ensure_safe_binding

    settings = settings.model_copy(
        update={"host": args.host or settings.host, "port": args.port or settings.port}
    )
    print(
        f"lassolabel: serving http://{settings.host}:{settings.port} (data in {settings.data_dir})"
    )
    try:
        ensure_safe_binding(settings)  # create_app checks too; this refuses before torch loads
    except UnsafeBinding as refused:
        print(f"lassolabel: refusing to start: {refused}", file=sys.stderr)
        return 2
    from app.main import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=False,
        # Open event streams would otherwise hold a graceful shutdown forever.
        timeout_graceful_shutdown=3,
    )
    return 0


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from app import migrate

    settings.ensure_dirs()
    if args.action == "upgrade":
        migrate.upgrade(settings.resolved_database_url)
        print(f"database at head: {settings.resolved_database_url}")
    else:
        migrate.current(settings.resolved_database_url)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lassolabel",
        description="Self-hosted segmentation labelling: SAM clicks, UMAP lasso, batch labels.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate the database and start the web server")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1; 0.0.0.0 for the LAN)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(handler=_db)

    for register in _extra_commands():
        register(commands)
    return parser


def _extra_commands() -> list[Callable[[argparse._SubParsersAction], None]]:
    """Sub-commands contributed by subsystems (models, jobs...), registered in one list."""
    from app.auth.cli import register as register_users
    from app.exchange import commands as exchange_commands
    from app.inference import commands as model_commands
    from app.pipeline import commands as pipeline_commands

    registrars: list[Callable[[argparse._SubParsersAction], None]] = [
        exchange_commands.register,
        register_users,
        model_commands.register,
        pipeline_commands.register,
    ]
    return registrars


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    handler: Command = args.handler
    return handler(args, settings)


if __name__ == "__main__":
    sys.exit(main())
