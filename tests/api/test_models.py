"""models.list / models.get: every catalog name, pagination, the Model resource fields."""

import pytest

from genserve.api.versions import API_VERSIONS


async def test_get_model_reports_limits_methods_and_defaults(client):
    r = await client.get("/v1beta/models/gemini-2.0-flash")
    assert r.status_code == 200
    m = r.json()
    assert m["name"] == "models/gemini-2.0-flash"
    assert m["inputTokenLimit"] == 6144 and m["outputTokenLimit"] == 1024
    assert m["supportedGenerationMethods"] == ["generateContent", "streamGenerateContent", "countTokens"]
    assert (m["temperature"], m["topP"], m["topK"]) == (1.0, 0.95, 64)
    assert m["displayName"] and m["description"] and m["version"]
    embed = (await client.get("/v1/models/gemini-embedding-001")).json()
    assert "batchEmbedContents" in embed["supportedGenerationMethods"] and "temperature" not in embed


async def test_list_models_pages_through_every_name(client, catalog):
    seen, token = [], ""
    for _ in range(20):
        r = await client.get("/v1/models", params={"pageSize": 4, "pageToken": token})
        assert r.status_code == 200
        body = r.json()
        assert len(body["models"]) <= 4
        seen += [m["name"] for m in body["models"]]
        token = body.get("nextPageToken", "")
        if not token:
            break
    assert seen == [f"models/{n}" for n in catalog.names()]


async def test_bad_page_token_is_invalid_argument(client):
    r = await client.get("/v1/models", params={"pageToken": "zzz"})
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize("version", API_VERSIONS)
async def test_every_api_version_serves_the_same_models(client, version):
    r = await client.get(f"/{version}/models/gemini-2.5-pro")
    assert r.status_code == 200 and r.json()["name"] == "models/gemini-2.5-pro"


async def test_unknown_model_is_not_found_envelope(client):
    r = await client.get("/v1beta/models/gemini-9")
    assert r.status_code == 404
    assert r.json()["error"]["status"] == "NOT_FOUND" and "gemini-9" in r.json()["error"]["message"]
