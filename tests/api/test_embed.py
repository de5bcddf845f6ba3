"""embedContent / batchEmbedContents: order, unit length, outputDimensionality truncation and re-normalisation."""

import math

import pytest


def norm(v):
    return math.sqrt(sum(x * x for x in v))


async def test_batch_embeddings_are_unit_vectors_in_request_order(client):
    reqs = [
        {"content": {"parts": [{"text": t}]}, "taskType": "RETRIEVAL_DOCUMENT", "title": "T"} for t in ("a", "b", "a")
    ]
    r = await client.post("/v1/models/gemini-embedding-001:batchEmbedContents", json={"requests": reqs})
    assert r.status_code == 200, r.text
    vectors = [e["values"] for e in r.json()["embeddings"]]
    assert [len(v) for v in vectors] == [64, 64, 64]
    assert all(abs(norm(v) - 1) < 1e-5 for v in vectors)
    assert vectors[0] == pytest.approx(vectors[2]) and vectors[0] != pytest.approx(vectors[1])


async def test_output_dimensionality_truncates_and_renormalises(client):
    url = "/v1beta/models/text-embedding-004:embedContent"
    full = (await client.post(url, json={"content": {"parts": [{"text": "hello"}]}})).json()["embedding"]["values"]
    short = await client.post(url, json={"content": {"parts": [{"text": "hello"}]}, "output_dimensionality": 8})
    values = short.json()["embedding"]["values"]
    assert len(values) == 8 and abs(norm(values) - 1) < 1e-6
    scale = norm(full[:8])
    assert values == pytest.approx([x / scale for x in full[:8]])


async def test_too_many_dimensions_and_wrong_model_kind_are_refused(client):
    body = {"content": {"parts": [{"text": "x"}]}, "outputDimensionality": 65}
    r = await client.post("/v1beta/models/gemini-embedding-001:embedContent", json=body)
    assert r.status_code == 400 and "outputDimensionality" in r.json()["error"]["message"]
    r = await client.post("/v1beta/models/gemini-2.0-flash:embedContent", json=body)
    assert r.status_code == 404
    r = await client.post("/v1beta/models/gemini-embedding-001:generateContent", json={"contents": "x"})
    assert r.status_code == 404


async def test_count_tokens_on_an_embedding_model(client):
    r = await client.post("/v1beta/models/gemini-embedding-001:countTokens", json={"contents": "hello world"})
    assert r.status_code == 200 and r.json()["totalTokens"] > 0
