from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

from app.deps import ContextDep
from app.schemas.common import Health

router = APIRouter(tags=["health"])


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


@router.get("/api/health", response_model=Health)
def health(ctx: ContextDep) -> Health:
    segmenter = ctx.inference.describe()
    if ctx.model_fetch is not None:
        segmenter["fetch"] = ctx.model_fetch.describe()
    return Health(
        status="ok",
        version=_version("lassolabel"),
        versions={
            "python": platform.python_version(),
            **{
                name: _version(name)
                for name in ("fastapi", "sqlalchemy", "torch", "segment-anything")
            },
        },
        segmenter=segmenter,
    )
