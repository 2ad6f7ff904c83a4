"""The browser app: Jinja2 page shells and static ES modules, served by FastAPI itself.

No build step: the shells load ES modules directly and the one vendored library
(onnxruntime-web, frontend/vendor.sh) by its path, so `make run` serves the UI as it is on disk.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import frontend
from app.deps import IdPath
from app.similar.exemplar_job import DEFAULT_MIN_SCORE

FRONTEND_DIR = Path(frontend.__file__).parent

# Cross-origin isolation: SharedArrayBuffer, hence multi-threaded onnxruntime-web, needs both.
# Everything the pages load is same-origin, which require-corp allows without CORP headers.
ISOLATION_HEADERS = [
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-embedder-policy", b"require-corp"),
]


class CrossOriginIsolation:
    """ASGI middleware adding the COOP/COEP headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_isolated(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *ISOLATION_HEADERS]
            await send(message)

        await self.app(scope, receive, send_isolated)


def mount_frontend(app: FastAPI) -> None:
    """Serve /static and the page shells: /, /projects/{id}, .../annotate, .../map, .../review."""
    templates = Jinja2Templates(directory=FRONTEND_DIR / "templates")  # autoescapes .html
    app.add_middleware(CrossOriginIsolation)
    app.mount("/static", StaticFiles(directory=FRONTEND_DIR / "static"), name="static")

    def page(request: Request, template: str, **context: object) -> HTMLResponse:
        return templates.TemplateResponse(request, template, {"page": template[:-5], **context})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def projects_page(request: Request) -> HTMLResponse:
        return page(request, "projects.html")

    @app.get("/admin", response_class=HTMLResponse, include_in_schema=False)
    def admin_page(request: Request) -> HTMLResponse:
        return page(request, "admin.html")

    @app.get("/projects/{project_id}", response_class=HTMLResponse, include_in_schema=False)
    def project_page(request: Request, project_id: IdPath) -> HTMLResponse:
        return page(request, "project.html", project_id=project_id)

    @app.get(
        "/projects/{project_id}/annotate", response_class=HTMLResponse, include_in_schema=False
    )
    def annotate_page(request: Request, project_id: IdPath) -> HTMLResponse:
        return page(request, "annotate.html", project_id=project_id)

    @app.get("/projects/{project_id}/map", response_class=HTMLResponse, include_in_schema=False)
    def map_page(request: Request, project_id: IdPath) -> HTMLResponse:
        return page(request, "map.html", project_id=project_id)

    @app.get("/projects/{project_id}/history", response_class=HTMLResponse, include_in_schema=False)
    def history_page(request: Request, project_id: IdPath) -> HTMLResponse:
        return page(request, "history.html", project_id=project_id)

    @app.get("/projects/{project_id}/review", response_class=HTMLResponse, include_in_schema=False)
    def review_page(request: Request, project_id: IdPath) -> HTMLResponse:
        return page(request, "review.html", project_id=project_id, min_score=DEFAULT_MIN_SCORE)
