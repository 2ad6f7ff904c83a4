"""The browser app: Jinja2 page shells and static ES modules, served by FastAPI itself.

No build step: the shells load ES modules directly, and vendored libraries are wired with an
import map (see frontend/templates/base.html), so `make run` serves the UI as it is on disk.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

import frontend
from app.deps import IdPath

FRONTEND_DIR = Path(frontend.__file__).parent


def mount_frontend(app: FastAPI) -> None:
    """Serve /static and the page shells: /, /projects/{id}, .../annotate, .../map."""
    templates = Jinja2Templates(directory=FRONTEND_DIR / "templates")  # autoescapes .html
    app.mount("/static", StaticFiles(directory=FRONTEND_DIR / "static"), name="static")

    def page(request: Request, template: str, **context: object) -> HTMLResponse:
        return templates.TemplateResponse(request, template, {"page": template[:-5], **context})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def projects_page(request: Request) -> HTMLResponse:
        return page(request, "projects.html")

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
