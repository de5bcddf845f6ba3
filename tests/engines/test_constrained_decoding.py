"""Structured output through the transformers engine on the random demo model: every reply parses and
validates against its schema, over a batch of varied schemas (hand-written and generated) and prompts."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time

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
        # The demo model's positions: a request states its schema in the prompt (a 1,200-value enum is ~6,900 tokens).
        async for event in engine.generate(request, 8192):
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


def test_objects_are_compact_and_hold_only_declared_properties(engine):
    # As Gemini writes them (and xgrammar's strict mode did): no property the schema does not declare, and JSON in
    # json.dumps' spacing (", " and ": ", no other whitespace between tokens).
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 8}, "tags": {"type": "array", "items": {}}},
        "required": ["name"],
    }
    for seed in range(3):
        text, _ = run(engine, request("Data", seed=seed, response_format=ResponseFormat("json", schema)))
        value = json.loads(text)
        assert set(value) <= {"name", "tags"}
        outside = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)  # string contents may hold anything
        assert not re.search(r"\s", outside.replace(", ", ",").replace(": ", ":")), text
        assert not re.search(r"[,:](?! )", outside), text


def test_each_row_is_masked_by_its_own_matcher_and_stops_only_when_complete(demo_dir):
    import torch
    from transformers import AutoTokenizer

    from genserve.engines.constrained.grammar import GrammarCompiler

    tokenizer = AutoTokenizer.from_pretrained(demo_dir / "chat")
    eos = tokenizer.eos_token_id
    compiler = GrammarCompiler(tokenizer, len(tokenizer) + 6, stop_token_ids=[eos])  # logits wider than the vocab
    schema = {"type": "object", "properties": {"a": {"type": "boolean"}}, "required": ["a"]}
    processor = compiler.logits_processor(compiler.for_response(ResponseFormat("json", schema)), 2)
    texts = ['{"a": true}', '{"a": false}']
    plans = [tokenizer(t, add_special_tokens=False)["input_ids"] + [eos] for t in texts]
    ids = torch.tensor([[1, 5], [1, 5]])
    for step in range(max(len(plan) for plan in plans)):
        scores = processor(ids, torch.zeros(2, len(tokenizer) + 6))
        nxt = []
        for row, plan in enumerate(plans):
            nxt.append(plan[min(step, len(plan) - 1)])  # a row that stopped is padded with its stop (left alone)
            if step >= len(plan):
                continue
            allowed = set(torch.nonzero(scores[row] == 0).flatten().tolist())
            assert plan[step] in allowed, (row, step, tokenizer.decode(plan[: step + 1]))
            assert (eos in allowed) == (step == len(plan) - 1)  # a stop only once the object is closed
            assert max(allowed) < len(tokenizer)  # ids past the vocabulary: never
        ids = torch.cat([ids, torch.tensor(nxt)[:, None]], dim=1)
    processor(ids, torch.zeros(2, len(tokenizer) + 6))
    assert processor.completed == [True, True]


def test_enum_mode_writes_exactly_one_value_even_with_quotes_and_non_ascii(engine):
    values = ("up", 'say "hi"', "back\\slash", "héllo 😀", "two\nlines")
    for seed in range(4):
        text, done = run(engine, request("Pick", seed=seed, response_format=ResponseFormat("enum", enum_values=values)))
        assert text in values and done.finish_reason.value == "STOP"


TREE = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 6},
        "children": {"type": "array", "items": {"$ref": "#"}, "maxItems": 2},
    },
    "required": ["name", "children"],
}


def test_a_grammar_that_allows_nothing_fails_the_request_alone(engine):
    # What {"$ref": "#"} does when it gets past the schema check (which refuses it): a grammar with no finite match,
    # refused when it is compiled, before any token; a self-requiring object ends its request when it gets stuck.
    from genserve.errors import InvalidArgument

    endless = ResponseFormat("json", {"$ref": "#"})
    with pytest.raises(InvalidArgument) as failure:
        run(engine, request("Loop", max_tokens=20, response_format=endless))
    assert failure.value.message.startswith("generationConfig.responseSchema: the schema left no valid next token")
    stuck = {"type": "object", "properties": {"a": {"$ref": "#"}}, "required": ["a"]}
    with pytest.raises(InvalidArgument, match="generationConfig.responseSchema: "):
        run(engine, request("Loop", max_tokens=20, response_format=ResponseFormat("json", stuck)))
    text, _ = run(engine, request("Then", max_tokens=10, response_format=ResponseFormat("json", TREE)))
    assert text


DEFS_TREE = {
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {
                "label": {"type": "string", "maxLength": 4},
                "kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}, "maxItems": 2},
            },
            "required": ["label", "kids"],
        }
    },
    "$ref": "#/$defs/Node",
}


@pytest.mark.parametrize("tree", [TREE, DEFS_TREE], ids=["root-ref", "defs-ref"])
def test_a_recursive_schema_that_can_end_generates_valid_json(engine, tree):
    schema = check_json_schema(tree, "responseJsonSchema")
    finished = 0
    for seed in range(4):
        fmt = ResponseFormat("json", schema)
        text, done = run(engine, request("A tree", max_tokens=200, seed=seed, response_format=fmt))
        if done.finish_reason.value == "STOP":
            jsonschema.validate(json.loads(text), schema)
            finished += 1
    assert finished  # the closing pressure ends most trees within the budget


def test_the_second_request_with_a_schema_costs_no_compilation(engine):
    compiler = engine._grammar_compiler()
    fmt = ResponseFormat("json", check_json_schema({"type": "string", "enum": [f"w{i}" for i in range(1200)]}, "s"))
    before = compiler.compiles
    run(engine, request("Pick", max_tokens=6, response_format=fmt))
    first = compiler.compile_seconds
    assert compiler.compiles == before + 1
    run(engine, request("Pick again", max_tokens=6, seed=4, response_format=fmt))
    assert compiler.compiles == before + 1 and compiler.compile_seconds == first
    # The same schema from a fresh request object (as the API builds one per request) hits the same entry.
    again = ResponseFormat("json", json.loads(json.dumps(fmt.json_schema)))
    started = time.perf_counter()
    compiler.for_response(again)
    assert compiler.compiles == before + 1 and time.perf_counter() - started < 0.05


@pytest.mark.parametrize("mode", [FunctionCallingMode.ANY, FunctionCallingMode.VALIDATED])
def test_forced_call_grammars_are_cached_and_converted_only_once(engine, mode, monkeypatch):
    from genserve.engines.constrained import grammar

    params = {"type": "object", "properties": {"q": {"type": "string", "maxLength": 5}}, "required": ["q"]}
    tools = ToolSpec((FunctionDeclaration("lookup", "", params),), mode)
    run(engine, request("Call it", max_tokens=30, tools=tools))
    conversions = []
    original = grammar.json_schema_text
    monkeypatch.setattr(grammar, "json_schema_text", lambda schema: conversions.append(schema) or original(schema))
    compiler = engine._grammar_compiler()
    before = compiler.compiles
    run(engine, request("Call it again", max_tokens=30, seed=2, tools=tools))
    assert compiler.compiles == before and conversions == []


def _obj(n: int, required: range = range(0)) -> dict:
    return {
        "type": "object",
        "properties": {f"p{i}": {"type": "integer"} for i in range(n)},
        "required": [f"p{i}" for i in required],
    }


def _ranges(n: int, kind: str) -> dict:
    items = [{"type": kind, "minimum": -1234567 * i - 7, "maximum": 987654321 * i + 13} for i in range(n)]
    return {"type": "array", "prefixItems": items, "minItems": n, "maxItems": n}


# The schemas xgrammar needed seconds for on a real vocabulary (constrain/cost.py priced them before compiling and
# refused the costliest); benchmarks/grammar_compile.py times them on a 151,936-id vocabulary.
HOSTILE = {
    "maxLength 1000": {"type": "string", "maxLength": 1000},
    "100 optional properties": _obj(100),
    "1000 required properties": _obj(1000, range(1000)),
    "40 number ranges": _ranges(40, "number"),
    "40 integer ranges": _ranges(40, "integer"),
    "40 patterns": {"type": "array", "prefixItems": [{"type": "string", "pattern": "^[a-z0-9]{32}$"}] * 40},
    "2,000-value enum": {"type": "string", "enum": [f"{i:05d}" + "abcdefghi" * 5 for i in range(2000)]},
    "500 anyOf objects": {
        "anyOf": [
            {"type": "object", "properties": {"k": {"const": i}, "v": {"type": "string"}}, "required": ["k", "v"]}
            for i in range(500)
        ]
    },
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_schemas_that_were_costly_to_compile_compile_fast_and_decode_fast(demo_dir, name):
    import torch
    from transformers import AutoTokenizer

    from genserve.engines.constrained.grammar import GrammarCompiler

    tokenizer = AutoTokenizer.from_pretrained(demo_dir / "chat")
    compiler = GrammarCompiler(tokenizer, len(tokenizer))
    schema = check_json_schema(HOSTILE[name], "responseJsonSchema")  # within the schema limits
    started = time.perf_counter()
    compiled = compiler.for_response(ResponseFormat("json", schema))
    assert time.perf_counter() - started < 2.0  # 0.1 s at most measured, on any vocabulary
    processor = compiler.logits_processor(compiled, 1)
    ids = torch.tensor([[1, 5]])
    started = time.perf_counter()
    for _ in range(40):  # the lowest allowed token each step
        scores = processor(ids, torch.zeros(1, len(tokenizer)))
        allowed = torch.nonzero(scores[0] == 0).flatten()
        ids = torch.cat([ids, allowed[:1][None]], dim=1)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (_obj(1000), "generationConfig.responseSchema: the schema is too complex to enforce"),
        (
            {"anyOf": [{"type": "string", "maxLength": 100 + i} for i in range(1000)]},
            "generationConfig.responseSchema: the schema is too complex to enforce",
        ),
        ({"type": "array", "uniqueItems": True}, 'the schema cannot be enforced: Unimplemented keys: ["uniqueItems"]'),
    ],
)
def test_a_schema_over_llguidances_limits_is_refused_when_it_is_compiled(demo_dir, schema, message):
    # Bypassing the schema checks (which refuse uniqueItems themselves): the compiler's own refusal is a 400 too.
    from transformers import AutoTokenizer

    from genserve.engines.constrained.grammar import GrammarCompiler
    from genserve.errors import InvalidArgument

    tokenizer = AutoTokenizer.from_pretrained(demo_dir / "chat")
    compiler = GrammarCompiler(tokenizer, len(tokenizer))
    started = time.perf_counter()
    with pytest.raises(InvalidArgument) as info:
        compiler.for_response(ResponseFormat("json", schema))
    assert message in info.value.message and info.value.code == 400
    assert time.perf_counter() - started < 2.0 and compiler.compiles == 0
    # Forced calls name the declaration llguidance could not compile.
    bad = FunctionDeclaration("bad", "", {"type": "array", "uniqueItems": True})
    with pytest.raises(InvalidArgument) as info:
        compiler.for_tool_calls([FunctionDeclaration("ok", "", None), bad], "<tool_call>", "</tool_call>")
    assert info.value.message.startswith("tools.functionDeclarations[bad].parameters: the schema cannot be enforced")
    # Also where the limit is only met inside a call's arguments, after free text (VALIDATED) or forced text.
    many = {"anyOf": [{"type": "string", "maxLength": 100 + i} for i in range(1000)]}
    for forced in (compiler.for_tool_calls, compiler.for_validated_tool_calls):
        with pytest.raises(InvalidArgument) as info:
            forced(
                [FunctionDeclaration("ok", "", None), FunctionDeclaration("many", "", many)],
                "<tool_call>",
                "</tool_call>",
            )
        assert info.value.message.startswith("tools.functionDeclarations[many].parameters: the schema is too complex")


def test_the_grammar_cache_is_bounded_in_bytes(demo_dir):
    from transformers import AutoTokenizer

    from genserve.engines.constrained.grammar import GrammarCompiler

    tokenizer = AutoTokenizer.from_pretrained(demo_dir / "chat")
    formats = [ResponseFormat("json", {"type": "string", "enum": [f"{n}-{i}" * 20 for i in range(200)]}) for n in "abc"]
    size = GrammarCompiler(tokenizer, len(tokenizer)).for_response(formats[0]).size_bytes
    compiler = GrammarCompiler(tokenizer, len(tokenizer), cache_bytes=int(size * 2.5))
    for fmt in formats:
        compiler.for_response(fmt)
    assert 0 < compiler.cache_bytes <= size * 2.5 and len(compiler._cache) == 2
    compiler.for_response(formats[-1])  # the newest is kept, the oldest went
    assert compiler.compiles == 3
    compiler.for_response(formats[0])
    assert compiler.compiles == 4


def test_the_sampler_never_fails_a_batch_for_one_row_with_no_allowed_token():
    import torch

    from genserve.engines.sampling import dead_rows, sample

    logits = torch.randn(3, 50)
    logits[1] = float("-inf")
    logits[2, :] = float("nan")
    logits[2, 7] = 3.0  # NaN elsewhere counts as -inf: only token 7 is left
    args = (torch.tensor([1.0, 1.0, 1.0]), torch.tensor([0, 0, 0]), torch.tensor([1.0, 1.0, 1.0]))
    tokens = sample(logits, *args, generator=torch.Generator().manual_seed(0))
    assert tokens.shape == (3,) and int(tokens[2]) == 7
    logits[0, 3] = float("inf")  # a certain token stays certain, at any temperature
    tokens = sample(logits, torch.tensor([0.01, 1.0, 2.0]), *args[1:], generator=torch.Generator().manual_seed(0))
    assert int(tokens[0]) == 3
    assert dead_rows(logits).tolist() == [False, True, False]
    assert dead_rows(torch.full((1, 5), float("nan"))).tolist() == [True]


def test_a_row_with_no_allowed_token_ends_the_request_with_its_own_error():
    import torch

    from genserve.engines.hf_transformers import _Sampler
    from genserve.errors import Internal, InvalidArgument

    sampler = _Sampler(
        SamplingParams(temperature=1.0, top_p=None, top_k=None, max_output_tokens=5), torch.device("cpu")
    )
    scores = torch.zeros(2, 10)
    scores[1] = float("-inf")
    with pytest.raises(InvalidArgument, match="left no allowed next token"):
        sampler(torch.zeros(2, 1, dtype=torch.long), scores)
    with pytest.raises(Internal, match="invalid scores"):
        sampler(torch.zeros(1, 1, dtype=torch.long), torch.full((1, 10), float("nan")))
    assert sampler(torch.zeros(1, 1, dtype=torch.long), torch.zeros(1, 10)).isfinite().sum() == 1
