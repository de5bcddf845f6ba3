"""Constrained decoding end to end on the demo chat model (tiny random Qwen3): whatever a random model samples, the
grammar makes it a valid reply.

Every schema here is bounded (maxLength, maxItems, numeric bounds, enums, patterns): xgrammar forces what comes
next but never forces a reply to end, so an unbounded schema (a free string, an unbounded integer) can run into
max_new_tokens and finish with MAX_TOKENS, valid only as a prefix. Numbers' fraction digits and date-time
fractions are unbounded in xgrammar's grammar, but end with high probability at each step."""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
xgr = pytest.importorskip("xgrammar")
jsonschema = pytest.importorskip("jsonschema")

from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, LogitsProcessor  # noqa: E402

from genserve.constrain.grammar import GrammarCompiler, json_ebnf  # noqa: E402
from genserve.constrain.schema import check_json_schema, openapi_to_json_schema  # noqa: E402
from genserve.core.types import FunctionDeclaration, ResponseFormat  # noqa: E402
from genserve.errors import InvalidArgument  # noqa: E402

OPEN, CLOSE = "<tool_call>", "</tool_call>"
MAX_NEW = 400
PROMPTS = [
    "Hi",
    "Describe a person as JSON.",
    "Give me the answer in the requested format, please, and keep it short and correct.",
    "x " * 40,
]


@pytest.fixture(scope="module")
def lm(demo_dir: Path):
    path = demo_dir / "chat"
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    compiler = GrammarCompiler(tokenizer, model.config.vocab_size, stop_token_ids=[tokenizer.eos_token_id])
    return tokenizer, model, compiler


def generate(lm, compiled, rows: int, prompt: str | list[str], *, max_new: int = MAX_NEW, before=()):
    """Samples `rows` replies under the grammar; returns (texts, generated ids per row, processor)."""
    tokenizer, model, compiler = lm
    prompts = [prompt] * rows if isinstance(prompt, str) else prompt
    chats = [[{"role": "user", "content": p}] for p in prompts]
    texts = [tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in chats]
    enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)  # left padding
    processor = compiler.logits_processor(compiled, len(prompts))
    config = GenerationConfig(
        max_new_tokens=max_new,
        do_sample=True,
        temperature=1.0,
        top_k=0,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.inference_mode():
        out = model.generate(**enc, generation_config=config, logits_processor=[*before, processor])
    new = out[:, enc["input_ids"].shape[1] :].tolist()
    ids = [row[: row.index(tokenizer.eos_token_id)] if tokenizer.eos_token_id in row else row for row in new]
    return [tokenizer.decode(r, skip_special_tokens=True) for r in ids], ids, processor


def special_free(lm, ids: list[int]) -> bool:
    tokenizer = lm[0]
    return not set(ids) & set(tokenizer.all_special_ids)


# -- schemas ------------------------------------------------------------------------------------------------------

NAMES = ["name", "age", "tags", "é-ü", 'say "hi"', "a b", "x", "items", "nested", "flag"]
PATTERNS = [
    "^[a-z]{2,5}$",
    "^[A-Z][0-9]{3}$",
    "^(yes|no|maybe)$",
    "^\\d{4}-\\d{2}$",
    "^[a-f0-9]{8}$",
    "^[A-Za-z ]{1,10}$",
]
ENUMS = ["a", "b", "ab", "é", "x y", 'quo"te', "back\\slash", 1, 2.5, None, True]


def random_schema(rng: random.Random, depth: int = 0) -> dict:
    kinds = ["string", "pattern", "enum", "format", "integer", "number", "boolean", "null", "nullable"]
    if depth < 2:
        kinds += ["object", "array", "anyOf"] * 3
    kind = rng.choice(kinds)
    if kind == "string":
        high = rng.randint(0, 12)
        return {"type": "string", "minLength": rng.randint(0, high), "maxLength": high}
    if kind == "pattern":
        return {"type": "string", "pattern": rng.choice(PATTERNS)}
    if kind == "enum":
        return {"enum": rng.sample(ENUMS, rng.randint(1, 4))}
    if kind == "format":
        return {"type": "string", "format": rng.choice(["date", "uuid", "ipv4", "date-time", "time"])}
    if kind == "integer":
        low = rng.randint(-1000, 1000)
        schema = {"type": "integer", "minimum": low, "maximum": low + rng.choice([0, 1, 9, 10**6])}
        if rng.random() < 0.3:
            schema = {"type": "integer", "minimum": 0, "maximum": 100, "multipleOf": rng.choice([3, 7, 25])}
        return schema
    if kind == "number":
        low = round(rng.uniform(-100, 100), 2)
        return {"type": "number", "minimum": low, "maximum": low + rng.choice([0.5, 1, 1000])}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "null":
        return {"type": "null"}
    if kind == "nullable":
        return rng.choice(
            [
                {"type": ["integer", "null"], "minimum": 0, "maximum": 9},
                {"type": ["string", "null"], "maxLength": 4},
                {"type": ["boolean", "null"]},
            ]
        )
    if kind == "object":
        names = rng.sample(NAMES, rng.randint(1, 4))
        schema = {"type": "object", "properties": {n: random_schema(rng, depth + 1) for n in names}}
        schema["required"] = [n for n in names if rng.random() < 0.7]
        if rng.random() < 0.3:
            schema["minProperties"] = min(len(names), len(schema["required"]) + 1)
        return schema
    if kind == "array":
        if rng.random() < 0.2:
            prefix = [random_schema(rng, depth + 1) for _ in range(rng.randint(1, 3))]
            return {"type": "array", "prefixItems": prefix, "items": False, "minItems": len(prefix)}
        low = rng.randint(0, 2)
        return {
            "type": "array",
            "items": random_schema(rng, depth + 1),
            "minItems": low,
            "maxItems": low + rng.randint(0, 3),
        }
    branches = [
        {"type": "string", "maxLength": 3},
        {"type": "integer", "minimum": 0, "maximum": 50},
        {"type": "boolean"},
        {"type": "object", "properties": {"k": {"enum": ["v", "w"]}}, "required": ["k"]},
        {"type": "array", "items": {"type": "boolean"}, "maxItems": 2},
        {"type": "null"},
    ]
    return {"anyOf": rng.sample(branches, rng.randint(2, 3))}


def with_defs(rng: random.Random) -> dict:
    item = random_schema(rng, 1)
    return {
        "$defs": {"Item": item},
        "type": "object",
        "properties": {
            "first": {"$ref": "#/$defs/Item"},
            "rest": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "maxItems": 2},
        },
        "required": ["first", "rest"],
    }


# OpenAPI-form schemas as the SDKs send them (snake_case from Python, camelCase from JS), bounded.
OPENAPI = [
    {
        "properties": {
            "name": {"title": "Name", "type": "STRING", "max_length": 12},
            "age": {"title": "Age", "type": "INTEGER", "minimum": 0.0, "maximum": 150.0},
            "tags": {"items": {"type": "STRING", "max_length": 5}, "max_items": "3", "min_items": 1, "type": "ARRAY"},
            "address": {
                "properties": {
                    "street": {"type": "STRING", "max_length": 10},
                    "zip_code": {"nullable": True, "type": "STRING", "pattern": "^[0-9]{5}$"},
                },
                "property_ordering": ["zip_code", "street"],
                "required": ["street", "zip_code"],
                "type": "OBJECT",
            },
            "mood": {"enum": ["happy", "sad"], "type": "STRING", "format": "enum"},
            "maybe_color": {"enum": ["red", "green"], "nullable": True, "type": "STRING"},
            "either": {"any_of": [{"type": "INTEGER", "minimum": 1, "maximum": 3}, {"type": "BOOLEAN"}]},
        },
        "property_ordering": ["mood", "name", "age"],
        "required": ["name", "age", "tags", "address", "mood", "maybe_color", "either"],
        "title": "Person",
        "type": "OBJECT",
    },
    {
        "type": "ARRAY",
        "minItems": 2,
        "maxItems": 3,
        "items": {
            "type": "OBJECT",
            "properties": {
                "recipeName": {"type": "STRING", "maxLength": 8},
                "rating": {"type": "NUMBER", "minimum": 0, "maximum": 5},
                "vegan": {"type": "BOOLEAN", "nullable": True},
            },
            "propertyOrdering": ["rating", "recipeName", "vegan"],
            "required": ["recipeName", "rating", "vegan"],
        },
    },
    {"type": "STRING", "format": "date-time"},
    {"type": "INTEGER", "minimum": "-5", "maximum": "5", "nullable": True},
]

HAND_WRITTEN = [
    {"type": "object", "properties": {"a": {"type": "string", "maxLength": 0}}, "required": ["a"]},
    {"type": "object", "properties": {}},
    {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9}, "minItems": 4, "maxItems": 4},
    {"const": {"fixed": [1, "two", None]}},
    {
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 9},
        "maxProperties": 2,
        "propertyNames": {"pattern": "^[a-z]{1,3}$"},
    },
    {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "v": {"type": "integer", "minimum": 0, "maximum": 9},
                    "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                },
                "required": ["v", "next"],
            }
        },
        "$ref": "#/$defs/Node",
    },
    {
        "oneOf": [
            {
                "type": "object",
                "properties": {"kind": {"const": "cat"}, "lives": {"type": "integer", "minimum": 1, "maximum": 9}},
                "required": ["kind", "lives"],
            },
            {
                "type": "object",
                "properties": {"kind": {"const": "dog"}, "good": {"type": "boolean"}},
                "required": ["kind", "good"],
            },
        ]
    },
    {"type": "integer", "exclusiveMinimum": 2.5, "exclusiveMaximum": 7.5},
    {"type": "string", "pattern": "^[^a-z]{3}$"},
]


def all_schemas() -> list[tuple[str, dict, list[str] | None]]:
    """(label, JSON Schema, property order to check or None)."""
    out = [(f"openapi[{i}]", openapi_to_json_schema(s, "responseSchema"), None) for i, s in enumerate(OPENAPI)]
    out += [(f"hand[{i}]", check_json_schema(s, "responseJsonSchema"), None) for i, s in enumerate(HAND_WRITTEN)]
    rng = random.Random(20261124)
    for i in range(44):
        schema = with_defs(rng) if i % 8 == 7 else random_schema(rng)
        out.append((f"random[{i}]", check_json_schema(schema, "responseJsonSchema"), None))
    return out


def property_orders(schema: dict, value) -> list[tuple[list[str], list[str]]]:
    """(keys emitted, keys declared) for every object value whose schema declares properties."""
    pairs = []
    if isinstance(value, dict) and "properties" in schema:
        pairs.append((list(value), list(schema["properties"])))
        for key, sub in value.items():
            if key in schema["properties"]:
                pairs += property_orders(schema["properties"][key], sub)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for sub in value:
            pairs += property_orders(schema["items"], sub)
    return pairs


def test_structured_output_is_always_valid(lm):
    torch.manual_seed(0)
    schemas = all_schemas()
    assert len(schemas) >= 50
    checked = valid = 0
    failures = []
    started = time.perf_counter()
    for index, (label, schema, _) in enumerate(schemas):
        compiled = lm[2].for_response(ResponseFormat("json", schema))
        texts, ids, processor = generate(lm, compiled, rows=2, prompt=PROMPTS[index % len(PROMPTS)])
        # Formats are annotations in JSON Schema 2020-12 (the default here). xgrammar's format grammars follow the
        # RFC shapes but are looser than Python's checkers (an ipv4 part "007", the year 0000), so a validator
        # with a FormatChecker may reject such a value.
        validator = jsonschema.Draft202012Validator(schema)
        for text, row_ids, done in zip(texts, ids, processor.completed, strict=True):
            checked += 1
            try:
                assert done, "did not finish within max_new_tokens"
                assert special_free(lm, row_ids), "a special token inside the reply"
                value = json.loads(text)
                validator.validate(value)
                for emitted, declared in property_orders(schema, value):
                    assert emitted == [k for k in declared if k in emitted], f"order {emitted} vs {declared}"
                valid += 1
            except Exception as exc:  # collected so one run reports every failure
                failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:200]}\n  schema={schema}\n  reply={text!r}")
    seconds = time.perf_counter() - started
    print(f"\nstructured output: {valid}/{checked} valid ({len(schemas)} schemas, {seconds:.1f} s)")
    assert not failures, "\n".join(failures)


def test_property_ordering_is_followed(lm):
    schema = openapi_to_json_schema(
        {
            "type": "OBJECT",
            "properties": {k: {"type": "BOOLEAN"} for k in "abcde"},
            "required": list("abcde"),
            "propertyOrdering": ["e", "c"],
        },
        "responseSchema",
    )
    texts, _, _ = generate(lm, lm[2].for_response(ResponseFormat("json", schema)), rows=3, prompt="order")
    for text in texts:
        assert list(json.loads(text)) == ["e", "c", "a", "b", "d"]


def test_json_mode_without_schema_is_an_object_or_array(lm):
    torch.manual_seed(1)
    compiled = lm[2].for_response(ResponseFormat("json"))
    texts, _, processor = generate(lm, compiled, rows=6, prompt="json please", max_new=160)
    for text, done in zip(texts, processor.completed, strict=True):
        assert text[:1] in "{[" and "  " not in text.replace('"  ', "")  # compact separators
        if done:
            assert isinstance(json.loads(text), (dict, list))
        else:  # cut by max_new_tokens: still a valid prefix (an unbounded reply ends with MAX_TOKENS)
            assert xgr.GrammarMatcher(compiled).accept_string(text)


def test_enum_mode_gives_exactly_one_value(lm):
    torch.manual_seed(2)
    values = ("a", "ab", "abc", "Grün", 'say "x"', "two words")
    texts, ids, processor = generate(lm, lm[2].for_response(ResponseFormat("enum", enum_values=values)), 8, "pick")
    assert all(processor.completed)
    assert set(texts) <= set(values) and len(set(texts)) > 1
    assert all(special_free(lm, row) for row in ids)


# -- tool calls ---------------------------------------------------------------------------------------------------

DECLARATIONS = (
    FunctionDeclaration(
        "get_weather",
        "Weather for a city",
        check_json_schema(
            {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "minLength": 1, "maxLength": 8},
                    "unit": {"enum": ["celsius", "fahrenheit"]},
                    "days": {"type": "integer", "minimum": 1, "maximum": 7},
                },
                "required": ["city", "unit"],
            },
            "parameters",
        ),
    ),
    FunctionDeclaration(
        "set_alarm",
        "",
        openapi_to_json_schema(
            {
                "type": "OBJECT",
                "properties": {
                    "time": {"type": "STRING", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                    "labels": {"type": "ARRAY", "items": {"type": "STRING", "maxLength": 4}, "maxItems": 2},
                },
                "required": ["time", "labels"],
            },
            "parameters",
        ),
    ),
    FunctionDeclaration("now"),  # no parameters: arguments must be {}
)
SCHEMAS = {d.name: d.parameters or {"type": "object", "properties": {}} for d in DECLARATIONS}
CALL = re.compile(re.escape(OPEN) + r"\n(.*?)\n" + re.escape(CLOSE), re.S)


def parse_calls(text: str) -> list[dict]:
    """The calls of a reply that must consist of calls only, separated by newlines."""
    calls = [json.loads(m) for m in CALL.findall(text)]
    rebuilt = "\n".join(f"{OPEN}\n{json.dumps(c, ensure_ascii=False)}\n{CLOSE}" for c in calls)
    assert rebuilt == text, f"not only calls: {text!r}"
    return calls


def check_call(call: dict) -> None:
    assert list(call) == ["name", "arguments"]
    assert call["name"] in SCHEMAS
    jsonschema.validate(call["arguments"], SCHEMAS[call["name"]])


def test_any_mode_forces_valid_calls_in_every_row(lm):
    torch.manual_seed(3)
    compiled = lm[2].for_tool_calls(DECLARATIONS, OPEN, CLOSE)
    names = set()
    for prompt in ["What is the weather?", ["a", "wake me up at seven o'clock", "what time is it now, exactly?"]]:
        texts, ids, processor = generate(lm, compiled, rows=3, prompt=prompt)
        assert all(processor.completed)
        for text, row in zip(texts, ids, strict=True):
            calls = parse_calls(text)
            assert calls and special_free(lm, row)
            for call in calls:
                check_call(call)
                names.add(call["name"])
    assert len(names) >= 2  # the model picks among the declared functions


def test_any_mode_single_call(lm):
    torch.manual_seed(4)
    compiled = lm[2].for_tool_calls(DECLARATIONS, OPEN, CLOSE, parallel=False)
    texts, _, processor = generate(lm, compiled, rows=4, prompt="one call")
    assert all(processor.completed)
    for text in texts:
        (call,) = parse_calls(text)
        check_call(call)


def test_any_mode_with_other_tags(lm):
    """Other model families use other tags; they are parameters."""
    torch.manual_seed(5)
    compiled = lm[2].for_tool_calls(DECLARATIONS[2:], "[TOOL_CALLS]", "[/TOOL_CALLS]", parallel=False)
    texts, _, _ = generate(lm, compiled, rows=2, prompt="now")
    assert texts == ['[TOOL_CALLS]\n{"name": "now", "arguments": {}}\n[/TOOL_CALLS]'] * 2


class ForcePrefix(LogitsProcessor):
    """Makes every row start with the given tokens (a random model would seldom write the open tag itself)."""

    def __init__(self, ids: list[int]) -> None:
        self.ids, self.prompt_len = ids, None

    def __call__(self, input_ids, scores):
        if self.prompt_len is None:
            self.prompt_len = input_ids.shape[1]
        step = input_ids.shape[1] - self.prompt_len
        if step < len(self.ids):
            scores[:] = float("-inf")
            scores[:, self.ids[step]] = 0.0
        return scores


def test_validated_mode_free_text_but_valid_calls(lm):
    torch.manual_seed(6)
    tokenizer = lm[0]
    compiled = lm[2].for_validated_tool_calls(DECLARATIONS, OPEN, CLOSE)
    # Free text: the grammar does not force a call, and the reply may end at any point.
    texts, _, _ = generate(lm, compiled, rows=3, prompt="chat", max_new=40)
    assert any(texts)
    # Once the open tag is written, a valid call must follow.
    prefix = tokenizer("Sure. " + OPEN, add_special_tokens=False)["input_ids"]
    texts, _, _ = generate(lm, compiled, rows=4, prompt="call", before=[ForcePrefix(prefix)])
    for text in texts:
        assert text.startswith("Sure. " + OPEN + "\n")
        first = CALL.search(text)
        assert first is not None, text
        check_call(json.loads(first.group(1)))


def test_validated_matcher_accepts_text_around_calls_and_rejects_bad_calls(lm):
    compiled = lm[2].for_validated_tool_calls(DECLARATIONS, OPEN, CLOSE)
    good = f'Let me check. {OPEN}\n{{"name": "now", "arguments": {{}}}}\n{CLOSE} Done.'
    matcher = xgr.GrammarMatcher(compiled)
    assert matcher.accept_string(good) and matcher.accept_token(lm[0].eos_token_id)
    for bad in [
        f'{OPEN}\n{{"name": "delete_all", "arguments": {{}}}}',  # undeclared function
        f'{OPEN}\n{{"name": "now", "arguments": {{"x": 1}}}}',  # arguments for a function without parameters
        f'{OPEN}\n{{"name": "get_weather", "arguments": {{"city": "Paris"}}}}',  # required unit missing
        f"{OPEN} plain text",
    ]:
        assert not xgr.GrammarMatcher(compiled).accept_string(bad), bad


# -- the processor ------------------------------------------------------------------------------------------------


def test_processor_feeds_only_generated_tokens_and_releases_stopped_rows(lm):
    tokenizer, _, compiler = lm
    compiled = compiler.for_response(ResponseFormat("enum", enum_values=("yes", "no")))
    processor = compiler.logits_processor(compiled, 2)
    vocab = compiler.vocab_size
    prompt = torch.tensor([[5, 6, 7], [8, 9, 10]])  # prompt tokens are never fed to the matcher
    scores = processor(prompt, torch.zeros(2, vocab))
    allowed = [set(torch.isfinite(row).nonzero().flatten().tolist()) for row in scores]
    assert allowed[0] == allowed[1] and all(tokenizer.decode([t]) in ("y", "ye", "yes", "n", "no") for t in allowed[0])
    yes = tokenizer("yes", add_special_tokens=False)["input_ids"]
    pad = tokenizer.pad_token_id
    step = torch.cat([prompt, torch.tensor([[yes[0]], [pad]])], dim=1)  # row 1: generate() padded a stopped row
    scores = processor(step, torch.zeros(2, vocab))
    assert torch.isfinite(scores[1]).all()  # a released row is left alone
    assert not torch.isfinite(scores[0]).all()


def test_model_vocab_larger_than_tokenizer(lm):
    tokenizer = lm[0]
    padded = len(tokenizer) + 62  # e.g. a model whose embedding is padded to a multiple of 64
    compiler = GrammarCompiler(tokenizer, padded)
    compiled = compiler.for_response(ResponseFormat("json", {"type": "boolean"}))
    scores = compiler.logits_processor(compiled, 1)(torch.tensor([[5]]), torch.zeros(1, padded))
    assert not torch.isfinite(scores[0, len(tokenizer) :]).any()


def test_compiled_grammars_are_cached_and_shared_between_threads(lm):
    from concurrent.futures import ThreadPoolExecutor

    compiler = GrammarCompiler(lm[0], lm[1].config.vocab_size, cache_size=4)
    schema = {"type": "object", "properties": {"q": {"type": "integer", "minimum": 0, "maximum": 3}}}
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: compiler.for_response(ResponseFormat("json", schema)), range(16)))
    assert all(r is results[0] for r in results)
    # Property order is part of the key: a reordered schema is another grammar.
    reordered = {"type": "object", "properties": {"b": {"type": "null"}, "a": {"type": "null"}}}
    first = compiler.for_response(
        ResponseFormat("json", {"type": "object", "properties": {"a": {"type": "null"}, "b": {"type": "null"}}})
    )
    assert compiler.for_response(ResponseFormat("json", reordered)) is not first
    for i in range(6):  # the LRU keeps at most cache_size grammars
        compiler.for_response(ResponseFormat("enum", enum_values=(f"v{i}",)))
    assert len(compiler._cache) == 4


def test_compile_errors_become_invalid_argument(lm):
    with pytest.raises(InvalidArgument, match=r"^generationConfig\.responseSchema: the schema cannot be enforced: "):
        lm[2].for_response(ResponseFormat("json", {"type": "array", "items": [{"type": "string"}]}))  # unchecked
    bad = FunctionDeclaration("f", "", {"type": "string", "pattern": "(a"})
    with pytest.raises(InvalidArgument, match=r"^tools\.functionDeclarations\[f\]\.parameters: cannot be enforced"):
        lm[2].for_tool_calls([bad], OPEN, CLOSE)


# -- why schema.py refuses what it refuses ----------------------------------------------------------------------

# Each schema uses a construct check_json_schema refuses, with a value that breaks it: raw xgrammar 0.2.8 accepts
# the value, i.e. it would not enforce the construct. If an xgrammar upgrade starts enforcing one, this fails and
# the refusal can be lifted.
UNENFORCED = [
    ({"type": "integer", "not": {"const": 5}}, "5"),
    (
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "if": {"properties": {"a": {"const": 1}}},
            "then": {"required": ["b"]},
        },
        '{"a": 1}',
    ),
    (
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "dependentRequired": {"a": ["b"]},
        },
        '{"a": 1}',
    ),
    ({"type": "array", "items": {"type": "integer"}, "contains": {"const": 5}}, "[1]"),
    ({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}, "[1, 1]"),
    (
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                {"properties": {"b": {"type": "integer"}}, "required": ["b"]},
            ]
        },
        '{"a": 1}',
    ),
    ({"$defs": {"P": {"type": "integer"}}, "$ref": "#/$defs/P", "minimum": 5}, "1"),
    ({"type": "string", "maxLength": 2, "anyOf": [{"pattern": "^a+$"}, {"pattern": "^b+$"}]}, '"aaaa"'),
    ({"type": "string", "pattern": "^[a-z]+$", "maxLength": 3}, '"abcd"'),
    ({"type": "string", "format": "date", "maxLength": 3}, '"2024-01-02"'),
    ({"type": "number", "multipleOf": 0.5}, "0.3"),
    ({"type": "string", "pattern": "^(?=.*[0-9]).{3}$"}, '"abc"'),
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, "1"),
    ({"type": "integer", "enum": ["a", 1]}, '"a"'),
    ({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["b"]}, '{"a": 1}'),
    ({"$ref": "https://example.com/schema.json"}, "1"),
]


@pytest.mark.parametrize(("schema", "breaking"), UNENFORCED)
def test_refused_constructs_are_not_enforced_by_xgrammar(lm, schema, breaking):
    with pytest.raises(InvalidArgument):
        check_json_schema(schema, "responseJsonSchema")
    raw = lm[2]._compiler.compile_json_schema(json.dumps(schema), any_whitespace=False)
    matcher = xgr.GrammarMatcher(raw)
    assert matcher.accept_string(breaking) and matcher.is_completed(), "xgrammar enforces this now"


def test_bounded_strings_exclude_control_characters(lm):
    """xgrammar 0.2.8 lets raw control characters into strings with minLength/maxLength (invalid JSON);
    json_ebnf patches the character class."""
    schema = {"type": "string", "maxLength": 5}
    raw = lm[2]._compiler.compile_json_schema(json.dumps(schema), any_whitespace=False)
    assert xgr.GrammarMatcher(raw).accept_string('"a\x17b"')  # the xgrammar bug this works around
    patched = lm[2]._compiler.compile_grammar(json_ebnf(schema))
    assert not xgr.GrammarMatcher(patched).accept_string('"a\x17b"')
    assert xgr.GrammarMatcher(patched).accept_string('"a b"')
