"""Over a real socket: streams arrive incrementally, and a client that goes away frees the engine."""

import json
import time

import httpx
import pytest

pytestmark = pytest.mark.live

SLOW = "/v1beta/models/scripted-slow:streamGenerateContent?alt=sse"


def read_events(response, count):
    """Arrival time and payload of the first `count` SSE events."""
    events, buffer, start = [], b"", time.monotonic()
    for piece in response.iter_raw():
        buffer += piece
        while b"\r\n\r\n" in buffer:
            event, buffer = buffer.split(b"\r\n\r\n", 1)
            events.append((time.monotonic() - start, json.loads(event[6:])))
            if len(events) == count:
                return events
    return events


def test_chunks_arrive_as_they_are_generated(live):
    # scripted-slow emits 400 chunks 20 ms apart: about 8 s for the whole answer.
    with httpx.Client(base_url=live.url, timeout=30) as client:
        with client.stream("POST", SLOW, json={"contents": "x"}) as response:
            assert response.status_code == 200
            events = read_events(response, 10)
    first, tenth = events[0][0], events[9][0]
    assert len(events) == 10
    assert first < 2.0, "the first chunk should not wait for the whole answer (~8 s)"
    assert tenth - first >= 0.1, "chunks 20 ms apart must not arrive in one piece"


def test_disconnect_stops_generation_and_frees_the_model(live):
    with httpx.Client(base_url=live.url, timeout=30) as client:
        with client.stream("POST", SLOW, json={"contents": "x"}) as response:
            read_events(response, 3)
        # The client is gone. The same engine runs one job at a time: if the abandoned stream were still
        # generating, this request would queue behind its ~8 s of remaining work.
        start = time.monotonic()
        r = client.post(
            "/v1beta/models/scripted-slow:generateContent",
            json={"contents": "x", "generationConfig": {"maxOutputTokens": 2}},
        )
        waited = time.monotonic() - start
    assert r.status_code == 200
    assert r.json()["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert waited < 3.0, f"the abandoned stream kept the engine busy for {waited:.1f} s"


def test_disconnect_cancels_a_plain_transformers_generation(live):
    # A seed takes the engine's plain generate() path, which runs one request at a time: a follow-up
    # request is fast only if the abandoned generation really stopped. (Batched requests: test_batching.)
    body = {"contents": "Tell me everything", "generationConfig": {"maxOutputTokens": 1024, "seed": 1}}
    url = "/v1/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    with httpx.Client(base_url=live.url, timeout=60) as client:
        start = time.monotonic()
        client.post(url.replace(":streamGenerateContent?alt=sse", ":generateContent"), json=body)
        full = time.monotonic() - start  # what a whole 1024-token answer costs on this machine
        with client.stream("POST", url, json=body) as response:
            read_events(response, 2)
        start = time.monotonic()
        r = client.post(
            url.replace(":streamGenerateContent?alt=sse", ":generateContent"),
            json={"contents": "x", "generationConfig": {"maxOutputTokens": 1, "seed": 2}},
        )
        waited = time.monotonic() - start
    assert r.status_code == 200
    assert waited < full / 2, f"next request waited {waited:.2f} s; a full answer takes {full:.2f} s"
