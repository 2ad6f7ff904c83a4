"""`lassolabel segment|embed|projection PROJECT`: run a pipeline job here, with a progress bar.

The job is a normal persisted job (visible in the UI's job list); it runs in this process
only, so a server running beside it keeps its own jobs. Ctrl+C cancels it cleanly.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import TYPE_CHECKING

from tqdm import tqdm

from app.config import Settings
from app.errors import DomainError
from app.models import Job
from app.services.projects import find_project

if TYPE_CHECKING:
    from app.context import AppContext

KINDS = {
    "segment": "automatic masks for every image (SAM, or the offline segmenter)",
    "embed": "one embedding vector per segment",
    "projection": "2-D map positions (UMAP) for every embedded segment",
}
# Earlier names still accepted on the command line.
ALIASES = {"projection": ["project"]}


def register(commands: argparse._SubParsersAction) -> None:
    for kind, help_text in KINDS.items():
        parser = commands.add_parser(kind, help=help_text, aliases=ALIASES.get(kind, []))
        parser.add_argument("project", help="project id or exact name")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a job parameter (JSON value), e.g. --param points_per_side=16; repeatable",
        )
        parser.set_defaults(handler=run_job_command, kind=kind)


def parse_params(pairs: list[str]) -> dict[str, object]:
    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--param takes KEY=VALUE, got {pair!r}")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


def run_job_command(args: argparse.Namespace, settings: Settings) -> int:
    from app.bootstrap import build_context, start_services, stop_services

    ctx = build_context(settings)
    try:
        with ctx.db.read() as session:
            project = find_project(session, args.project)
        start_services(ctx, run_jobs=False)
        job = ctx.jobs.create(
            project_id=project.id, kind=args.kind, params=parse_params(args.param), enqueue=False
        )
        return _follow(ctx, job.id, f"{args.kind} {project.name}")
    except DomainError as exc:
        print(f"lassolabel {args.kind}: {exc.message}")
        return 2
    finally:
        stop_services(ctx)


def _follow(ctx: AppContext, job_id: int, title: str) -> int:
    runner = threading.Thread(target=ctx.jobs.run_one, args=(job_id,), daemon=True)
    runner.start()
    with tqdm(desc=title, unit="item") as bar:
        try:
            while runner.is_alive():
                _update(bar, _job(ctx, job_id))
                time.sleep(0.2)
        except KeyboardInterrupt:
            ctx.jobs.cancel(job_id)
            runner.join()
        job = _job(ctx, job_id)
        _update(bar, job)
    print(f"job {job.id}: {job.state.value} ({job.done}/{job.total}, {job.failed_items} failed)")
    if job.error:
        print(f"error: {job.error}")
    return 0 if job.state.value == "succeeded" else 1


def _job(ctx: AppContext, job_id: int) -> Job:
    with ctx.db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _update(bar: tqdm, job: Job) -> None:
    bar.total = job.total or None
    bar.n = job.done
    bar.set_postfix(failed=job.failed_items, refresh=False)
    bar.refresh()
