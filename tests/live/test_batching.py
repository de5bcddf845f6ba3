"""Continuous batching on the transformers engine: shared forward passes, same answers, cancellation
that frees the slot under load, overload refused, one bad request failing alone."""

import asyncio
import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from genserve.core.catalog import Catalog
from genserve.demo import demo_catalog
from tests.conftest import LiveServer, app_client, make_settings

pytestmark = pytest.mark.live


def chat_entry(demo_dir: Path, name: str, **changes):
    base = demo_catalog(demo_dir).entries[0]
    return base.model_copy(update={"name": name, "aliases": [], **changes})


async def test_batched_and_plain_paths_give_the_same_greedy_answers(demo_dir, tmp_path):
    catalog = Catalog(
        [chat_entry(demo_dir, "cb"), chat_entry(demo_dir, "plain", options={"continuous_batching": False})]
    )
    async with app_client(catalog, make_settings(tmp_path)) as c:
        for prompt in ("Hello", "Tell me about the sea", "1 2 3"):
            body = {"contents": prompt, "generationConfig": {"temperature": 0, "maxOutputTokens": 24}}
            texts = []
            for model in ("cb", "plain"):
                r = await c.post(f"/v1/models/{model}:generateContent", json=body)
                texts.append(r.json()["candidates"][0]["content"]["parts"][0]["text"])
            assert texts[0] == texts[1]
        # Concurrent greedy requests in one batch still give each prompt its own answer.
        bodies = [{"contents": p, "generationConfig": {"temperature": 0, "maxOutputTokens": 16}} for p in "abcdef"]
        together = await asyncio.gather(*[c.post("/v1/models/cb:generateContent", json=b) for b in bodies])
        for body, r in zip(bodies, together, strict=True):
            alone = await c.post("/v1/models/plain:generateContent", json=body)
            assert r.json()["candidates"][0]["content"] == alone.json()["candidates"][0]["content"]


async def test_requests_in_one_batch_keep_their_own_sampling(demo_dir, tmp_path):
    catalog = Catalog(
        [chat_entry(demo_dir, "cb"), chat_entry(demo_dir, "plain", options={"continuous_batching": False})]
    )
    config = {"maxOutputTokens": 24}
    async with app_client(catalog, make_settings(tmp_path)) as c:
        greedy = await c.post(
            "/v1/models/plain:generateContent",
            json={"contents": "Hi", "generationConfig": {**config, "temperature": 0}},
        )
        # topK 1 leaves one token to draw even at temperature 2; the others sample the whole vocabulary.
        bodies = [{"contents": "Hi", "generationConfig": {**config, "temperature": 2.0, "topK": 1}}] + [
            {"contents": "Hi", "generationConfig": {**config, "temperature": 1.0, "topK": 2048, "topP": 1.0}}
        ] * 5
        answers = await asyncio.gather(*[c.post("/v1/models/cb:generateContent", json=b) for b in bodies])
    expected = greedy.json()["candidates"][0]["content"]["parts"][0]["text"]
    texts = [r.json()["candidates"][0]["content"]["parts"][0].get("text", "") for r in answers]
    assert texts[0] == expected
    assert len(set(texts[1:])) > 1 and expected not in texts[1:]


def batcher_of(server: LiveServer, name: str):
    engines = server.server.config.app.state.engines
    return next(engine for key, engine in engines._engines.items() if engines._names[key] == name)._batcher


def test_four_of_eight_streams_cancelled_the_rest_complete_and_slots_free(demo_dir, tmp_path):
    catalog = Catalog([chat_entry(demo_dir, "cb")])
    url = "/v1/models/cb:streamGenerateContent?alt=sse"
    # Greedy, so every complete stream must equal the same answer computed alone (a random model sampling
    # at temperature 1 would also end early on EOS now and then).
    body = {"contents": "Write a long story", "generationConfig": {"maxOutputTokens": 1000, "temperature": 0}}
    results: dict[int, object] = {}

    def stream(i: int, cancel: bool, base: str) -> None:
        with httpx.Client(base_url=base, timeout=120) as client, client.stream("POST", url, json=body) as response:
            chunks = []
            for line in response.iter_lines():
                if line.startswith("data: "):
                    chunks.append(json.loads(line[6:]))
                    if cancel and len(chunks) == 3:
                        results[i] = "cancelled"
                        return  # leaving the block closes the connection mid-stream
            results[i] = chunks

    with LiveServer(make_settings(tmp_path), catalog) as server:
        reference = httpx.post(f"{server.url}/v1/models/cb:generateContent", json=body, timeout=120).json()
        threads = {i: threading.Thread(target=stream, args=(i, i % 2 == 0, server.url)) for i in range(8)}
        for t in threads.values():
            t.start()
        for i in range(0, 8, 2):
            threads[i].join(timeout=60)
        batcher = batcher_of(server, "cb")  # loaded by the first request
        # The four that left must leave the batch while the other four (1000 tokens each) still run.
        deadline = time.monotonic() + 2
        while batcher.pending() > 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        still_running = sum(1 for i in range(1, 8, 2) if i not in results)
        assert batcher.pending() <= 4, "cancelled requests still hold their slots"
        assert still_running > 0, "the long streams ended before the check; it proved nothing"
        for i in range(1, 8, 2):
            threads[i].join(timeout=180)
            chunks = results[i]
            text = "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)
            assert text == reference["candidates"][0]["content"]["parts"][0]["text"]
            assert chunks[-1]["candidates"][0]["finishReason"] == reference["candidates"][0]["finishReason"]
            assert chunks[-1]["usageMetadata"] == reference["usageMetadata"]
        assert [results[i] for i in range(0, 8, 2)] == ["cancelled"] * 4
        assert batcher.pending() == 0


async def test_overload_is_refused_with_unavailable(catalog, tmp_path):
    slow = next(e for e in catalog.entries if e.name == "scripted-slow").model_copy(update={"max_pending_requests": 2})
    async with app_client(Catalog([slow]), make_settings(tmp_path)) as c:
        url = "/v1/models/scripted-slow:streamGenerateContent?alt=sse"
        body = {"contents": "x", "generationConfig": {"maxOutputTokens": 20}}
        running = [asyncio.create_task(c.post(url, json=body)) for _ in range(2)]
        await asyncio.sleep(0.2)
        r = await c.post(url, json=body)
        assert r.status_code == 503 and r.json()["error"]["status"] == "UNAVAILABLE"
        assert "overloaded" in r.json()["error"]["message"]
        assert [(await t).status_code for t in running] == [200, 200]
        assert (await c.post(url, json=body)).status_code == 200  # capacity is back


async def test_a_too_long_prompt_fails_alone_while_others_run(demo_dir, tmp_path):
    async with app_client(Catalog([chat_entry(demo_dir, "cb")]), make_settings(tmp_path)) as c:
        good = {"contents": "hi", "generationConfig": {"maxOutputTokens": 200, "temperature": 0}}
        running = [asyncio.create_task(c.post("/v1/models/cb:generateContent", json=good)) for _ in range(3)]
        await asyncio.sleep(0.05)
        r = await c.post("/v1/models/cb:generateContent", json={"contents": "word " * 7000})
        assert r.status_code == 400 and "input token count" in r.json()["error"]["message"]
        for t in running:
            done = await t
            assert done.status_code == 200 and done.json()["usageMetadata"]["candidatesTokenCount"] == 200


async def test_a_seed_repeats_its_answer_while_batched_traffic_samples_alongside(demo_dir, tmp_path):
    async with app_client(Catalog([chat_entry(demo_dir, "cb")]), make_settings(tmp_path)) as c:
        seeded = {"contents": "hi", "generationConfig": {"seed": 42, "temperature": 1.2, "maxOutputTokens": 40}}
        alone = (await c.post("/v1/models/cb:generateContent", json=seeded)).json()
        noise = {"contents": "noise", "generationConfig": {"temperature": 1.5, "maxOutputTokens": 300}}
        busy = [asyncio.create_task(c.post("/v1/models/cb:generateContent", json=noise)) for _ in range(4)]
        await asyncio.sleep(0.05)
        together = (await c.post("/v1/models/cb:generateContent", json=seeded)).json()
        await asyncio.gather(*busy)
        assert together["candidates"][0]["content"] == alone["candidates"][0]["content"]
