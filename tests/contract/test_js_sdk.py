"""The official JavaScript SDK (`@google/genai` from npm) against a live genserve server.

Three SDK versions are installed side by side under npm aliases (tests/contract/js/package.json):
genai3 = 3.1.0 (calls /v1), genai2 = 2.32.0 (calls /v1beta), genai130 = 1.30.0 (the version
gemini-cli pins; its SSE parser is the strictest). For each, `contract.mjs` makes the calls a
user makes and prints what it observed as one JSON object; the assertions live here so a failure
names the check and the SDK version. `stream_timing.mjs` checks live streaming and cancellation.

The npm packages are installed by ./scripts/test. Without them these tests fail, never skip.
"""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
import pytest

from tests.contract.js_runner import SDKS, run_node

pytestmark = [pytest.mark.contract, pytest.mark.live]

CHAT_MODEL = "gemini-2.0-flash"


@pytest.fixture(scope="module", params=list(SDKS))
def js(request: pytest.FixtureRequest, live: Any) -> dict[str, Any]:
    """Everything contract.mjs observed for one SDK version (node runs once per version)."""
    return run_node("contract.mjs", live.url, request.param)


def check(js: dict[str, Any], name: str) -> dict[str, Any]:
    result = js["checks"][name]
    if "exception" in result:
        pytest.fail(
            f"@google/genai {js['sdkVersion']} ({js['alias']}), check {name!r} threw: "
            f"{result['exception']}\n{result.get('stack', '')}"
        )
    return result


def is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def assert_usage_adds_up(usage: dict[str, Any], where: str) -> None:
    assert usage, f"{where}: no usageMetadata"
    assert is_positive_int(usage.get("promptTokenCount")), f"{where}: promptTokenCount {usage}"
    assert usage.get("totalTokenCount") == usage["promptTokenCount"] + usage.get("candidatesTokenCount", 0), (
        f"{where}: totalTokenCount != prompt + candidates: {usage}"
    )


# --- the SDK itself ----------------------------------------------------------------------------


def test_sdk_version_and_url_api_version(js: dict[str, Any]) -> None:
    version, api_version = SDKS[js["alias"]]
    assert js["sdkVersion"] == version, f"{js['alias']} resolved to @google/genai {js['sdkVersion']}, want {version}"
    paths = {r["path"] for c in js["checks"].values() for r in c.get("requests", [])}
    assert paths, "the SDK made no requests"
    wrong = sorted(p for p in paths if not p.startswith(f"/{api_version}/"))
    assert not wrong, f"@google/genai {version} should call /{api_version}/ by default; it called {wrong}"


# --- generateContent ---------------------------------------------------------------------------


def test_generate_scripted(js: dict[str, Any]) -> None:
    r = check(js, "generate_scripted")
    assert r["text"] == "Hello from genserve.", r
    assert r["finishReason"] == "STOP", r
    assert r["role"] == "model", r
    assert r["candidateCount"] == 1, r
    assert_usage_adds_up(r["usageMetadata"], "generate_scripted")
    assert r["usageMetadata"].get("candidatesTokenCount") == 3, r["usageMetadata"]
    assert r["modelVersion"] and r["responseId"], r


def test_generate_max_output_tokens_and_usage(js: dict[str, Any]) -> None:
    r = check(js, "generate_max_tokens")
    sent = r["sentBody"]
    assert sent["systemInstruction"]["parts"][0]["text"] == "be terse", (
        f"SDK did not send the system instruction: {sent}"
    )
    assert sent["generationConfig"] == {"temperature": 0, "maxOutputTokens": 5}, sent
    for which in ("first", "second"):
        resp = r[which]
        assert resp["finishReason"] == "MAX_TOKENS", f"{which}: {resp}"
        usage = resp["usageMetadata"]
        assert usage.get("candidatesTokenCount") == 5, f"{which}: {usage}"
        assert_usage_adds_up(usage, f"generate_max_tokens {which}")
        assert isinstance(resp["text"], str) and resp["text"], f"{which}: no text: {resp}"


def test_generate_temperature_zero_is_repeatable(js: dict[str, Any]) -> None:
    r = check(js, "generate_max_tokens")
    assert r["first"]["text"] == r["second"]["text"], (r["first"]["text"], r["second"]["text"])
    assert r["first"]["usageMetadata"] == r["second"]["usageMetadata"]


def test_generate_seed_is_repeatable(js: dict[str, Any]) -> None:
    r = check(js, "generate_seeded")
    assert r["a"]["text"] == r["b"]["text"], (
        f"same seed, temperature 1, different text: {r['a']['text']!r} vs {r['b']['text']!r}"
    )
    assert r["a"]["usageMetadata"]["candidatesTokenCount"] == 24, r["a"]
    # 24 tokens sampled at temperature 1 from random weights: another seed must give other text,
    # otherwise the seed is not what drives the sampling.
    assert r["other"]["text"] != r["a"]["text"], f"seeds 1234 and 98765 gave the same text {r['a']['text']!r}"


# --- streaming ---------------------------------------------------------------------------------


def test_stream_scripted(js: dict[str, Any]) -> None:
    r = check(js, "stream_scripted")
    chunks = r["chunks"]
    assert len(chunks) >= 3, chunks
    assert r["text"] == "Hello from genserve.", r["text"]
    assert chunks[-1]["finishReason"] == "STOP", chunks[-1]
    assert all(c["finishReason"] is None for c in chunks[:-1]), [c["finishReason"] for c in chunks]
    assert_usage_adds_up(chunks[-1]["usageMetadata"], "stream_scripted last chunk")
    assert chunks[-1]["usageMetadata"].get("candidatesTokenCount") == 3, chunks[-1]
    assert len({c["responseId"] for c in chunks}) == 1, "chunks of one stream should share a responseId"
    assert [q["query"] for q in r["requests"]] == ["?alt=sse"], r["requests"]


def test_stream_mid_stream_error_raises(js: dict[str, Any]) -> None:
    r = check(js, "stream_fails")
    error = r["error"]
    assert error["threw"], f"@google/genai {js['sdkVersion']} finished a failing stream without an error: {r}"
    assert [c["text"] for c in r["chunks"]] == ["a"], f"the chunk sent before the failure: {r['chunks']}"
    assert error["isApiError"], f"expected an ApiError, got {error}"
    assert error["status"] == 500, error
    assert "500" in error["message"] or "INTERNAL" in error["message"], error


def test_stream_unknown_model_rejects_with_404(js: dict[str, Any]) -> None:
    r = check(js, "stream_unknown_model")
    assert r["chunks"] == [], r
    assert r["error"]["threw"] and r["error"]["isApiError"], r["error"]
    assert r["error"]["status"] == 404, r["error"]
    assert "NOT_FOUND" in r["error"]["message"], r["error"]


# --- chats -------------------------------------------------------------------------------------


def test_chat_history(js: dict[str, Any]) -> None:
    r = check(js, "chat")
    turns, lengths, history = r["turns"], r["historyLengths"], r["history"]
    assert [t["kind"] for t in turns] == ["send", "send", "stream", "send"]
    stream_turn = turns[2]

    # sendMessage adds user + model. The JS SDK records a streamed reply as one model Content per
    # chunk, so the streamed turn adds 1 + (number of chunks).
    assert lengths[:3] == [0, 2, 4], lengths
    assert lengths[3] == 4 + 1 + len(stream_turn["chunks"]), (lengths, len(stream_turn["chunks"]))
    assert lengths[4] == lengths[3] + 2, lengths
    assert len(history) == lengths[4]

    assert [h["role"] for h in history[:5]] == ["user", "model", "user", "model", "user"], history
    assert [h["text"] for h in history[0:5:2]] == ["Hello there", "How are you?", "Stream something"], history
    streamed = history[5 : lengths[3]]
    assert all(h["role"] == "model" for h in streamed), history
    assert "".join(h["text"] for h in streamed) == stream_turn["text"], "history lost streamed text"
    assert [h["role"] for h in history[lengths[3] :]] == ["user", "model"], history

    # Every reply counted as valid by the SDK (an invalid one is replaced by an empty model turn
    # and dropped from the curated history).
    assert len(r["curatedHistory"]) == len(history), (r["curatedHistory"], history)
    for turn in (turns[0], turns[1], turns[3]):
        assert turn["finishReason"] in ("MAX_TOKENS", "STOP"), turn
        assert turn["usageMetadata"].get("candidatesTokenCount", 0) <= 8, turn
    assert stream_turn["chunks"][-1]["finishReason"] in ("MAX_TOKENS", "STOP"), stream_turn["chunks"][-1]
    assert [h["text"] for h in (history[1], history[3], history[-1])] == [
        turns[0]["text"],
        turns[1]["text"],
        turns[3]["text"],
    ]

    # Each request carries the whole history so far plus the new user turn, and the server counts it.
    sent = r["sentContents"]
    assert [len(s) for s in sent] == [1, 3, 5, lengths[3] + 1], sent
    assert sent[3] == [h["role"] for h in history[: lengths[3]]] + ["user"], sent[3]
    counts = [t["usageMetadata"]["promptTokenCount"] for t in (turns[0], turns[1], turns[3])]
    assert counts == sorted(counts) and len(set(counts)) == 3, (
        f"promptTokenCount should grow with the history: {counts}"
    )


# --- countTokens, embeddings, models -----------------------------------------------------------


def test_count_tokens(js: dict[str, Any]) -> None:
    r = check(js, "count_tokens")
    assert is_positive_int(r["totalTokens"]), r
    assert r["totalTokens"] == r["promptTokenCountOfSameContents"], (
        f"countTokens says {r['totalTokens']} but generateContent counted "
        f"{r['promptTokenCountOfSameContents']} prompt tokens for the same contents"
    )


def test_embed_content(js: dict[str, Any]) -> None:
    r = check(js, "embed")
    assert r["count"] == 2, r
    for i, e in enumerate(r["embeddings"]):
        assert e["length"] == 8, f"embedding {i}: {e['length']} values, asked outputDimensionality 8"
        assert all(isinstance(v, (int, float)) for v in e["values"]), e
        assert math.isclose(e["norm"], 1.0, abs_tol=1e-4), f"embedding {i} not unit length: {e['norm']}"
    assert r["embeddings"][0]["values"] != r["embeddings"][1]["values"], "'a' and 'b' embedded identically"


def test_list_models(js: dict[str, Any]) -> None:
    r = check(js, "list_models")
    names = r["names"]
    for want in ("models/gemini-2.0-flash", "models/gemini-2.5-pro", "models/gemini-embedding-001", "models/scripted"):
        assert want in names, f"{want} not listed: {names}"
    assert len(names) == len(set(names)), f"duplicates in the model list: {names}"
    # pageSize 5: the pager must follow nextPageToken and see the same models, each once.
    assert r["pagedNames"] == names, (r["pagedNames"], names)
    assert r["pagedRequests"] == math.ceil(len(names) / 5), r["pagedRequests"]


def test_get_model(js: dict[str, Any]) -> None:
    model = check(js, "get_model")["model"]
    assert model["name"] == "models/gemini-2.0-flash", model
    assert is_positive_int(model.get("inputTokenLimit")), model
    assert is_positive_int(model.get("outputTokenLimit")), model
    # The SDK maps the wire field supportedGenerationMethods to supportedActions.
    actions = model.get("supportedActions")
    assert actions and {"generateContent", "streamGenerateContent", "countTokens"} <= set(actions), model
    embedder = check(js, "get_model")["embedder"]
    assert "embedContent" in (embedder.get("supportedActions") or []), embedder


# --- errors ------------------------------------------------------------------------------------


def test_unknown_model_rejects_with_404(js: dict[str, Any]) -> None:
    r = check(js, "error_unknown_model")
    for call in ("generate", "get"):
        error = r[call]
        assert error["threw"], f"{call} on an unknown model resolved: {error}"
        assert error["isApiError"], error
        assert error["status"] == 404, f"{call}: {error}"
        assert "NOT_FOUND" in error["message"] and "no-such-model" in error["message"], error


def test_max_output_tokens_zero_rejects_with_400(js: dict[str, Any]) -> None:
    error = check(js, "error_max_tokens_zero")
    assert error["threw"], f"maxOutputTokens 0 was accepted: {error}"
    assert error["isApiError"], error
    assert error["status"] == 400, error
    assert "INVALID_ARGUMENT" in error["message"], error


# --- live streaming: incremental delivery and cancellation --------------------------------------


def first_chunk_seconds(base_url: str) -> float:
    """Seconds until the first SSE event of a scripted-slow stream; closing the stream cancels it."""
    started = time.monotonic()
    url = f"{base_url}/v1beta/models/scripted-slow:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "probe"}]}]}
    with httpx.stream("POST", url, json=body, timeout=30) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data:"):
                return time.monotonic() - started
    pytest.fail("scripted-slow stream ended without a data event")


@pytest.mark.parametrize("alias", list(SDKS))
def test_stream_is_incremental_and_cancelled(live: Any, alias: str) -> None:
    # scripted-slow must be idle first, or the timings below would measure someone else's stream.
    idle = first_chunk_seconds(live.url)
    assert idle < 2.0, f"scripted-slow was busy for {idle:.2f} s before the test: an earlier stream was not cancelled"
    r = run_node("stream_timing.mjs", live.url, alias)
    full_ms = r["fullStreamMs"]  # 400 chunks x 20 ms

    aborted = r["aborted"]
    assert aborted["error"] is None, aborted
    arrivals = aborted["arrivals"]
    assert len(arrivals) == 10 and set(aborted["texts"]) == {"tick "}, aborted
    # The first chunk comes long before the generation could have finished ...
    assert arrivals[0] < 2000, f"first chunk after {arrivals[0]} ms (the whole stream takes {full_ms} ms): {aborted}"
    # ... and the chunks arrive spread out (9 gaps of ~20 ms), not buffered into one burst.
    assert arrivals == sorted(arrivals), arrivals
    assert arrivals[-1] - arrivals[0] >= 90, f"10 chunks arrived within {arrivals[-1] - arrivals[0]} ms: {arrivals}"
    assert aborted["brokeAtMs"] < full_ms / 2, aborted

    # The engine has one worker: a new stream only starts promptly if the server cancelled the
    # aborted one (otherwise it waits ~7.7 s for it to finish).
    probe = r["probeAfterAbort"]
    assert probe["error"] is None and len(probe["arrivals"]) == 1, probe
    assert probe["arrivals"][0] < 2000, (
        f"after the SDK aborted its stream, a new stream's first chunk took {probe['arrivals'][0]} ms: "
        "the server kept generating for the disconnected client"
    )

    # A plain `break` (no abort signal) ends the loop cleanly; the SDK keeps the socket open until
    # node exits. Once it has, the server must have cancelled that generation as well.
    plain = r["plainBreak"]
    assert plain["error"] is None and len(plain["arrivals"]) == 10, plain
    assert plain["arrivals"][0] < 2000 and plain["arrivals"][-1] - plain["arrivals"][0] >= 90, plain
    waited = first_chunk_seconds(live.url)
    assert waited < 2.0, f"first chunk took {waited:.2f} s after the client process exited: generation not cancelled"
