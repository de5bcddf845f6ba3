"""/openapi.json describes the API as it is: request bodies and every path parameter (api/openapi.py)."""

import re


async def test_every_json_route_declares_its_body_and_every_path_parameter(client):
    doc = (await client.get("/openapi.json")).json()
    operations = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]
    assert len(operations) > 100
    for path, method, op in operations:
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert set(re.findall(r"{(\w+)}", path)) <= declared, (method, path)
    bodies = {path.rpartition(":")[2]: op.get("requestBody") for path, method, op in operations if method == "post"}
    for method in ("generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents",
                   "predict", "predictLongRunning", "fetchPredictOperation"):  # fmt: skip
        schema = bodies[method]["content"]["application/json"]["schema"]
        assert schema["$ref"].rpartition("/")[2] in doc["components"]["schemas"]
    config = doc["components"]["schemas"]["GenerationConfig"]["properties"]
    assert config["topK"]["anyOf"][0]["maximum"] == 2**31 - 1  # the wire names, with the ranges the server enforces
