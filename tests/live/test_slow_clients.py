"""Over a real socket: clients that send slowly are cut off (api/http_server.py), steady ones are not."""

import asyncio
import socket
import time

import pytest
from fastapi import Request

from tests.conftest import LiveServer, make_settings

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server(catalog, tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("slow"), header_timeout_s=0.5, body_timeout_s=0.5)
    with LiveServer(settings, catalog) as live:

        async def slow_reader(request: Request) -> dict:
            await asyncio.sleep(1.5)  # busy before it reads: the unread body stops the server reading the socket
            return {"size": len(await request.body())}

        live.server.config.app.add_api_route("/v1beta/slow-reader", slow_reader, methods=["POST"])
        yield live


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def post_head(path: str, length: int, close: bool = True) -> bytes:
    connection = "Connection: close\r\n" if close else ""
    return f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n{connection}\r\n".encode()


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


def test_slow_headers_after_an_answered_request_get_408_too(server):
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /health HTTP/1.1\r\n")
        reply = read_all(sock)
    first, _, second = reply.partition(b"HTTP/1.1 408")
    assert first.startswith(b"HTTP/1.1 200") and b'"DEADLINE_EXCEEDED"' in second


def test_a_connection_that_never_sends_a_request_is_closed_without_an_answer(server):
    with connect(server) as sock:
        start = time.monotonic()
        assert read_all(sock) == b""  # nothing was asked, so nothing is answered: the connection just closes
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
    deadline = time.monotonic() + 5
    while server.server.server_state.tasks:  # the handler that waited for the rest of the body has ended
        assert time.monotonic() < deadline, "a request task is still running"
        time.sleep(0.05)


def test_a_slow_but_steady_body_is_served(server):
    body = b'{"contents":"' + b"x" * 40 + b'"}'
    with connect(server) as sock:
        sock.sendall(post_head("/v1beta/models/scripted:generateContent", len(body)))
        for i in range(0, len(body), 10):  # 1.2 s in all, never 0.5 s without a byte
            time.sleep(0.3)
            sock.sendall(body[i : i + 10])
        reply = read_all(sock)
    assert reply.startswith(b"HTTP/1.1 200") and b"Hello from genserve." in reply


def test_a_handler_slow_to_read_its_body_is_not_the_clients_fault(server):
    body = b"x" * 1_000_000  # far past what uvicorn buffers before it stops reading (64 KiB)
    with connect(server) as sock:
        sock.sendall(post_head("/v1beta/slow-reader", len(body)) + body)
        reply = read_all(sock)
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b'{"size":1000000}')


def test_a_client_waiting_for_100_continue_is_not_late(server):
    # The handler asks for the body only after 1.5 s, three timeouts: until then the client rightly sends nothing.
    body = b"x" * 1000
    head = post_head("/v1beta/slow-reader", len(body)).replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n")
    with connect(server) as sock:
        sock.sendall(head)
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        reply = read_all(sock)
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b'{"size":1000}')


def test_a_long_stream_is_not_cut_nor_a_request_waiting_behind_it(server):
    # scripted-slow streams 400 chunks 20 ms apart: 8 s, far past both limits. A second request pipelined behind it
    # finishes its body while the server is not reading (it is busy with the first): that wait is the server's, and
    # must not be counted against the client.
    body = b'{"contents":"x"}'
    with connect(server) as sock:
        sock.sendall(post_head("/v1beta/models/scripted-slow:streamGenerateContent?alt=sse", len(body), close=False))
        sock.sendall(body + post_head("/v1beta/models/scripted:generateContent", len(body)) + body[:5])
        time.sleep(1)
        sock.sendall(body[5:])
        reply = read_all(sock)
    assert reply.startswith(b"HTTP/1.1 200") and reply.count(b"data: ") == 400
    assert reply.count(b"HTTP/1.1 200") == 2 and b"408" not in reply and reply.endswith(b"}")
