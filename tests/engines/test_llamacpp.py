"""The llama.cpp engine on GGUF files built from the demo checkpoint (f16 and Q8_0), through the Gemini API."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
from pathlib import Path

import httpx
import pytest
from google import genai
from google.genai import types

from genserve.cli.infer import infer_engine
from genserve.core.catalog import Catalog, ModelEntry
from genserve.demo import demo_catalog
from tests.conftest import LiveServer, app_client, make_settings

GENERATE = "/v1beta/models/{}:generateContent"
STREAM = "/v1beta/models/{}:streamGenerateContent?alt=sse"
COUNT = "/v1beta/models/{}:countTokens"
PROMPT = "How does AI work?"
DTYPES = ("f16", "q8_0")


@pytest.fixture(scope="session")
def gguf_files(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    missing = [name for name in ("llama_cpp", "gguf") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not installed: run ./scripts/test, which builds llama-cpp-python for this CPU "
            "(see docs/llamacpp.md)",
            pytrace=False,
        )
    from genserve.demo.gguf import write_gguf

    out = tmp_path_factory.mktemp("gguf")
    return {dtype: write_gguf(demo_dir / "chat", out / dtype / f"chat-{dtype}.gguf", dtype) for dtype in DTYPES}


@pytest.fixture(scope="session")
def gguf_catalog(gguf_files: dict[str, Path], demo_dir: Path) -> Catalog:
    f16 = str(gguf_files["f16"])
    # One thread per context: a model this small gains nothing from more, and on a busy 2-core machine
    # llama.cpp's spinning thread barriers can slow it down a hundredfold.
    small = {"n_ctx": 4096, "n_threads": 1}
    return Catalog(
        [
            ModelEntry(name="gguf", engine="llamacpp", path=f16, options=small),
            ModelEntry(name="gguf-parallel", engine="llamacpp", path=f16, options={**small, "parallel": 2}),
            ModelEntry(name="gguf-q8", engine="llamacpp", path=str(gguf_files["q8_0"].parent), options=small),
            ModelEntry(name="gguf-tight", engine="llamacpp", path=f16, input_token_limit=8, options=small),
            *demo_catalog(demo_dir).entries,  # the same checkpoint on transformers, to compare prompts with
        ]
    )


@pytest.fixture
async def client(gguf_catalog: Catalog, tmp_path: Path):
    async with app_client(gguf_catalog, make_settings(tmp_path)) as c:
        yield c


async def generate(client, model="gguf", contents=PROMPT, **config) -> dict:
    r = await client.post(GENERATE.format(model), json={"contents": contents, "generationConfig": config})
    assert r.status_code == 200, r.text
    return r.json()


def text_of(resp: dict, i: int = 0) -> str:
    return "".join(p.get("text", "") for p in resp["candidates"][i]["content"].get("parts", []))


async def count(client, model="gguf", contents=PROMPT, **extra) -> int:
    r = await client.post(COUNT.format(model), json={"contents": contents, **extra})
    assert r.status_code == 200, r.text
    return r.json()["totalTokens"]


async def test_max_output_tokens_and_exact_usage(client):
    resp = await generate(client, maxOutputTokens=9, temperature=0)
    usage = resp["usageMetadata"]
    assert resp["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert usage["candidatesTokenCount"] == 9
    assert usage["promptTokenCount"] == await count(client)
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + 9


async def test_chat_template_from_the_gguf_gives_the_transformers_prompt(client):
    # Same checkpoint, same ChatML template, same byte-level BPE: both engines count the same tokens.
    conversations = [
        {"contents": "hi"},
        {
            "contents": [
                {"role": "user", "parts": [{"text": "def f(x):\n    return x  # ünïcödé"}]},
                {"role": "model", "parts": [{"text": "yo"}]},
                {"role": "user", "parts": [{"text": "and?"}]},
                {"role": "model", "parts": [{"text": "Well,"}]},  # a model turn to continue
            ],
            "systemInstruction": {"parts": [{"text": "You are terse."}]},
        },
    ]
    for body in conversations:
        contents = body.pop("contents")
        on_transformers = await count(client, "gemini-2.0-flash-lite", contents, **body)
        assert await count(client, "gguf", contents, **body) == on_transformers
    assert await count(client, contents="hi") > 5  # the template's markers are counted too


async def test_temperature_zero_is_deterministic_and_seed_repeats_sampling(client):
    greedy = [text_of(await generate(client, maxOutputTokens=16, temperature=0)) for _ in range(2)]
    assert greedy[0] == greedy[1] and greedy[0]
    seeded = [text_of(await generate(client, maxOutputTokens=16, temperature=1.5, seed=7)) for _ in range(2)]
    assert seeded[0] == seeded[1]
    other = [text_of(await generate(client, maxOutputTokens=16, temperature=1.5, seed=s)) for s in (8, 9, 10)]
    assert any(o != seeded[0] for o in other)


async def test_top_k_one_samples_the_greedy_answer_and_penalties_change_it(client):
    greedy = text_of(await generate(client, maxOutputTokens=24, temperature=0))
    assert text_of(await generate(client, maxOutputTokens=24, temperature=1.5, topK=1)) == greedy
    penalised = await generate(client, maxOutputTokens=24, temperature=0, presencePenalty=2.0, frequencyPenalty=2.0)
    assert text_of(penalised) != greedy


async def test_stop_sequence_ends_the_answer_before_it(client):
    sampled = {"maxOutputTokens": 40, "temperature": 1.0, "seed": 1}  # repeatable, and more varied than greedy
    full = text_of(await generate(client, **sampled))
    stop = full[12:15]
    assert stop.strip() and "\ufffd" not in stop, f"pick another slice of {full!r}"
    resp = await generate(client, **sampled, stopSequences=[stop])
    assert text_of(resp) == full[: full.index(stop)]
    assert resp["candidates"][0]["finishReason"] == "STOP"


@pytest.mark.parametrize("sampling", [{"temperature": 0}, {"temperature": 1.0, "seed": 4}])
async def test_streamed_chunks_join_to_the_whole_answer(client, sampling):
    config = {"maxOutputTokens": 30, **sampling}
    whole = await generate(client, **config)
    r = await client.post(STREAM.format("gguf"), json={"contents": PROMPT, "generationConfig": config})
    assert r.status_code == 200
    chunks = [json.loads(event[6:]) for event in r.text.split("\r\n\r\n") if event.startswith("data: ")]
    assert len(chunks) > 2
    assert "".join(text_of(c) for c in chunks) == text_of(whole)
    assert chunks[-1]["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] == 30


async def test_candidate_count_gives_independent_candidates(client):
    resp = await generate(client, maxOutputTokens=12, candidateCount=3, seed=3, temperature=1.5)
    assert [c["index"] for c in resp["candidates"]] == [0, 1, 2]
    texts = [text_of(resp, i) for i in range(3)]
    assert len(set(texts)) == 3
    again = await generate(client, maxOutputTokens=12, candidateCount=3, seed=3, temperature=1.5)
    assert [text_of(again, i) for i in range(3)] == texts


@pytest.mark.parametrize("model", ["gguf", "gguf-parallel"])
async def test_concurrent_requests_all_get_their_own_answer(client, model):
    configs = [{"maxOutputTokens": 20 + i, "temperature": 1.0, "seed": i} for i in range(4)]
    alone = [text_of(await generate(client, model, **c)) for c in configs]
    prompt_tokens = await count(client, model)
    # countTokens tokenizes beside a running decode; it never waits for the generations.
    together = await asyncio.gather(*(generate(client, model, **c) for c in configs), count(client, model))
    assert [text_of(r) for r in together[:4]] == alone
    assert together[4] == prompt_tokens


async def test_prompt_over_the_input_limit_is_refused(client):
    r = await client.post(GENERATE.format("gguf-tight"), json={"contents": PROMPT})
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"


async def test_q8_0_loads_and_generates(client):
    resp = await generate(client, "gguf-q8", maxOutputTokens=12, temperature=0)
    assert resp["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert resp["usageMetadata"]["candidatesTokenCount"] == 12 and text_of(resp)


def test_an_amx_build_refuses_q8_0_instead_of_crashing(gguf_files, monkeypatch):
    import llama_cpp

    from genserve.engines.llamacpp import LlamaCppTextEngine
    from genserve.errors import Unavailable

    monkeypatch.setattr(llama_cpp, "llama_print_system_info", lambda: b"CPU : AVX512 = 1 | AMX_INT8 = 1 |")
    with pytest.raises(Unavailable, match="AMX"):
        LlamaCppTextEngine(str(gguf_files["q8_0"]), {"n_threads": 1})
    LlamaCppTextEngine(str(gguf_files["f16"]), {"n_threads": 1}).close()  # other types are not affected


def test_gguf_paths_are_served_by_llamacpp(gguf_files):
    assert infer_engine(str(gguf_files["f16"])) == "llamacpp"
    assert infer_engine(str(gguf_files["q8_0"].parent)) == "llamacpp"


def test_sdk_streams_and_a_dropped_stream_frees_the_engine(gguf_catalog, tmp_path):
    # Sampled, not greedy: the random model's greedy answer is invalid UTF-8 held back to the very end. Which
    # seed runs to MAX_TOKENS rather than sampling EOS depends on the CPU's kernels, so one is searched for.
    long = {"maxOutputTokens": 1500, "temperature": 1.0, "seed": 3}
    with LiveServer(make_settings(tmp_path), gguf_catalog) as live:
        sdk = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=live.url))
        config = types.GenerateContentConfig(max_output_tokens=20, temperature=1.0, seed=2)
        chunks = sdk.models.generate_content_stream(model="gguf", contents=PROMPT, config=config)
        streamed = "".join(c.text or "" for c in chunks)
        assert streamed == sdk.models.generate_content(model="gguf", contents=PROMPT, config=config).text
        with httpx.Client(base_url=live.url, timeout=60) as http:
            for seed in range(3, 23):
                long["seed"] = seed
                start = time.monotonic()
                whole = http.post(GENERATE.format("gguf"), json={"contents": PROMPT, "generationConfig": long}).json()
                full = time.monotonic() - start  # what a whole long answer costs on this machine
                if whole["candidates"][0]["finishReason"] == "MAX_TOKENS":
                    break
            assert whole["candidates"][0]["finishReason"] == "MAX_TOKENS", "no seed gave a long answer"
            with http.stream("POST", STREAM.format("gguf"), json={"contents": PROMPT, "generationConfig": long}) as r:
                next(r.iter_raw())  # the answer has started; the client then goes away
            start = time.monotonic()
            r = http.post(GENERATE.format("gguf"), json={"contents": "x", "generationConfig": {"maxOutputTokens": 1}})
            waited = time.monotonic() - start
    assert r.status_code == 200
    assert waited < full / 2, f"the next request waited {waited:.2f} s; a whole answer takes {full:.2f} s"
