"""/openapi.json describes the API as it is: bodies, every path parameter, Google's error envelope (api/openapi.py)."""

import re

import schemathesis
from fastapi.routing import APIRoute

from genserve.api import routes_embed, routes_files, routes_generate, routes_models, routes_operations, routes_predict

ROUTERS = (routes_models, routes_generate, routes_predict, routes_operations, routes_embed, routes_files)


def parsed_bodies() -> dict[tuple[str, str], str]:
    """(path inside its router, method) -> the model its `json_body` dependency parses, read off the routers."""
    found = {}
    for module in ROUTERS:
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            for dependency in route.dependant.dependencies:
                if model := getattr(dependency.call, "body_model", None):
                    found.update({(route.path, method.lower()): model.__name__ for method in route.methods})
    return found


async def test_every_body_parsing_route_declares_its_body_and_every_path_parameter(client):
    doc = (await client.get("/openapi.json")).json()
    operations = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]
    assert len(operations) > 100
    bodies = parsed_bodies()
    assert {end.rpartition(":")[2] for end, _ in bodies} >= {"generateContent", "countTokens", "predictLongRunning"}
    with_body = 0
    for path, method, op in operations:
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert set(re.findall(r"{(\w+)}", path)) == declared, (method, path)
        assert all(p["required"] for p in op.get("parameters", []) if p["in"] == "path")
        # Each router is mounted under several prefixes (/v1beta, /v1/projects/{project}/...): match the ends.
        model = next((m for (end, verb), m in bodies.items() if verb == method and path.endswith(end)), None)
        if model is not None:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{model}"}, (method, path)
            with_body += 1
        elif path != "/upload/{version}/files":
            assert "requestBody" not in op, (method, path)
        assert "422" not in op["responses"]  # errors are Google's envelope, a 400
        assert op["responses"]["default"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse")
    assert with_body == len(bodies) * 7  # three API versions, two Vertex versions with two prefixes each


async def test_the_document_is_valid_openapi_3_1_with_the_wire_names_and_enforced_ranges(client):
    doc = (await client.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(doc).validate()  # against the OpenAPI 3.1 meta-schema
    schemas = doc["components"]["schemas"]
    text = str(doc)
    assert "$defs" not in text and "HTTPValidationError" not in text
    for ref in re.findall(r"'\$ref': '([^']+)'", text):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    config = schemas["GenerationConfig"]["properties"]
    assert config["topK"]["anyOf"][0]["maximum"] == 2**31 - 1
    assert "responseMimeType" in config and "generationConfig" in schemas["GenerateContentRequest"]["properties"]


async def test_uploads_are_described(client):
    upload = (await client.get("/openapi.json")).json()["paths"]["/upload/{version}/files"]["post"]
    content = upload["requestBody"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/CreateFileRequest"}
    names = {(p["in"], p["name"]) for p in upload["parameters"]}
    assert {("path", "version"), ("header", "X-Goog-Upload-Protocol"), ("query", "upload_id")} <= names
