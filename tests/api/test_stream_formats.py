"""streamGenerateContent byte formats: SSE with alt=sse, one JSON array otherwise; mid-stream errors."""

import json

URL = "/v1beta/models/{}:streamGenerateContent"


async def test_sse_events_are_data_lines_with_deltas_and_a_final_usage(client):
    r = await client.post(URL.format("scripted") + "?alt=sse", json={"contents": "hi"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    raw = r.content
    events = raw.split(b"\r\n\r\n")
    assert events[-1] == b"" and all(e.startswith(b"data: ") and b"\n" not in e for e in events[:-1])
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    texts = [c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks]
    assert "".join(texts) == "Hello from genserve." and len(chunks) >= 3
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert all("finishReason" not in c["candidates"][0] for c in chunks[:-1])
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] == 3
    assert len({c["responseId"] for c in chunks}) == 1 and all(c["modelVersion"] == "scripted" for c in chunks)


async def test_without_alt_sse_the_stream_is_one_json_array(client):
    r = await client.post(URL.format("scripted") + "?$alt=json;enum-encoding=int", json={"contents": "hi"})
    assert r.status_code == 200
    chunks = json.loads(r.content)
    assert isinstance(chunks, list) and chunks[-1]["candidates"][0]["finishReason"] == "STOP"


async def test_real_model_stream_matches_its_non_streamed_answer(client):
    body = {"contents": "hi", "generationConfig": {"temperature": 0, "maxOutputTokens": 25}}
    whole = (await client.post("/v1/models/gemini-2.0-flash:generateContent", json=body)).json()
    r = await client.post("/v1/models/gemini-2.0-flash:streamGenerateContent?alt=sse", json=body)
    chunks = [json.loads(e[6:]) for e in r.content.split(b"\r\n\r\n") if e]
    streamed = "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)
    assert streamed == whole["candidates"][0]["content"]["parts"][0]["text"]
    assert chunks[-1]["usageMetadata"] == whole["usageMetadata"]


async def test_error_after_the_first_chunk_is_a_bare_error_line(client):
    r = await client.post(URL.format("scripted-fails") + "?alt=sse", json={"contents": "hi"})
    assert r.status_code == 200
    first, rest = r.content.split(b"\r\n\r\n", 1)
    assert json.loads(first[6:])["candidates"][0]["content"]["parts"][0]["text"] == "a"
    assert not rest.startswith(b"data:")
    error = json.loads(rest)
    assert list(error) == ["error"] and error["error"]["code"] == 500 and error["error"]["status"] == "INTERNAL"


async def test_error_after_the_first_chunk_in_array_form_ends_the_array(client):
    r = await client.post(URL.format("scripted-fails"), json={"contents": "hi"})
    items = json.loads(r.content)
    assert items[0]["candidates"][0]["content"]["parts"][0]["text"] == "a"
    assert items[-1]["error"]["code"] == 500
