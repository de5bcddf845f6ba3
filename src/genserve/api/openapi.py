"""The OpenAPI document at /openapi.json, with the request bodies and path parameters the routes really take.

Routes read their JSON bodies through api/body.py's `json_body` (any Content-Type is accepted, errors take Google's
form), which FastAPI cannot see, and routers are mounted under prefixes whose parameters (Vertex AI's project and
location) no handler names. Both are added here, so that clients and schema fuzzers see the real API."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

_REF = "#/components/schemas/{model}"


def install(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """`routers`: the routers mounted under the version prefixes, whose routes carry the body parsers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app, routers)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(app: FastAPI, routers: Sequence[APIRouter]) -> dict[str, Any]:
    doc = get_openapi(title=app.title, version=app.version, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    bodies = {
        (route.path, method.lower()): model
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and (model := _body_model(route)) is not None
        for method in route.methods
    }
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            _declare_path_parameters(operation, path)
            # A route is mounted under prefixes (/v1beta, /v1/publishers/google, ...): its path ends the full one.
            model = next((m for (end, verb), m in bodies.items() if verb == method and path.endswith(end)), None)
            if model is not None:
                schema = {"$ref": _REF.format(model=model.__name__)}
                operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
                _add_component(schemas, model)
    return doc


def _body_model(route: APIRoute) -> type[BaseModel] | None:
    for dependency in route.dependant.dependencies:
        model = getattr(dependency.call, "body_model", None)
        if model is not None:
            return model
    return None


def _declare_path_parameters(operation: dict[str, Any], path: str) -> None:
    parameters = operation.setdefault("parameters", [])
    declared = {p["name"] for p in parameters if p.get("in") == "path"}
    for name in re.findall(r"{(\w+)}", path):
        if name not in declared:
            parameters.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})


def _add_component(schemas: dict[str, Any], model: type[BaseModel]) -> None:
    if model.__name__ in schemas:
        return
    schema = model.model_json_schema(by_alias=True, ref_template=_REF, mode="validation")
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas[model.__name__] = schema
