"""Over a real socket: clients that send slowly are cut off (api/http_server.py), steady ones are not."""

import socket
import time

import pytest

from tests.conftest import LiveServer, make_settings

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server(catalog, tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("slow"), header_timeout_s=0.5, body_timeout_s=0.5)
    with LiveServer(settings, catalog) as live:
        yield live


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def post_head(path: str, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_headers_that_never_finish_get_408_and_the_connection_closes(server):
    with connect(server) as sock:
        sock.sendall(b"POST /v1beta/models/scripted:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        start = time.monotonic()
        reply = read_all(sock)  # returns once the server closes
    assert reply.startswith(b"HTTP/1.1 408") and b'"DEADLINE_EXCEEDED"' in reply
    assert time.monotonic() - start < 5


def test_twenty_slow_connections_are_all_closed(server):
    socks = [connect(server) for _ in range(20)]
    try:
        for sock in socks:
            sock.sendall(b"GET /v1beta/models HTTP/1.1\r\n")
        for sock in socks:
            assert read_all(sock).startswith(b"HTTP/1.1 408")
    finally:
        for sock in socks:
            sock.close()
    with connect(server) as sock:  # and the server still serves
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 200")


def test_a_body_shorter_than_its_content_length_gets_408(server):
    with connect(server) as sock:
        head = (
            b"POST /v1beta/models/scripted:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n"
        )
        sock.sendall(head + b'{"contents":')
        reply = read_all(sock)
    assert reply.startswith(b"HTTP/1.1 408") and b"body" in reply


def test_a_slow_but_steady_body_is_served(server):
    body = b'{"contents":"' + b"x" * 40 + b'"}'
    with connect(server) as sock:
        sock.sendall(post_head("/v1beta/models/scripted:generateContent", len(body)))
        for i in range(0, len(body), 10):  # 1.2 s in all, never 0.5 s without a byte
            time.sleep(0.3)
            sock.sendall(body[i : i + 10])
        reply = read_all(sock)
    assert reply.startswith(b"HTTP/1.1 200") and b"Hello from genserve." in reply


def test_a_long_stream_is_not_cut(server):
    # scripted-slow streams 400 chunks 20 ms apart: 8 s, far past both limits.
    with connect(server) as sock:
        body = b'{"contents":"x"}'
        sock.sendall(post_head("/v1beta/models/scripted-slow:streamGenerateContent?alt=sse", len(body)) + body)
        reply = read_all(sock)
    assert reply.startswith(b"HTTP/1.1 200") and reply.count(b"data: ") == 400
