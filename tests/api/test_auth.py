"""API keys: refused the way Google refuses; accepted from the header, ?key= or a Bearer token."""

import httpx
import pytest

from genserve.app import create_app
from tests.conftest import make_settings

URL = "/v1beta/models/scripted:generateContent"


@pytest.fixture
async def keyed(catalog, tmp_path):
    app = create_app(make_settings(tmp_path, api_keys=["good-key", "second"]), catalog)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_missing_key_is_permission_denied(keyed):
    r = await keyed.post(URL, json={"contents": "x"})
    assert r.status_code == 403 and r.json()["error"]["status"] == "PERMISSION_DENIED"
    assert (await keyed.get("/v1/models")).status_code == 403


async def test_wrong_key_is_api_key_invalid(keyed):
    r = await keyed.post(URL, json={"contents": "x"}, headers={"x-goog-api-key": "bad"})
    error = r.json()["error"]
    assert r.status_code == 400 and error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert error["details"][0]["reason"] == "API_KEY_INVALID"


@pytest.mark.parametrize(
    ("headers", "params"),
    [({"x-goog-api-key": " good-key "}, {}), ({}, {"key": "second"}), ({"authorization": "Bearer good-key"}, {})],
)
async def test_each_way_of_sending_a_valid_key_works(keyed, headers, params):
    r = await keyed.post(URL, json={"contents": "x"}, headers=headers, params=params)
    assert r.status_code == 200, r.text


async def test_without_configured_keys_any_key_or_none_is_accepted(client):
    assert (await client.post(URL, json={"contents": "x"})).status_code == 200
    assert (await client.post(URL, json={"contents": "x"}, headers={"x-goog-api-key": "anything"})).status_code == 200


def test_keys_from_the_environment_are_comma_separated(monkeypatch):
    from genserve.settings import Settings

    monkeypatch.setenv("GENSERVE_API_KEYS", "a, b,,c")
    assert Settings().api_keys == ["a", "b", "c"]
