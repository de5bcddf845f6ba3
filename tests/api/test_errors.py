"""Bad input: every case is a 4xx Google envelope naming what to fix, and the server stays up."""

import pytest

from genserve.app import create_app
from tests.conftest import make_settings

GEN = "/v1beta/models/gemini-2.0-flash:generateContent"


def assert_envelope(r, code, status, *needles):
    assert r.status_code == code, r.text
    assert r.headers["content-type"].startswith("application/json")
    error = r.json()["error"]
    assert (error["code"], error["status"]) == (code, status)
    for needle in needles:
        assert needle in error["message"], error["message"]


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        (b"{not json", ["Invalid JSON payload"]),
        (b"[1, 2]", ["JSON object"]),
        (b'{"contents": 5}', ["contents"]),
        (b'{"contents": "x", "generationConfig": {"temperature": "hot"}}', ["generationConfig.temperature"]),
        (b'{"contents": []}', ["contents is not specified"]),
        (b'{"contents": [{"parts": [{}]}]}', ["contents[0].parts[0].data"]),
        (b'{"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "%%%"}}]}]}', ["data", "base64"]),
        (b'{"contents": "x", "generationConfig": {"maxOutputTokens": 0}}', ["maxOutputTokens"]),
        (b'{"contents": "x", "generationConfig": {"maxOutputTokens": 5000}}', ["maxOutputTokens", "1024"]),
        (b'{"contents": "x", "generationConfig": {"candidateCount": 9}}', ["candidateCount"]),
        (b'{"contents": "x", "generationConfig": {"temperature": -1}}', ["temperature"]),
        (b'{"contents": [{"parts": [{"inlineData": {"mimeType": "audio/wav", "data": "aGk="}}]}]}', ["audio input"]),
        (b'{"contents": "x", "generationConfig": {"responseModalities": ["IMAGE"]}}', ["responseModalities"]),
    ],
)
async def test_bad_generate_requests_are_invalid_argument(client, body, needles):
    for url in (GEN, GEN.replace(":generateContent", ":streamGenerateContent?alt=sse")):
        r = await client.post(url, content=body, headers={"content-type": "application/json"})
        assert_envelope(r, 400, "INVALID_ARGUMENT", *needles)
    assert (
        await client.post(GEN, json={"contents": "still up", "generationConfig": {"maxOutputTokens": 1}})
    ).status_code == 200


async def test_prompt_longer_than_the_context_is_refused(client):
    r = await client.post(GEN, json={"contents": "word " * 7000})
    assert_envelope(r, 400, "INVALID_ARGUMENT", "input token count", "6144")


async def test_unknown_model_and_unknown_method(client):
    assert_envelope(
        await client.post("/v1/models/nope:generateContent", json={"contents": "x"}), 404, "NOT_FOUND", "nope"
    )
    assert_envelope(
        await client.post("/v1/models/nope:streamGenerateContent", json={"contents": "x"}), 404, "NOT_FOUND"
    )
    assert_envelope(await client.post("/v1/models/gemini-2.0-flash:frobnicate", json={}), 404, "NOT_FOUND")
    assert_envelope(await client.get("/v2/models"), 404, "NOT_FOUND")


async def test_body_over_the_limit_is_refused_before_it_is_read(catalog, tmp_path):
    import httpx

    app = create_app(make_settings(tmp_path, max_request_bytes=1000), catalog)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/v1/models/scripted:generateContent", json={"contents": "x" * 2000})
        assert_envelope(r, 400, "INVALID_ARGUMENT", "payload size exceeds the limit: 1000 bytes")

        async def chunked():  # no Content-Length: counted as it arrives
            for _ in range(3):
                yield b"x" * 600

        r = await c.post("/v1/models/scripted:generateContent", content=chunked())
        assert_envelope(r, 400, "INVALID_ARGUMENT", "payload size exceeds the limit")
        assert (await c.post("/v1/models/scripted:generateContent", json={"contents": "x"})).status_code == 200


async def test_engine_failure_before_the_first_chunk_is_a_plain_http_error(client, monkeypatch):
    r = await client.post("/v1/models/scripted-fails:generateContent", json={"contents": "x"})
    assert_envelope(r, 500, "INTERNAL")
