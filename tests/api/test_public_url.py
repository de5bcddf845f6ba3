"""URLs the server hands out name the server, never a Host header a client made up (api/public_url.py)."""

import pytest

from tests.conftest import app_client, make_settings

START = {"x-goog-upload-protocol": "resumable", "x-goog-upload-command": "start"}


async def upload(client, headers=None) -> tuple[str, dict]:
    """A resumable upload: the session URL it was given, and the finished file."""
    r = await client.post(
        "/upload/v1beta/files", json={"file": {"displayName": "n"}}, headers={**START, **(headers or {})}
    )
    assert r.status_code == 200, r.text
    session = r.headers["x-goog-upload-url"]
    path = session.split("://", 1)[1].partition("/")[2]
    r = await client.post(
        "/" + path, content=b"hello", headers={"x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0"}
    )
    assert r.status_code == 200, r.text
    return session, r.json()["file"]


async def test_a_forged_host_header_is_never_reflected(client):
    evil = {"host": "evil.example"}
    session, file = await upload(client, evil)
    listed = (await client.get("/v1beta/files", headers=evil)).text
    got = (await client.get(f"/v1beta/{file['name']}", headers=evil)).text
    for text in (session, file["uri"], listed, got):
        assert "evil.example" not in text
    assert session.startswith("http://genserve.test/upload/v1beta/files?upload_id=")
    assert file["uri"].startswith("https://genserve.test/v1beta/files/")


async def test_the_host_the_client_connected_to_is_kept(client):
    session, file = await upload(client)
    assert session.startswith("http://genserve.test/") and file["uri"].startswith("https://genserve.test/")


async def test_public_url_names_the_server_behind_a_proxy(catalog, tmp_path):
    settings = make_settings(tmp_path, public_url="https://gemini.example.com")
    async with app_client(catalog, settings) as client:
        session, file = await upload(client, {"host": "internal:8080"})
    assert session.startswith("https://gemini.example.com/upload/v1beta/files?upload_id=")
    assert file["uri"].startswith("https://gemini.example.com/v1beta/files/")


@pytest.mark.parametrize("value", ["gemini.example.com", "https://x.example/path", "https://user@x.example"])
def test_public_url_must_be_an_origin(value, tmp_path):
    with pytest.raises(ValueError):
        make_settings(tmp_path, public_url=value)
