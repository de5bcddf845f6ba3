"""The newest google-genai (3.x, sends /v1) driven against a live server: every core call, sync and async."""

import math
import os
import subprocess
import sys

import pytest
from google import genai
from google.genai import errors, types

pytestmark = pytest.mark.contract


@pytest.fixture(scope="module")
def sdk(live):
    return genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=live.url))


def test_the_readme_quickstart_runs_unchanged_from_the_environment(live):
    env = {**os.environ, "GOOGLE_GEMINI_BASE_URL": live.url, "GEMINI_API_KEY": "anything"}
    env.pop("GOOGLE_API_KEY", None)
    # The client is kept in a variable: google-genai closes its HTTP client in Client.__del__, so the
    # one-liner `genai.Client().models.generate_content(...)` fails against any server, Google's included.
    code = (
        "from google import genai; client = genai.Client(); print(client.models.generate_content("
        "model='gemini-2.0-flash', contents='How does AI work?', config={'max_output_tokens': 20}).text)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()


def test_generate_content_text_finish_reason_and_usage(sdk):
    r = sdk.models.generate_content(model="scripted", contents="hi")
    assert r.text == "Hello from genserve."
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    assert r.usage_metadata.candidates_token_count == 3 and r.model_version == "scripted" and r.response_id


def test_generation_config_and_system_instruction(sdk):
    config = types.GenerateContentConfig(
        system_instruction="You are terse.",
        temperature=0,
        top_p=0.9,
        top_k=20,
        max_output_tokens=6,
        safety_settings=[types.SafetySetting(category="HARM_CATEGORY_HATE_SPEECH", threshold="BLOCK_ONLY_HIGH")],
    )
    first = sdk.models.generate_content(model="gemini-2.0-flash", contents="Hello", config=config)
    second = sdk.models.generate_content(model="gemini-2.0-flash", contents="Hello", config=config)
    assert first.text == second.text
    assert first.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    usage = first.usage_metadata
    assert usage.candidates_token_count == 6
    assert usage.total_token_count == usage.prompt_token_count + 6
    counted = sdk.models.count_tokens(model="gemini-2.0-flash", contents="Hello")
    assert usage.prompt_token_count > counted.total_tokens  # the system instruction is part of the prompt


def test_seed_and_candidate_count(sdk):
    config = types.GenerateContentConfig(temperature=1.2, seed=5, max_output_tokens=8, candidate_count=2)
    a = sdk.models.generate_content(model="gemini-2.5-flash", contents="Hi", config=config)
    b = sdk.models.generate_content(model="gemini-2.5-flash", contents="Hi", config=config)
    assert [c.index for c in a.candidates] == [0, 1]
    assert [c.content.parts[0].text for c in a.candidates] == [c.content.parts[0].text for c in b.candidates]


def test_stop_sequences(sdk):
    greedy = types.GenerateContentConfig(temperature=0, max_output_tokens=30)
    full = sdk.models.generate_content(model="gemini-2.0-flash", contents="Go", config=greedy).text
    stop = full[10:13]
    cut = sdk.models.generate_content(
        model="gemini-2.0-flash", contents="Go", config=greedy.model_copy(update={"stop_sequences": [stop]})
    )
    assert cut.text == full[: full.index(stop)]
    assert cut.candidates[0].finish_reason == types.FinishReason.STOP


def test_streaming_delivers_deltas_then_the_finish(sdk):
    chunks = list(sdk.models.generate_content_stream(model="scripted", contents="hi"))
    assert len(chunks) >= 3
    assert "".join(c.text or "" for c in chunks) == "Hello from genserve."
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.total_token_count == 4


def test_real_model_streaming_respects_max_output_tokens(sdk):
    config = types.GenerateContentConfig(max_output_tokens=10, temperature=0)  # greedy: no early EOS
    chunks = list(
        sdk.models.generate_content_stream(model="gemini-2.0-flash-lite", contents="Tell me a story", config=config)
    )
    assert chunks[-1].usage_metadata.candidates_token_count == 10
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.MAX_TOKENS


def test_chat_keeps_history_across_plain_and_streamed_turns(sdk):
    chat = sdk.chats.create(
        model="gemini-2.0-flash", config=types.GenerateContentConfig(max_output_tokens=5, temperature=0)
    )
    first = chat.send_message("first")
    assert first.usage_metadata.candidates_token_count == 5
    streamed = list(chat.send_message_stream("second"))
    assert streamed[-1].candidates[0].finish_reason is not None
    third = chat.send_message("third")
    history = chat.get_history()
    assert [c.role for c in history][:2] == ["user", "model"] and history[-1].role == "model"
    assert sum(1 for c in history if c.role == "user") == 3
    assert third.usage_metadata.prompt_token_count > first.usage_metadata.prompt_token_count


def test_count_tokens_embeddings_and_models(sdk):
    assert sdk.models.count_tokens(model="gemini-2.0-flash", contents="How does AI work?").total_tokens > 0
    result = sdk.models.embed_content(
        model="gemini-embedding-001",
        contents=["What is the meaning of life?", "How do I bake a cake?"],
        config=types.EmbedContentConfig(output_dimensionality=16, task_type="SEMANTIC_SIMILARITY"),
    )
    assert [len(e.values) for e in result.embeddings] == [16, 16]
    assert all(abs(math.sqrt(sum(v * v for v in e.values)) - 1) < 1e-5 for e in result.embeddings)
    names = [m.name for m in sdk.models.list(config={"page_size": 3})]
    assert "models/gemini-2.0-flash" in names and "models/gemini-embedding-001" in names
    model = sdk.models.get(model="gemini-2.0-flash")
    assert model.input_token_limit == 6144 and "generateContent" in model.supported_actions


def test_errors_raise_the_sdk_exceptions(sdk):
    with pytest.raises(errors.ClientError) as missing:
        sdk.models.generate_content(model="gemini-0", contents="x")
    assert missing.value.code == 404 and missing.value.status == "NOT_FOUND"
    with pytest.raises(errors.ClientError) as bad:
        sdk.models.generate_content(model="gemini-2.0-flash", contents="x", config={"max_output_tokens": 0})
    assert bad.value.code == 400 and "maxOutputTokens" in bad.value.message
    with pytest.raises(errors.ServerError) as mid_stream:
        for _ in sdk.models.generate_content_stream(model="scripted-fails", contents="x"):
            pass
    assert mid_stream.value.code == 500


def test_versions_can_be_chosen_by_the_caller(live):
    for version in ("v1beta", "v1alpha"):
        client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=live.url, api_version=version))
        assert client.models.generate_content(model="scripted", contents="x").text == "Hello from genserve."


async def test_async_client_generate_stream_and_chat(sdk):
    aio = sdk.aio
    r = await aio.models.generate_content(model="scripted", contents="hi")
    assert r.text == "Hello from genserve."
    chunks = [c async for c in await aio.models.generate_content_stream(model="scripted", contents="hi")]
    assert "".join(c.text for c in chunks) == "Hello from genserve."
    chat = aio.chats.create(model="gemini-2.0-flash", config={"max_output_tokens": 4})
    await chat.send_message("one")
    async for _ in await chat.send_message_stream("two"):
        pass
    assert len(chat.get_history()) >= 4
    with pytest.raises(errors.ClientError):
        await aio.models.generate_content(model="nope", contents="x")
