"""Over a real socket: the upload URL names the socket the client reached (api/public_url.py), and it works."""

import httpx
import pytest

pytestmark = pytest.mark.live

START = {"x-goog-upload-protocol": "resumable", "x-goog-upload-command": "start"}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "localhost:{port}", None])
def test_the_upload_url_names_this_server_and_the_sdk_can_follow_it(live, host):
    headers = {**START, "host": host.format(port=live.port)} if host else START
    with httpx.Client(timeout=10) as client:
        r = client.post(f"{live.url}/upload/v1beta/files", json={"file": {}}, headers=headers)
        assert r.status_code == 200, r.text
        session = r.headers["x-goog-upload-url"]
        expected = f"http://localhost:{live.port}/" if host and host.startswith("localhost") else f"{live.url}/"
        assert session.startswith(expected + "upload/v1beta/files?upload_id=")
        finish = {"x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0"}
        r = client.post(session, content=b"hello", headers=finish)
    assert r.status_code == 200 and "evil" not in r.text
    assert r.json()["file"]["uri"].startswith(f"https://{expected.removeprefix('http://')}v1beta/files/")
