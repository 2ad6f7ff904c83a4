"""Request and response bodies through pydantic's own JSON parser and encoder, for bodies of a
million ids.

FastAPI decodes a JSON body with json.loads and then validates the Python objects: for an
assign of 1M ids with expected_versions that took 7.3 s on a loaded 2-core box, against
1.3 s for pydantic's model_validate_json on the same bytes. The parse runs in the thread
pool, so the event loop keeps serving other requests meanwhile. The other way, a route's
return value goes through response_model validation and json.dumps: 1.0 s of CPU for the
1M-entry receipt of an assign, against 0.08 s for model_dump_json.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def json_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A dependency giving the request body as `model`; invalid JSON or fields -> 422 like
    FastAPI's own (locations start with "body")."""

    async def parse(request: Request) -> M:
        raw = await request.body()
        try:
            return await run_in_threadpool(model.model_validate_json, raw)
        except ValidationError as exc:
            errors = [
                {**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)
            ]
            raise RequestValidationError(errors) from None

    return parse


def documented(model: type[BaseModel]) -> dict[str, Any]:
    """openapi_extra for a route whose body comes from json_body(model)."""
    schema = {"content": {"application/json": {"schema": model.model_json_schema()}}}
    return {"requestBody": {**schema, "required": True}}


def binary_response(body: bytes) -> Response:
    """Encoded columns (a map, a batch's changes) as an uncached octet stream: they change
    with every label batch."""
    return Response(
        body, media_type="application/octet-stream", headers={"Cache-Control": "no-store"}
    )


def json_response(body: BaseModel) -> Response:
    """`body` as a JSON response, encoded by pydantic (declare the route's response_model too,
    for the API documentation)."""
    return Response(body.model_dump_json(), media_type="application/json")
