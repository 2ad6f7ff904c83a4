"""The browser app: Jinja2 page shells and static ES modules, served by FastAPI itself."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

import frontend

FRONTEND_DIR = Path(frontend.__file__).parent


def mount_frontend(app: FastAPI) -> None:
    templates = Jinja2Templates(
        directory=FRONTEND_DIR / "templates"
    )  # autoescapes .html by default
    app.mount("/static", StaticFiles(directory=FRONTEND_DIR / "static"), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "index.html", {"page": "projects"})

    @app.get("/projects/{project_id}", response_class=HTMLResponse, include_in_schema=False)
    def project_page(request: Request, project_id: int) -> HTMLResponse:
        return templates.TemplateResponse(
            request, "project.html", {"page": "project", "project_id": project_id}
        )
