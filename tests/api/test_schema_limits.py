"""Structured-output findings of the fuzzing campaign (issue 14), through the API: schemas nested too deep, $ref loops
with no finite value, dangling refs and schemas too large or too complex to enforce are each a 400 envelope naming the
field, never a 500, in every place a schema can be sent; recursive schemas that can end still work; the model
answers normally afterwards."""

import json

import jsonschema
import pytest

GENERATE = "/v1beta/models/{}:generateContent"
LITE = "gemini-2.0-flash-lite"
TOOLS_MODEL = "gemini-2.5-flash"
RJS = "generationConfig.responseJsonSchema"
RS = "generationConfig.responseSchema"
PARAMS = "tools[0].functionDeclarations[0]"


def nested_items(levels: int, upper: bool = False) -> dict:
    schema: dict = {"type": "INTEGER" if upper else "integer"}
    for _ in range(levels):
        schema = {"type": "ARRAY" if upper else "array", "items": schema}
    return schema


def json_output(**config) -> dict:
    return {
        "contents": "hi",
        "generationConfig": {"responseMimeType": "application/json", "maxOutputTokens": 20, **config},
    }


def forced_call(declaration: dict, mode: str = "ANY") -> dict:
    return {
        "contents": "call it",
        "tools": [{"functionDeclarations": [{"name": "f", **declaration}]}],
        "toolConfig": {"functionCallingConfig": {"mode": mode}},
        "generationConfig": {"maxOutputTokens": 20},
    }


def envelope(r) -> str:
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT" and error["message"]
    return error["message"]


async def answers(client, model=LITE) -> None:
    r = await client.post(GENERATE.format(model), json={"contents": "hi", "generationConfig": {"maxOutputTokens": 3}})
    assert r.status_code == 200, r.text


LOOP = {"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}
REQUIRED_SELF = {
    "$defs": {"N": {"type": "object", "properties": {"n": {"$ref": "#/$defs/N"}}, "required": ["n"]}},
    "$ref": "#/$defs/N",
}
OPTIONAL_1000 = {"type": "object", "properties": {f"p{i}": {"type": "integer"} for i in range(1000)}}
# Within the prompt's token limit (tool declarations are part of the prompt: ~5,600 tokens), but each length bound is
# a lexer expression of its own (equal bounds would share one): past llguidance's lexer limit.
LONG_STRINGS = {"anyOf": [{"type": "string", "maxLength": i} for i in range(300)]}


@pytest.mark.parametrize(
    ("model", "body", "expected"),
    [
        # 1. nesting: refused before any recursive converter runs (200 levels may meet the body's own limit first)
        (LITE, json_output(responseJsonSchema=nested_items(200)), ["nested deeper than"]),
        (LITE, json_output(responseJsonSchema=nested_items(60)), [f"{RJS}: ", "nested deeper than 48 levels"]),
        (LITE, json_output(responseSchema=nested_items(60, upper=True)), [f"{RS}: ", "nested deeper than 48"]),
        (TOOLS_MODEL, forced_call({"parametersJsonSchema": nested_items(60)}), [f"{PARAMS}.parametersJsonSchema: "]),
        (TOOLS_MODEL, forced_call({"parameters": nested_items(60, upper=True)}), [f"{PARAMS}.parameters: "]),
        # 2. $ref loops with no finite value, dangling refs
        (LITE, json_output(responseJsonSchema={"$ref": "#"}), [f"{RJS}: no finite JSON value matches"]),
        (LITE, json_output(responseJsonSchema=LOOP), [f"{RJS}: no finite JSON value matches"]),
        (LITE, json_output(responseJsonSchema=REQUIRED_SELF), [f"{RJS}: no finite JSON value matches"]),
        (TOOLS_MODEL, forced_call({"parametersJsonSchema": {"$ref": "#"}}), [f"{PARAMS}.parametersJsonSchema: no"]),
        (LITE, json_output(responseJsonSchema={"$ref": "#/$defs/Gone"}), [f"{RJS}.$ref: '#/$defs/Gone' does not"]),
        (
            LITE,
            json_output(responseJsonSchema={"type": "array", "items": {"$ref": "#/type"}}),
            [f"{RJS}.items.$ref: '#/type' does not point to a schema"],
        ),
        # 3. size: counted before anything else (a 100,000-value enum took 7.5 s to compile)
        (
            LITE,
            json_output(responseJsonSchema={"type": "string", "enum": [str(i) for i in range(100_000)]}),
            [f"{RJS}: the schema is too large", "100000 enum values, more than 2000"],
        ),
        (
            LITE,
            json_output(
                responseSchema={"type": "OBJECT", "properties": {f"p{i}": {"type": "STRING"} for i in range(10_000)}}
            ),
            [f"{RS}: the schema is too large", "10000 properties, more than 1000"],
        ),
        (
            LITE,
            json_output(
                responseMimeType="text/x.enum", responseSchema={"type": "STRING", "enum": [str(i) for i in range(5000)]}
            ),
            [f"{RS}: the schema is too large", "5000 enum values, more than 2000"],
        ),
        (
            LITE,
            json_output(responseJsonSchema={"type": "string", "pattern": "(" * 500 + "a" + ")" * 500}),
            [f"{RJS}: the schema is too large", "a pattern nests groups deeper than 32 levels"],
        ),
        # 3. past the grammar engine's own limits, found when compiling (a row of 1,000 optional properties has
        # ~4,000 items, over llguidance's 2,000; 300 different length bounds exhaust its lexer)
        (
            LITE,
            json_output(responseJsonSchema=OPTIONAL_1000),
            ["generationConfig.responseSchema: the schema is too complex to enforce"],
        ),
        (
            TOOLS_MODEL,
            forced_call({"parametersJsonSchema": LONG_STRINGS}),
            ["tools.functionDeclarations[f].parameters: the schema is too complex to enforce"],
        ),
    ],
)
async def test_each_reproduction_is_a_400_naming_the_field_and_the_model_still_answers(client, model, body, expected):
    message = envelope(await client.post(GENERATE.format(model), json=body))
    for part in expected:
        assert part in message, message
    await answers(client, model)


async def test_a_tool_schema_is_compiled_only_when_a_call_is_forced(client):
    # In AUTO mode nothing is compiled, so the same declaration costs nothing and is accepted.
    r = await client.post(
        GENERATE.format(TOOLS_MODEL), json=forced_call({"parametersJsonSchema": LONG_STRINGS}, "AUTO")
    )
    assert r.status_code == 200, r.text


async def test_a_recursive_schema_that_can_end_still_answers_valid_json(client):
    tree = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 5},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}, "maxItems": 2},
                },
                "required": ["name", "children"],
            }
        },
        "$ref": "#/$defs/Node",
    }
    body = json_output(responseJsonSchema=tree, maxOutputTokens=150, seed=3)
    r = await client.post(GENERATE.format(LITE), json=body)
    assert r.status_code == 200, r.text
    candidate = r.json()["candidates"][0]
    if candidate["finishReason"] == "STOP":
        jsonschema.validate(json.loads(candidate["content"]["parts"][0]["text"]), tree)


async def test_the_same_schema_sent_twice_is_compiled_once(client):
    schema = {"type": "object", "properties": {"k": {"type": "string", "enum": [f"v{i}" for i in range(300)]}}}
    r = await client.post(GENERATE.format(LITE), json=json_output(responseJsonSchema=schema, seed=1))
    assert r.status_code == 200, r.text
    engines = client.app.state.engines._engines.values()
    compiler = next(e._grammars for e in engines if getattr(e, "_grammars", None) is not None)
    compiled, seconds = compiler.compiles, compiler.compile_seconds
    r = await client.post(GENERATE.format(LITE), json=json_output(responseJsonSchema=schema, seed=2))
    assert r.status_code == 200, r.text
    assert (compiler.compiles, compiler.compile_seconds) == (compiled, seconds)
