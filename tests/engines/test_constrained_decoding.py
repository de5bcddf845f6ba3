"""Structured output through the transformers engine on the random demo model: every reply parses and
validates against its schema, over a batch of varied schemas (hand-written and generated) and prompts."""

from __future__ import annotations

import asyncio
import json
import random

import jsonschema
import pytest

from genserve.constrain.schema import check_json_schema, openapi_to_json_schema
from genserve.core.types import (
    CandidateDone,
    FunctionCallingMode,
    FunctionDeclaration,
    Prompt,
    ResponseFormat,
    SamplingParams,
    TextDelta,
    TextRequest,
    ToolSpec,
    Turn,
)
from genserve.engines.hf_transformers import TransformersTextEngine

HAND_WRITTEN = [
    {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    },
    {"type": "array", "items": {"type": "string", "maxLength": 8}, "minItems": 2, "maxItems": 4},
    {"type": "string", "enum": ["red", "green", "blue"]},
    {"type": "integer", "minimum": -5, "maximum": 5},
    {"type": "number", "minimum": 0, "maximum": 1},
    {"type": "boolean"},
    {"type": ["string", "null"], "maxLength": 5},
    {"type": "string", "pattern": "^[a-z]{3}-[0-9]{2}$"},
    {"type": "string", "minLength": 4, "maxLength": 6},
    {"anyOf": [{"type": "integer"}, {"type": "object", "properties": {"x": {"type": "boolean"}}, "required": ["x"]}]},
    {
        "$defs": {
            "Point": {
                "type": "object",
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["x", "y"],
            }
        },
        "type": "object",
        "properties": {"points": {"type": "array", "items": {"$ref": "#/$defs/Point"}, "maxItems": 3}},
        "required": ["points"],
    },
    {
        "type": "object",
        "properties": {
            "user": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "tags": {"type": "array", "items": {"enum": ["a", "b"]}}},
                "required": ["id", "tags"],
                "additionalProperties": False,
            }
        },
        "required": ["user"],
        "additionalProperties": False,
    },
    {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 9}, "minItems": 3, "maxItems": 3},
    {"type": "object", "properties": {"ok": {"type": "boolean"}, "note": {"type": ["string", "null"]}}},
    {"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 3},
]
# The OpenAPI form the Python SDK sends for pydantic models (snake_case keys, upper-case types).
OPENAPI = [
    {
        "type": "OBJECT",
        "title": "Person",
        "properties": {
            "name": {"type": "STRING", "title": "Name"},
            "age": {"type": "INTEGER", "title": "Age", "minimum": 0, "maximum": 120},
            "email": {"type": "STRING", "nullable": True},
        },
        "required": ["name", "age"],
        "property_ordering": ["name", "age", "email"],
    },
    {
        "type": "ARRAY",
        "items": {
            "type": "OBJECT",
            "properties": {"title": {"type": "STRING", "max_length": 10}, "year": {"type": "INTEGER"}},
            "required": ["title", "year"],
        },
        "max_items": 3,
    },
    {"type": "OBJECT", "properties": {"mood": {"type": "STRING", "enum": ["happy", "sad"]}}, "required": ["mood"]},
]


def generated_schema(rng: random.Random, depth: int = 0) -> dict:
    """A random schema over the constructs users write, nested at most three deep."""
    kinds = ["string", "integer", "number", "boolean", "enum"] + (["object", "array"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "string":
        schema: dict = {"type": "string"}
        if rng.random() < 0.5:
            schema["maxLength"] = rng.randint(1, 12)
        return schema
    if kind == "integer":
        low = rng.randint(-100, 100)
        return {"type": "integer", "minimum": low, "maximum": low + rng.randint(0, 1000)}
    if kind == "number":
        return {"type": "number"}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "enum":
        return {"enum": rng.sample(["alpha", "beta", "gamma", "delta", "epsilon"], rng.randint(1, 4))}
    if kind == "array":
        return {"type": "array", "items": generated_schema(rng, depth + 1), "maxItems": rng.randint(0, 4)}
    names = rng.sample(["id", "name", "kind", "score", "items", "meta", "when", "flag"], rng.randint(1, 4))
    properties = {n: generated_schema(rng, depth + 1) for n in names}
    return {"type": "object", "properties": properties, "required": rng.sample(names, rng.randint(0, len(names)))}


def schemas() -> list[dict]:
    rng = random.Random(5)
    converted = [openapi_to_json_schema(s, "responseSchema") for s in OPENAPI]
    return (
        [check_json_schema(s, "responseJsonSchema") for s in HAND_WRITTEN]
        + converted
        + [generated_schema(rng) for _ in range(35)]
    )


PROMPTS = ["Give me data", "Describe a person as JSON", "List some things", "What is the weather?", "Answer"]


@pytest.fixture(scope="module")
def engine(demo_dir):
    engine = TransformersTextEngine(str(demo_dir / "chat"), {"dtype": "float32"})
    yield engine
    engine.close()


def run(engine: TransformersTextEngine, request: TextRequest) -> tuple[str, CandidateDone]:
    async def collect() -> tuple[str, CandidateDone]:
        text, done = "", None
        async for event in engine.generate(request, 6000):
            if isinstance(event, TextDelta):
                text += event.text
            elif isinstance(event, CandidateDone):
                text, done = text + event.text, event
        return text, done

    return asyncio.run(collect())


def request(prompt: str, max_tokens: int = 300, seed: int = 0, **kwargs) -> TextRequest:
    sampling = SamplingParams(temperature=1.0, top_p=0.95, top_k=64, max_output_tokens=max_tokens, seed=seed)
    return TextRequest("m", Prompt(None, (Turn("user", (prompt,)),)), sampling, **kwargs)


def test_every_reply_parses_and_validates(engine):
    cases = schemas()
    assert len(cases) >= 50
    valid = 0
    for i, schema in enumerate(cases):
        text, done = run(
            engine, request(PROMPTS[i % len(PROMPTS)], seed=i, response_format=ResponseFormat("json", schema))
        )
        jsonschema.validate(json.loads(text), schema)
        assert done.finish_reason.value == "STOP", (schema, text)
        valid += 1
    print(f"structured output: {valid}/{len(cases)} valid")


def test_an_unbounded_string_still_finishes_within_the_budget(engine):
    schema = {"type": "object", "properties": {"story": {"type": "string"}}, "required": ["story"]}
    for seed in range(3):
        text, done = run(
            engine, request("Tell a story", max_tokens=60, seed=seed, response_format=ResponseFormat("json", schema))
        )
        jsonschema.validate(json.loads(text), schema)
        assert done.token_count <= 60


def test_json_mode_and_enum(engine):
    text, _ = run(engine, request("Anything", seed=1, response_format=ResponseFormat("json")))
    json.loads(text)
    text, _ = run(engine, request("Pick", response_format=ResponseFormat("enum", enum_values=("up", "down"))))
    assert text in ("up", "down")


def test_forced_calls_name_a_declared_function_with_valid_arguments(engine):
    weather = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 10}}, "required": ["city"]}
    tools = ToolSpec(
        (FunctionDeclaration("get_weather", "", weather), FunctionDeclaration("get_time", "", None)),
        FunctionCallingMode.ANY,
        ("get_weather",),
    )
    for seed in range(3):
        text, _ = run(engine, request("Weather?", seed=seed, tools=tools))
        calls = [c.split("</tool_call>")[0] for c in text.split("<tool_call>")[1:]]
        assert calls and text.lstrip().startswith("<tool_call>")
        for body in calls:
            call = json.loads(body)
            assert call["name"] == "get_weather"
            jsonschema.validate(call["arguments"], weather)


def test_validated_mode_lets_text_through_but_calls_must_match_their_schema(engine):
    weather = {"type": "object", "properties": {"city": {"enum": ["Oslo", "Lima"]}}, "required": ["city"]}
    tools = ToolSpec((FunctionDeclaration("get_weather", "", weather),), FunctionCallingMode.VALIDATED)
    for seed in range(4):
        text, _ = run(engine, request("Weather?", max_tokens=80, seed=seed, tools=tools))
        for body in [c.split("</tool_call>")[0] for c in text.split("<tool_call>")[1:]]:
            call = json.loads(body)
            assert call["name"] == "get_weather"
            jsonschema.validate(call["arguments"], weather)


TREE = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 6},
        "children": {"type": "array", "items": {"$ref": "#"}, "maxItems": 2},
    },
    "required": ["name", "children"],
}


def test_a_recursive_schema_that_can_end_generates_valid_json(engine):
    schema = check_json_schema(TREE, "responseJsonSchema")
    for seed in range(3):
        text, done = run(engine, request("A tree", seed=seed, response_format=ResponseFormat("json", schema)))
        if done.finish_reason.value == "STOP":  # a deep random tree may run out of tokens first
            jsonschema.validate(json.loads(text), schema)


def test_a_schema_sent_again_is_not_compiled_again(engine):
    fmt = ResponseFormat("json", check_json_schema({"type": "string", "enum": [f"v{i}" for i in range(1500)]}, "s"))
    run(engine, request("Pick", max_tokens=8, response_format=fmt))
    compiler = engine._grammar_compiler()
    compiles = []
    original = compiler._compiler.compile_grammar
    compiler._compiler.compile_grammar = lambda *a: compiles.append(a) or original(*a)
    try:
        run(engine, request("Pick again", max_tokens=8, seed=3, response_format=fmt))
    finally:
        compiler._compiler.compile_grammar = original
    assert compiles == []


def test_a_grammar_that_allows_nothing_fails_the_request_alone(engine):
    # What {"$ref": "#"} did before the schema check refused it: xgrammar compiles a grammar with no finite match.
    endless = ResponseFormat("json", {"$ref": "#"})
    with pytest.raises(Exception) as failure:
        run(engine, request("Loop", max_tokens=20, response_format=endless))
    assert "no valid next token" in str(failure.value)
    text, _ = run(engine, request("Then", max_tokens=10, response_format=ResponseFormat("json", TREE)))
    assert text
