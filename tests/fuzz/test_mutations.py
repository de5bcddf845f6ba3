"""Body-mutation fuzz: valid requests for every JSON route, each value in turn replaced by something hostile.

No mutation may answer 5xx or an error that is not Google's envelope, and afterwards the same models must still
answer a plain request (one request must never disable a model). Deterministic: a fixed seed picks the mutations."""

import json
import random
from typing import Any

import pytest

LITE = "/v1beta/models/gemini-2.0-flash-lite:generateContent"
CONFIG = {"maxOutputTokens": 4, "temperature": 0.7, "topK": 5, "topP": 0.9, "seed": 3, "stopSequences": ["x"]}
PART = {"text": "Say hi"}
BODIES: list[tuple[str, dict[str, Any]]] = [
    (LITE, {"contents": [{"role": "user", "parts": [PART]}], "generationConfig": CONFIG}),
    (
        "/v1beta/models/gemini-2.0-flash-lite:streamGenerateContent?alt=sse",
        {"contents": "hi", "systemInstruction": {"parts": [PART]}, "generationConfig": {"maxOutputTokens": 3}},
    ),
    (
        "/v1beta/models/scripted-tools:generateContent",
        {
            "contents": [{"role": "user", "parts": [PART]}],
            "tools": [
                {
                    "functionDeclarations": [
                        {
                            "name": "get_weather",
                            "parameters": {
                                "type": "OBJECT",
                                "properties": {"city": {"type": "STRING"}},
                                "required": ["city"],
                            },
                        }
                    ]
                }
            ],
            "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
        },
    ),
    (
        LITE,
        {
            "contents": "hi",
            "generationConfig": {
                "maxOutputTokens": 12,
                "responseMimeType": "application/json",
                "responseJsonSchema": {"type": "object", "properties": {"a": {"type": "integer"}}},
            },
        },
    ),
    ("/v1beta/models/gemini-2.0-flash-lite:countTokens", {"contents": [{"parts": [PART]}]}),
    ("/v1beta/models/text-embedding-004:embedContent", {"content": {"parts": [PART]}, "taskType": "RETRIEVAL_QUERY"}),
    (
        "/v1beta/models/text-embedding-004:batchEmbedContents",
        {"requests": [{"model": "models/text-embedding-004", "content": {"parts": [PART]}, "outputDimensionality": 8}]},
    ),
    (
        "/v1beta/models/imagen-3.0-generate-002:predict",
        {"instances": [{"prompt": "a cat"}], "parameters": {"sampleCount": 1, "aspectRatio": "1:1"}},
    ),
]
# Values that once broke something (issue 14), and the usual suspects. Markers become raw JSON after dumping.
HOSTILE: list[Any] = [
    None, "", "\ud800", "x" * 100_000, 2**31, 2**63, 2**64, 10**30, -1, -(2**31) - 1, 1e308, "__INF__", -0.0, 0.5,
    True, [], {}, [[]], {"a": {"b": {}}}, "__DEEP__", "files/../../etc/passwd", "models/../../x",
]  # fmt: skip
DEEP = "[" * 10_000 + "]" * 10_000


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in the body (containers included), as key/index tuples."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def mutated(body: dict, path: tuple, replacement: Any) -> str:
    copy = json.loads(json.dumps(body))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = replacement
    return json.dumps(copy).replace('"__INF__"', "1e400").replace('"__DEEP__"', DEEP)


def cases() -> list[tuple[str, str]]:
    rng = random.Random(14)
    out = []
    for url, body in BODIES:
        for path in paths(body):
            for replacement in rng.sample(HOSTILE, 6):
                out.append((url, mutated(body, path, replacement)))
        out.append(
            (url, json.dumps({**body, "unknownField": "__DEEP__"}).replace('"__DEEP__"', "[" * 2000 + "]" * 2000))
        )
        out.append((url, json.dumps(body)[:-1]))  # cut short
        out.append((url, json.dumps([body])))
    return out


async def test_no_mutation_answers_a_server_error_and_every_model_survives(client):
    statuses: dict[int, int] = {}
    all_cases = cases()
    assert len(all_cases) > 300
    for url, raw in all_cases:
        r = await client.post(
            url, content=raw.encode("utf-8", "surrogatepass"), headers={"content-type": "application/json"}
        )
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code < 500, (url, raw[:300], r.text[:300])
        if r.status_code != 200:
            error = r.json()["error"]
            assert error["code"] == r.status_code and error["status"] and error["message"].encode("utf-8")
    print(f"mutations: {len(all_cases)} requests, statuses {dict(sorted(statuses.items()))}")
    assert statuses.get(200, 0) > 20 and statuses.get(400, 0) > 100
    for url, body in BODIES:  # nothing above disabled a model
        r = await client.post(url, json=body)
        assert r.status_code == 200, (url, r.text)


@pytest.mark.parametrize(
    "metadata",
    [
        b'{"file":{"displayName":"\\ud800"}}',
        b'{"file":{"sizeBytes":"99999999999999999999999"}}',
        DEEP.encode(),
        b"\xff",
    ],
)
async def test_upload_metadata_mutations(client, metadata):
    headers = {"x-goog-upload-protocol": "resumable", "x-goog-upload-command": "start"}
    r = await client.post("/upload/v1beta/files", content=metadata, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
