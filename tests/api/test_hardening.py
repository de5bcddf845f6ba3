"""Regression tests for the fuzzing campaign of issue 14: each hostile input is a 400 naming what to fix, never a
500, and no request can leave a model refusing later ones. Schema findings: tests/api/test_schema_limits.py."""

import json

import pytest

GENERATE = "/v1beta/models/{}:generateContent"
LITE = "gemini-2.0-flash-lite"


def envelope(r, code=400):
    assert r.status_code == code, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["status"] and error["message"]
    return error["message"]


async def post_raw(client, url, raw: str):
    return await client.post(url, content=raw.encode(), headers={"content-type": "application/json"})


async def answers(client, model=LITE):
    r = await client.post(GENERATE.format(model), json={"contents": "hi", "generationConfig": {"maxOutputTokens": 3}})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"topK": 2**31}, "generationConfig.topK"),
        ({"seed": 2**64}, "generationConfig.seed"),
        ({"seed": 10**30}, "generationConfig.seed"),
        ({"candidateCount": -(2**31) - 1}, "generationConfig.candidateCount"),
        ({"maxOutputTokens": 2**63}, "generationConfig.maxOutputTokens"),
        ({"thinkingConfig": {"thinkingBudget": 2**40}}, "generationConfig.thinkingConfig.thinkingBudget"),
    ],
)
async def test_integers_beyond_int32_are_refused_naming_the_field(client, config, field):
    r = await client.post(GENERATE.format(LITE), json={"contents": "hi", "generationConfig": config})
    assert field in envelope(r)


async def test_infinite_floats_are_refused(client):
    r = await post_raw(client, GENERATE.format(LITE), '{"contents":"hi","generationConfig":{"temperature":1e400}}')
    assert "generationConfig.temperature" in envelope(r)


@pytest.mark.parametrize("seed", [None, -(2**31)])  # the continuous batcher, and generate() for seeded requests
async def test_top_k_at_the_int32_limit_still_answers_and_the_model_stays_up(client, seed):
    config = {"maxOutputTokens": 4, "topK": 2**31 - 1, "seed": seed}
    r = await client.post(GENERATE.format(LITE), json={"contents": "hi", "generationConfig": config})
    assert r.status_code == 200, r.text
    r = await client.post(GENERATE.format(LITE), json={"contents": "hi", "generationConfig": {"topK": 2**31}})
    envelope(r)
    await answers(client)


async def test_a_batcher_that_dies_is_restarted(client):
    await answers(client)
    engines = client.app.state.engines
    engine = next(e for e in engines.loaded_engines() if getattr(e, "_batcher", None))
    manager = engine._batcher.manager
    # What the int32 overflow did before the boundary refused it: a request that kills the manager's thread.
    manager.add_request([1, 2, 3], request_id="poison", max_new_tokens=2, temperature=1.0, top_k=2**31, top_p=1.0)
    manager._generation_thread.join(timeout=30)
    assert not manager.is_running()
    await answers(client)
    assert engine._batcher.manager is not manager and engine._batcher.manager.is_running()


@pytest.mark.parametrize(
    "raw",
    [
        '{"contents":' + "[" * 10_000 + "]" * 10_000 + "}",
        '{"unknown":' + "[" * 2_000 + "]" * 2_000 + ', "contents":"hi"}',
        '{"contents":' + '{"a":' * 150 + "1" + "}" * 150 + "}",
    ],
)
async def test_deep_nesting_is_refused(client, raw):
    for url in (GENERATE.format(LITE), "/v1beta/models/text-embedding-004:embedContent", "/v1beta/models/x:predict"):
        assert "nested deeper than" in envelope(await post_raw(client, url, raw))


@pytest.mark.parametrize(
    "body",
    [
        '{"contents":"\\ud800"}',
        '{"contents":[{"role":"\\udfff","parts":[{"text":"hi"}]}]}',
        '{"contents":[{"parts":[{"inlineData":{"mimeType":"image/\\ud800","data":"AA=="}}]}]}',
        '{"contents":[{"parts":[{"fileData":{"fileUri":"files/\\ud800"}}]}]}',
        '{"contents":"hi","generationConfig":{"responseMimeType":"\\ud800"}}',
        '{"contents":"hi","tools":[{"functionDeclarations":[{"name":"f\\ud800"}]}]}',
    ],
)
async def test_lone_surrogates_are_refused_and_named(client, body):
    message = envelope(await post_raw(client, GENERATE.format(LITE), body))
    assert "surrogate" in message
    message.encode("utf-8")


async def test_surrogates_in_imagen_and_veo_parameters_are_refused(client):
    for url, body in [
        (
            "/v1beta/models/imagen-3.0-generate-002:predict",
            '{"instances":[{"prompt":"a"}],"parameters":{"aspectRatio":"\\ud800"}}',
        ),
        ("/v1beta/models/veo-2.0-generate-001:predictLongRunning", '{"instances":[{"prompt":"\\ud800"}]}'),
    ]:
        assert "surrogate" in envelope(await post_raw(client, url, body))


async def test_error_rendering_survives_a_surrogate_in_its_own_message():
    from genserve.errors import InvalidArgument

    json.dumps(InvalidArgument("bad value '\ud800'").envelope(), ensure_ascii=False).encode("utf-8")


async def test_empty_text_embedding_is_a_400(client):
    for url, body in [
        ("/v1beta/models/text-embedding-004:embedContent", {"content": {"parts": [{"text": ""}]}}),
        (
            "/v1beta/models/text-embedding-004:batchEmbedContents",
            {"requests": [{"content": {"parts": [{"text": " "}]}}]},
        ),
    ]:
        assert "empty" in envelope(await client.post(url, json=body))


async def test_batch_embeddings_are_capped_at_100_and_must_name_the_batch_model(client):
    url = "/v1beta/models/text-embedding-004:batchEmbedContents"
    one = {"content": {"parts": [{"text": "a"}]}}
    assert "at most 100" in envelope(await client.post(url, json={"requests": [one] * 101}))
    message = envelope(await client.post(url, json={"requests": [{**one, "model": "models/../../x"}]}))
    assert "requests[0].model" in message
    r = await client.post(url, json={"requests": [{**one, "model": "models/text-embedding-004"}] * 100})
    assert r.status_code == 200 and len(r.json()["embeddings"]) == 100


async def test_tool_config_of_the_wrong_shape_is_a_400(client):
    tools = [{"functionDeclarations": [{"name": "f"}]}]
    for tool_config in ({"functionCallingConfig": [{}]}, {"functionCallingConfig": {"allowedFunctionNames": "f"}}):
        body = {"contents": "hi", "tools": tools, "toolConfig": tool_config}
        assert "toolConfig.functionCallingConfig" in envelope(
            await client.post(GENERATE.format("gemini-2.5-flash"), json=body)
        )
    body = {"contents": "hi", "tools": [{"functionDeclarations": 5}]}
    assert "tools[0].functionDeclarations" in envelope(
        await client.post(GENERATE.format("gemini-2.5-flash"), json=body)
    )


async def test_an_empty_file_uri_is_a_400_not_a_403(client):
    body = {"contents": [{"parts": [{"fileData": {"fileUri": ""}}]}]}
    assert "fileUri" in envelope(await client.post(GENERATE.format(LITE), json=body))


@pytest.mark.parametrize(
    "metadata", ['{"file":{"displayName":123}}', '{"file":"abc"}', '["x"]', '{"file":' + "[" * 5000 + "]" * 5000 + "}"]
)
async def test_bad_multipart_metadata_is_a_400(client, metadata):
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{metadata}\r\n"
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    ).encode()
    r = await client.post(
        "/upload/v1beta/files?uploadType=multipart",
        content=body,
        headers={"content-type": f"multipart/related; boundary={boundary}"},
    )
    envelope(r)
    assert r.headers["x-goog-upload-status"] == "final"


async def test_a_huge_prompt_is_refused_before_it_is_tokenized(client):
    huge = "word " * 4_000_000  # 20 MB is the body limit; 19 MB of text
    for url, body in [
        (GENERATE.format(LITE), {"contents": huge}),
        ("/v1beta/models/gemini-2.0-flash-lite:countTokens", {"contents": huge}),
        ("/v1beta/models/text-embedding-004:countTokens", {"contents": huge}),
    ]:
        message = envelope(await client.post(url, json=body))
        assert "exceeds the maximum number of tokens" in message and "characters" in message
    r = await client.post(
        "/v1beta/models/text-embedding-004:embedContent", json={"content": {"parts": [{"text": huge}]}}
    )
    assert r.status_code == 200 and r.json()["embedding"]["values"]


async def test_forced_call_schemas_share_one_budget_across_declarations(client):
    # Each declaration is under the limits; forced calls compile all of them into one grammar (more schema refusals
    # are in tests/api/test_schema_limits.py).
    params = {"type": "OBJECT", "properties": {f"p{i}": {"type": "STRING"} for i in range(600)}}
    tools = [{"functionDeclarations": [{"name": "a", "parameters": params}, {"name": "b", "parameters": params}]}]
    message = envelope(await client.post(GENERATE.format("gemini-2.5-flash"), json={"contents": "hi", "tools": tools}))
    assert message.startswith("tools:") and "1200 properties" in message
