"""The OpenAPI document at /openapi.json, with the request bodies, parameters and errors the routes really have."""

from __future__ import annotations

import re
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from genserve.api.versions import API_VERSIONS
from genserve.schemas.files import CreateFileRequest

_REF = "#/components/schemas/{model}"
_ERROR = "ErrorResponse"  # Google's envelope: {"error": {"code", "message", "status", "details"}}
_UPLOAD = "/upload/{version}/files"


def install(app: FastAPI) -> None:
    """Serves `document(app)`, built once on first use (every route is in place by then)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(app: FastAPI) -> dict[str, Any]:
    # FastAPI's own document misses what it cannot see: routes read their JSON bodies through api/body.py's
    # `json_body` (any Content-Type accepted, errors in Google's form); routers are mounted under prefixes whose
    # parameters (Vertex AI's project and location) no handler names; uploads read headers and bodies by hand; and
    # errors are Google's envelope with a 400, never FastAPI's 422. Clients and schema fuzzers need all of it.
    doc = get_openapi(title=app.title, version=app.version, routes=app.routes)
    paths: dict[str, dict[str, Any]] = doc["paths"]
    bodies = [
        (route.path_format, method.lower(), model)
        for route in _api_routes(app)
        if route.include_in_schema and route.path_format in paths
        if (model := _body_model(route.dependant)) is not None
        for method in route.methods
    ]
    models = sorted({m for _, _, m in bodies} | {CreateFileRequest}, key=lambda m: m.__qualname__)
    # All together, so that two models of the same name (schemas has two `Status`) get distinct components.
    refs, defs = models_json_schema([(m, "validation") for m in models], by_alias=True, ref_template=_REF)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)  # only for FastAPI's 422, which this server never sends (errors.py)
    schemas.pop("ValidationError", None)
    schemas.update(defs.get("$defs", {}))
    for path, method, model in bodies:
        paths[path][method]["requestBody"] = _json_body(refs[(model, "validation")])
    if _UPLOAD in paths:
        _describe_upload(paths[_UPLOAD]["post"], refs[(CreateFileRequest, "validation")])
    for path, item in paths.items():
        for operation in item.values():
            _declare_path_parameters(operation, path)
            if path.endswith(":streamGenerateContent"):
                _add_parameter(operation, "alt", "query", {"type": "string", "enum": ["sse", "json"]})
            _declare_errors(operation)
    if _ERROR in schemas:
        raise RuntimeError(f"a wire model is named {_ERROR}; rename the error envelope's component")
    schemas[_ERROR] = _ERROR_SCHEMA
    return doc


def _api_routes(app: FastAPI) -> list[Any]:
    """Every API route under its full path. FastAPI >= 0.160 keeps an included router whole (iter_route_contexts
    walks it, each route seen with its prefix); older versions copied the routes into app.routes."""
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(walk(app.routes)) if walk is not None else list(app.routes)
    return [r for r in routes if isinstance(getattr(r, "original_route", r), APIRoute)]


def _body_model(dependant: Dependant) -> type[BaseModel] | None:
    """The model of the `json_body` parser among the route's dependencies, however deep."""
    for dependency in dependant.dependencies:
        model = getattr(dependency.call, "body_model", None) or _body_model(dependency)
        if model is not None:
            return model
    return None


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    # An empty body reads as `{}` (api/body.py), so the body is optional on the wire.
    return {"required": False, "content": {"application/json": {"schema": schema}}}


def _add_parameter(operation: dict[str, Any], name: str, where: str, schema: dict[str, Any], **extra: Any) -> None:
    parameters = operation.setdefault("parameters", [])
    if not any(p["name"] == name and p["in"] == where for p in parameters):
        parameters.append({"name": name, "in": where, "schema": schema, **extra})


def _declare_path_parameters(operation: dict[str, Any], path: str) -> None:
    for name in re.findall(r"{(\w+)}", path):
        _add_parameter(operation, name, "path", {"type": "string"}, required=True)


def _declare_errors(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    envelope = {"application/json": {"schema": {"$ref": _REF.format(model=_ERROR)}}}
    responses["default"] = {"description": "An error, in Google's envelope", "content": envelope}


def _describe_upload(operation: dict[str, Any], metadata: dict[str, Any]) -> None:
    """POST /upload/{version}/files (api/routes_upload.py): a resumable start whose body is the file's metadata,
    its chunks (`upload_id`), or a single-request upload whose body is the file (multipart/related carries the
    metadata first: a form that OpenAPI cannot describe, so only its raw form is listed)."""
    operation["description"] = (
        "Resumable start (X-Goog-Upload-Protocol: resumable, X-Goog-Upload-Command: start, body: the metadata), "
        "its chunks (?upload_id=), or a single-request upload of the file itself (raw, or multipart/related with "
        "the metadata as its first part)."
    )
    operation["requestBody"] = {
        "required": False,
        "content": {
            "application/json": {"schema": metadata},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
    for parameter in operation.get("parameters", []):
        if parameter["name"] == "version":  # any other answers 404
            parameter["schema"] = {"type": "string", "enum": list(API_VERSIONS)}
    text = {"type": "string"}
    digits = {"type": "string", "pattern": "^[0-9]{1,19}$"}
    commands = ["start", "upload", "finalize", "upload, finalize", "query"]
    for name, where, schema in (
        ("X-Goog-Upload-Protocol", "header", {"type": "string", "enum": ["resumable", "multipart", "raw"]}),
        ("X-Goog-Upload-Command", "header", {"type": "string", "enum": commands}),
        ("X-Goog-Upload-Header-Content-Length", "header", digits),
        ("X-Goog-Upload-Header-Content-Type", "header", text),
        ("X-Goog-Upload-File-Name", "header", text),
        ("X-Goog-Upload-Offset", "header", digits),
        ("upload_id", "query", text),
        ("uploadType", "query", {"type": "string", "enum": ["resumable", "multipart", "media"]}),
    ):
        _add_parameter(operation, name, where, schema)


_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "status"],
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "status": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}
