"""Over a real socket: an error, even an unexpected one, leaves the client's keep-alive connection usable.

Before, every 500 made uvicorn close the connection (Starlette re-raised after answering), so the next request a
client pooled on it failed with a connection reset."""

import socket

import pytest

from tests.conftest import LiveServer, make_settings

pytestmark = pytest.mark.live


def exchange(sock: socket.socket, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    """One HTTP/1.1 request on an open connection, and its status and body (read by Content-Length)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n\r\n"
    sock.sendall(head.encode() + body)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    header, _, rest = data.partition(b"\r\n\r\n")
    lines = header.decode().split("\r\n")
    length = next(int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length:"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        rest += chunk
    return int(lines[0].split()[1]), rest


@pytest.fixture
def server(catalog, tmp_path):
    with LiveServer(make_settings(tmp_path), catalog) as live:

        async def bug() -> dict:
            raise RuntimeError("an unexpected failure at /srv/secret/path")

        live.server.config.app.add_api_route("/v1beta/bug", bug, methods=["GET"])
        yield live


def test_errors_keep_the_connection(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        status, body = exchange(sock, "GET", "/v1beta/bug")
        assert status == 500 and b'"status":"INTERNAL"' in body and b"/srv/secret" not in body
        status, body = exchange(sock, "POST", "/v1beta/models/scripted:generateContent", b'{"contents":"\\ud800"}')
        assert status == 400 and b"surrogate" in body
        status, body = exchange(sock, "POST", "/v1beta/models/scripted:generateContent", b'{"contents":"hi"}')
        assert status == 200 and b"Hello from genserve." in body
