"""URLs the server hands out name the server, never a Host header a client made up (api/public_url.py)."""

import pytest

from genserve.api.public_url import host_for
from genserve.settings import Settings
from tests.api.test_operation_polls import CountingGets
from tests.api.test_videos import VEO2, submit, wait
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


def scope(server: tuple[str, int | None] | None, host: str, scheme: str = "http") -> dict:
    return {"type": "http", "scheme": scheme, "server": server, "headers": [(b"host", host.encode())]}


@pytest.mark.parametrize(
    ("server", "host", "expected"),
    [
        (("127.0.0.1", 8000), "evil.example", "127.0.0.1:8000"),
        (("127.0.0.1", 8000), "evil.example:8000", "127.0.0.1:8000"),
        (("127.0.0.1", 8000), "localhost:8000", "localhost:8000"),  # a loopback name for this very socket: kept
        (("127.0.0.1", 8000), "LOCALHOST:8000", "localhost:8000"),
        (("127.0.0.1", 8000), "localhost:9000", "127.0.0.1:8000"),  # another port is another server
        (("127.0.0.1", 8000), "localhost", "127.0.0.1:8000"),  # no port means 80, not this socket
        (("10.0.0.5", 8000), "localhost:8000", "10.0.0.5:8000"),  # not a loopback socket: localhost is not it
        (("10.0.0.5", 8000), "10.0.0.5:8000", "10.0.0.5:8000"),
        (("10.0.0.5", 80), "10.0.0.5", "10.0.0.5"),  # the default port may be left out
        (("::1", 8000), "[::1]:8000", "[::1]:8000"),
        (("::1", 8000), "evil.example", "[::1]:8000"),
        (None, "evil.example", "localhost"),
    ],
)
def test_the_host_is_the_socket_the_client_reached(server, host, expected, tmp_path):
    assert host_for(scope(server, host), Settings(data_dir=tmp_path)) == expected


def test_public_url_wins_over_the_socket(tmp_path):
    settings = Settings(data_dir=tmp_path, public_url="https://gemini.example.com:8443/")
    assert host_for(scope(("127.0.0.1", 8000), "localhost:8000"), settings) == "gemini.example.com:8443"


async def test_operation_answers_name_this_server_and_forged_hosts_share_one_kept_answer(client):
    name = await submit(client, VEO2, {"prompt": "a wave"}, durationSeconds=5)
    await wait(client, name)
    await client.get(f"/v1beta/{name}")  # rendered and kept
    gets = CountingGets(client.app.state.services.operations)
    for i in range(20):
        r = await client.get(f"/v1beta/{name}", headers={"host": f"evil{i}.example"})
        assert r.status_code == 200 and "evil" not in r.text
        assert "https://genserve.test/v1beta/files/" in r.text
    assert gets.calls == 0  # one server name, one kept answer: forged hosts neither miss nor crowd it out
