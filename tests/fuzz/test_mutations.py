"""Body-mutation fuzz: valid bodies for every JSON route and upload metadata, one value at a time made hostile."""

# Seeded, so every run sends the same requests. No mutation may answer 5xx, an error that is not Google's envelope,
# or log an error on the server; jobs accepted from mutated bodies must not fail inside; and afterwards every model
# must still answer a plain request properly (one request must never disable a model: issue 14's topK 2^31 answered
# 200, then every later request 503).

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests.fuzz.oracle import ErrorLog, problems_with

LITE = "/v1beta/models/gemini-2.0-flash-lite"  # a real (random-weights) transformers model: its engine once crashed
PART = {"text": "Say hi"}
CONFIG = {"maxOutputTokens": 4, "temperature": 0.7, "topK": 5, "topP": 0.9, "seed": 3, "stopSequences": ["x"]}
BOUNDARY = "fuzz-boundary"


@dataclass(frozen=True)
class Target:
    url: str
    body: dict[str, Any]
    form: str = "json"  # or "start" (resumable upload start) or "multipart" (multipart/related metadata part)


TOOLS = [
    {
        "functionDeclarations": [
            {
                "name": "get_weather",
                "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
            }
        ]
    }
]
METADATA = {"file": {"displayName": "notes", "mimeType": "text/plain", "sizeBytes": "5"}}
TARGETS = [
    Target(f"{LITE}:generateContent", {"contents": [{"role": "user", "parts": [PART]}], "generationConfig": CONFIG}),
    Target(
        f"{LITE}:streamGenerateContent?alt=sse",
        {"contents": "hi", "systemInstruction": {"parts": [PART]}, "generationConfig": {"maxOutputTokens": 3}},
    ),
    Target(
        f"{LITE}:generateContent",
        {
            "contents": "hi",
            "generationConfig": {
                "maxOutputTokens": 12,
                "responseMimeType": "application/json",
                "responseJsonSchema": {"type": "object", "properties": {"a": {"type": "integer"}}},
            },
        },
    ),
    Target(
        "/v1beta/models/scripted-tools:generateContent",
        {
            "contents": [{"role": "user", "parts": [PART]}],
            "tools": TOOLS,
            "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
        },
    ),
    Target("/v1beta/models/scripted:streamGenerateContent", {"contents": [{"parts": [PART]}]}),  # a JSON array
    Target(f"{LITE}:countTokens", {"contents": [{"parts": [PART]}]}),
    Target(
        "/v1beta/models/text-embedding-004:embedContent",
        {"content": {"parts": [PART]}, "taskType": "RETRIEVAL_QUERY", "outputDimensionality": 8},
    ),
    Target(
        "/v1beta/models/text-embedding-004:batchEmbedContents",
        {"requests": [{"model": "models/text-embedding-004", "content": {"parts": [PART]}, "outputDimensionality": 8}]},
    ),
    Target(
        "/v1beta/models/imagen-3.0-generate-002:predict",
        {"instances": [{"prompt": "a cat"}], "parameters": {"sampleCount": 1, "aspectRatio": "1:1"}},
    ),
    Target(
        "/v1beta/models/veo-2.0-generate-001:predictLongRunning",
        {"instances": [{"prompt": "a wave"}], "parameters": {"sampleCount": 1, "durationSeconds": 5}},
    ),
    Target("/upload/v1beta/files", METADATA, "start"),
    Target("/upload/v1beta/files?uploadType=multipart", METADATA, "multipart"),
]
# Values that once broke something (issue 14), and the usual suspects. Markers become raw JSON after dumping; a
# lone surrogate is dumped as the escape \ud800, which is how it arrives on the wire.
HOSTILE: list[Any] = [
    None, "", "\ud800", "x" * 100_000, 2**31, 2**63, 2**64, 10**30, -1, -(2**31) - 1, 1e308, "__INF__", -0.0, 0.5,
    True, [], {}, [[]], [{}], {"a": {"b": {}}}, "__DEEP__", "__DEEP_OBJECT__", "files/../../etc/passwd",
    "models/../../x",
]  # fmt: skip
MARKERS = {
    '"__INF__"': "1e400",  # Python's json reads it as inf
    '"__DEEP__"': "[" * 10_000 + "]" * 10_000,
    '"__DEEP_OBJECT__"': '{"a":' * 10_000 + "1" + "}" * 10_000,
    '"__DEEP_2000__"': "[" * 2_000 + "]" * 2_000,
}
# The sampling fields the real engine takes, at the edges of what its tensors and C types hold.
CONFIG_EDGES: list[tuple[str, Any]] = [
    ("topK", 2**31), ("topK", 2**63), ("topK", -1), ("topK", 0), ("seed", 2**64), ("seed", 10**30), ("seed", -1),
    ("seed", 2**63), ("maxOutputTokens", 2**31), ("maxOutputTokens", 0), ("maxOutputTokens", -1),
    ("candidateCount", 2**31), ("temperature", "__INF__"), ("temperature", 1e308), ("topP", -0.0), ("topP", 1e-320),
    ("presencePenalty", 1e308), ("frequencyPenalty", "__INF__"), ("logprobs", 2**31), ("stopSequences", ["\ud800"]),
    ("thinkingConfig", {"thinkingBudget": 2**63}), ("responseMimeType", "\ud800"),
]  # fmt: skip


def nested(levels: int) -> dict:
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(levels):
        schema = {"type": "array", "items": schema}
    return schema


def structured(schema: dict) -> dict:
    config = {"maxOutputTokens": 8, "responseMimeType": "application/json", "responseJsonSchema": schema}
    return {"contents": "hi", "generationConfig": config}


CYCLE = {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}
EMBED = "/v1beta/models/text-embedding-004"
# Whole bodies from issue 14's list, each of which once answered 500, disabled a model or cost seconds.
ISSUE_BODIES: list[tuple[str, dict[str, Any]]] = [
    (f"{LITE}:generateContent", structured(nested(200))),
    (f"{LITE}:generateContent", structured(nested(90))),  # within the body's depth limit: the schema code's turn
    (f"{LITE}:generateContent", structured({"$ref": "#"})),
    (f"{LITE}:generateContent", structured(CYCLE)),
    (f"{LITE}:generateContent", structured({"type": "string", "enum": [f"v{i}" for i in range(100_000)]})),
    (f"{LITE}:generateContent", structured({"type": "object", "properties": {f"p{i}": {} for i in range(10_000)}})),
    (f"{LITE}:generateContent", {"contents": [{"parts": [{"fileData": {"fileUri": ""}}]}]}),
    (f"{LITE}:generateContent", {"contents": [{"parts": [{"fileData": {"fileUri": "files/../../etc/passwd"}}]}]}),
    (
        "/v1beta/models/scripted-tools:generateContent",
        {"contents": "hi", "tools": TOOLS, "toolConfig": {"functionCallingConfig": [{}]}},
    ),
    (f"{EMBED}:embedContent", {"content": {"parts": [{"text": ""}]}}),
    (f"{EMBED}:batchEmbedContents", {"requests": [{"model": EMBED[8:], "content": {"parts": [PART]}}] * 5_000}),
    (f"{EMBED}:batchEmbedContents", {"requests": [{"model": "models/../../x", "content": {"parts": [PART]}}]}),
]


def dumps(value: Any) -> str:
    text = json.dumps(value)
    for marker, raw in MARKERS.items():
        text = text.replace(marker, raw)
    return text


def places(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in the body (containers included), as key/index tuples."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += places(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += places(item, (*prefix, index))
    return found


def replaced(body: dict, place: tuple, replacement: Any) -> dict:
    copy = json.loads(json.dumps(body))
    node = copy
    for key in place[:-1]:
        node = node[key]
    node[place[-1]] = replacement
    return copy


def cases() -> list[tuple[Target, bytes]]:
    rng = random.Random(14)
    lite = TARGETS[0]
    out = [(lite, dumps(replaced(lite.body, ("generationConfig", f), v))) for f, v in CONFIG_EDGES]
    out += [(Target(url, body), dumps(body)) for url, body in ISSUE_BODIES]
    for target in TARGETS:
        body = target.body
        for place in places(body):
            out += [(target, dumps(replaced(body, place, value))) for value in rng.sample(HOSTILE, 6)]
        out += [
            (target, dumps({**body, "unknownField": "__DEEP_2000__"})),  # deep where nothing reads it
            (target, dumps({**body, "\ud800": 1})),  # a lone surrogate in a key
            (target, json.dumps(body)[:-1]),  # cut short
            (target, json.dumps([body])),  # a list where the object belongs
            (target, "1e400"),
            (target, "null"),
        ]
    # Issue 14's upload metadata, both ways it arrives.
    for target in TARGETS[-2:]:
        out += [(target, raw) for raw in ('{"file": {"displayName": 123}}', '{"file": "abc"}', '{"file": [{}]}')]
        out += [(target, '{"file": {"sizeBytes": "99999999999999999999999"}}')]
        out += [(target, '{"file": {"displayName": "\\ud800"}}'), (target, dumps({"file": "__DEEP__"}))]
    # Bytes that are not UTF-8, at the top and inside a string.
    encoded = [(target, raw.encode()) for target, raw in out]  # ASCII: json.dumps escapes everything else
    return encoded + [(t, raw) for t in TARGETS for raw in (b"\xff", b'{"contents": "\xff\xfe"}')]


async def send(client, target: Target, data: bytes):
    if target.form == "start":
        headers = {
            "x-goog-upload-protocol": "resumable",
            "x-goog-upload-command": "start",
            "x-goog-upload-header-content-length": "5",
            "x-goog-upload-header-content-type": "text/plain",
        }
        return await client.post(target.url, content=data, headers={"content-type": "application/json", **headers})
    if target.form == "multipart":
        head = f"--{BOUNDARY}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode()
        tail = f"\r\n--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nhello\r\n--{BOUNDARY}--\r\n".encode()
        content_type = f"multipart/related; boundary={BOUNDARY}"
        return await client.post(target.url, content=head + data + tail, headers={"content-type": content_type})
    return await client.post(target.url, content=data, headers={"content-type": "application/json"})


def answered(response) -> bool:
    """A real answer, not just a 200: the topK crash answered 200 with empty text."""
    if response.status_code != 200:
        return False
    if response.headers.get("x-goog-upload-url"):  # a resumable start: the upload session is the answer
        return True
    if "event-stream" in response.headers.get("content-type", ""):
        return b'"parts"' in response.content
    reply = response.json()
    reply = reply[0] if isinstance(reply, list) and reply else reply
    keys = ("candidates", "totalTokens", "embedding", "embeddings", "predictions", "name", "file")
    return isinstance(reply, dict) and any(reply.get(key) for key in keys)


async def finished(client, name: str) -> dict:
    for _ in range(1200):
        operation = (await client.get(f"/v1beta/{name}")).json()
        if operation.get("done"):
            return operation
        await asyncio.sleep(0.05)
    return {"error": {"code": "timeout", "message": "not done after a minute"}}


async def test_no_mutation_answers_a_server_error_and_every_model_survives(client):
    statuses: Counter[int] = Counter()
    problems: list[str] = []
    jobs: list[tuple[bytes, str]] = []
    all_cases = cases()
    with ErrorLog() as log:
        for target, raw in all_cases:
            r = await send(client, target, raw)
            statuses[r.status_code] += 1
            found = problems_with(r.status_code, r.headers.get("content-type", ""), r.content)
            problems += [f"POST {target.url} ({target.form}) {raw[:200]!r}: {problem}" for problem in found]
            if r.status_code == 200 and target.url.endswith(":predictLongRunning"):
                jobs.append((raw, r.json()["name"]))
        for raw, name in jobs:  # accepted means valid: the job must then not fail inside (INTERNAL) or hang
            error = (await finished(client, name)).get("error")
            if error and error.get("code") in (13, "timeout"):
                problems.append(f"POST {name.partition('/operations')[0]}:predictLongRunning {raw[:200]!r}: {error}")
        for target in TARGETS:  # nothing above disabled a model
            r = await send(client, target, json.dumps(target.body).encode())
            if not answered(r):
                problems.append(f"afterwards, valid POST {target.url} ({target.form}): {r.status_code} {r.text[:300]}")
    print(f"mutations: {len(all_cases)} requests, {len(jobs)} jobs, statuses {dict(sorted(statuses.items()))}")
    failures = problems + [f"server log: {line}" for line in log.lines()]
    assert not failures, "\n".join(failures)
    assert len(all_cases) > 400 and statuses[200] > 20 and statuses[400] > 200
