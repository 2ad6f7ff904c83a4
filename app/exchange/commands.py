"""`lassolabel export`, `lassolabel import` and `lassolabel eval`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.config import Settings
from app.db import Database
from app.errors import DomainError
from app.services.projects import find_project


def _database(settings: Settings) -> Database:
    from app.bootstrap import open_database  # imports every service: only when a command runs

    return open_database(settings)


def _project_id(db: Database, ref: str) -> int:
    with db.read() as session:
        return find_project(session, ref).id


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from app.exchange.export import ExportOptions, export_project
    from app.exchange.sinks import DirSink
    from app.services.image_files import ImageFiles

    db = _database(settings)
    options = ExportOptions(args.include_unlabelled, args.tolerance, not args.no_images)
    summary = export_project(
        db=db, files=ImageFiles(settings), project_id=_project_id(db, args.project),
        fmt=args.format, options=options, sink=DirSink(args.out),
    )  # fmt: skip
    print(f"exported {summary.segments} segments of {summary.images} images to {args.out}")
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from app.exchange.importer import import_annotations

    db = _database(settings)
    report = import_annotations(
        db=db, project_id=_project_id(db, args.project), fmt=args.format,
        payload=args.path, target=args.target,
    )  # fmt: skip
    print(f"imported {report.imported} masks on {report.images} images as {report.target}")
    for item in report.skipped:
        print(f"  skipped {item['item']}: {item['reason']}")
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from app.evaluation.project import evaluate_project
    from app.evaluation.report import eval_dict

    db = _database(settings)
    project_id = _project_id(db, args.project)
    result = eval_dict(evaluate_project(db=db, project_id=project_id))
    print(result["table"])
    if args.noc:
        result["effort"] = _effort(settings, db, project_id, args)
    if args.labelling:
        result["labelling"] = _labelling(db, project_id)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


def _effort(settings: Settings, db: Database, project_id: int, args) -> dict[str, object]:
    """NoC through the app's own inference worker (cache, model, decoder) on the same data."""
    from app.bootstrap import running_context
    from app.evaluation.effort import ground_truth_objects, measure_effort
    from app.evaluation.predictors import WorkerPredictor
    from app.pipeline.worker import image_loader
    from app.services.images import get_image

    with running_context(settings) as ctx:
        worker = ctx.require_model()

        def predictor_for(image_id: int) -> WorkerPredictor:
            with ctx.db.read() as session:
                image = get_image(session, image_id)
            return WorkerPredictor(worker, image.sha256, image_loader(ctx, image))

        summary = measure_effort(
            ground_truth_objects(db, project_id), predictor_for,
            max_clicks=args.max_clicks, limit=args.limit,
        )  # fmt: skip
    figures = summary.as_dict()
    print(
        "  ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()
        )
    )
    return figures


def _labelling(db: Database, project_id: int) -> dict[str, object]:
    """Actions spent so far and segments correctly labelled (app/evaluation/labelling.py)."""
    from app.evaluation.labelling import labelling_progress

    figures = labelling_progress(db=db, project_id=project_id).as_dict()
    print("labelling " + " ".join(
        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
    ))  # fmt: skip
    return figures


def register(commands: argparse._SubParsersAction) -> None:
    from app.exchange.export import FORMATS
    from app.exchange.importer import IMPORT_FORMATS

    export = commands.add_parser("export", help="export a project's labels to a folder")
    export.add_argument("project", help="project id or name")
    export.add_argument("--format", choices=FORMATS, required=True)
    export.add_argument("--out", type=Path, required=True, help="output folder")
    export.add_argument("--include-unlabelled", action="store_true")
    export.add_argument("--tolerance", type=float, default=0.0, help="polygon simplification, px")
    export.add_argument("--no-images", action="store_true", help="annotations only")
    export.set_defaults(handler=_guarded(_export))

    imp = commands.add_parser("import", help="import COCO / YOLO-seg annotations")
    imp.add_argument("project", help="project id or name")
    imp.add_argument("path", type=Path, help="COCO .json, a zip, or a YOLO folder")
    imp.add_argument("--format", choices=IMPORT_FORMATS, default="coco")
    imp.add_argument("--as", dest="target", choices=("labels", "ground-truth"), default="labels")
    imp.set_defaults(handler=_guarded(_import))

    ev = commands.add_parser("eval", help="score labels against the imported ground truth")
    ev.add_argument("project", help="project id or name")
    ev.add_argument("--noc", action="store_true", help="also simulate clicks (NoC@85/90)")
    ev.add_argument(
        "--labelling", action="store_true",
        help="also report label actions spent and the share of segments correctly labelled",
    )  # fmt: skip
    ev.add_argument("--max-clicks", type=int, default=20)
    ev.add_argument("--limit", type=int, default=None, help="at most this many objects")
    ev.add_argument("--json", type=Path, help="also write the figures here")
    ev.set_defaults(handler=_guarded(_eval))


def _guarded(command):
    """Domain errors become a one-line message and exit status 2."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return command(args, settings)
        except DomainError as exc:
            print(f"lassolabel: {exc.message}")
            return 2

    return run
