"""Schema conversion and checks for structured output and function parameters (genserve.constrain.schema).

The SDK payloads are captured from google-genai itself (through an httpx mock transport, no socket), so a change in
what the SDK sends shows up here."""

from __future__ import annotations

import enum
import json
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from genserve.constrain.schema import check_json_schema, enum_values, openapi_to_json_schema
from genserve.errors import InvalidArgument

RS = "generationConfig.responseSchema"
RJS = "generationConfig.responseJsonSchema"


# -- what google-genai sends --------------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(BaseModel):
    street: str
    zip_code: str | None = None


class Person(BaseModel):
    name: str = Field(description="full name", max_length=20)
    age: int = Field(ge=0, le=150)
    height: float
    tags: list[str] = Field(min_length=1, max_length=3)
    address: Address
    previous: list[Address]
    nickname: str | None = None
    mood: Literal["happy", "sad"]
    color: Color
    maybe_color: Color | None = None
    either: int | str
    code: str = Field(pattern=r"^[A-Z]{3}$")


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Owner(BaseModel):
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]
    friends: list[Person] = []


def sdk_generation_config(**config) -> dict:
    """The generationConfig google-genai puts on the wire for these GenerateContentConfig arguments."""
    import httpx
    from google import genai
    from google.genai import types

    sent = []

    def handler(request):
        sent.append(json.loads(request.content))
        reply = {"candidates": [{"content": {"role": "model", "parts": [{"text": "{}"}]}, "finishReason": "STOP"}]}
        return httpx.Response(200, json=reply)

    options = types.HttpOptions(
        base_url="http://sdk.test", httpx_client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    client = genai.Client(api_key="k", http_options=options)
    client.models.generate_content(model="m", contents="hi", config=types.GenerateContentConfig(**config))
    return sent[0]["generationConfig"]


def test_sdk_pydantic_response_schema_is_converted():
    wire = sdk_generation_config(response_mime_type="application/json", response_schema=Person)["responseSchema"]
    assert "property_ordering" in wire and wire["properties"]["name"]["max_length"] == 20  # snake_case on the wire
    schema = openapi_to_json_schema(wire, RS)
    assert schema["type"] == "object" and list(schema["properties"]) == list(Person.model_fields)
    props = schema["properties"]
    assert props["name"] == {"type": "string", "title": "Name", "description": "full name", "maxLength": 20}
    assert props["age"] == {"type": "integer", "title": "Age", "minimum": 0, "maximum": 150}  # 0.0 -> 0
    assert props["tags"] == {
        "type": "array",
        "title": "Tags",
        "items": {"type": "string"},
        "minItems": 1,
        "maxItems": 3,
    }
    assert props["address"]["properties"]["zip_code"] == {"type": ["string", "null"], "title": "Zip Code"}
    assert props["previous"]["items"]["required"] == ["street"]
    assert props["mood"]["enum"] == ["happy", "sad"]
    assert props["maybe_color"] == {"type": ["string", "null"], "title": "Color", "enum": ["red", "green", None]}
    assert props["either"]["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    assert props["code"]["pattern"] == "^[A-Z]{3}$"
    assert schema["required"] == [n for n, f in Person.model_fields.items() if f.is_required()]


def test_sdk_list_of_models_and_enum_payloads():
    wire = sdk_generation_config(response_mime_type="application/json", response_schema=list[Address])
    schema = openapi_to_json_schema(wire["responseSchema"], RS)
    assert schema["type"] == "array" and schema["items"]["properties"]["street"] == {
        "type": "string",
        "title": "Street",
    }
    wire = sdk_generation_config(response_mime_type="text/x.enum", response_schema=Color)
    assert enum_values(wire["responseSchema"], RS) == ("red", "green")
    wire = sdk_generation_config(response_mime_type="text/x.enum", response_schema=Literal["a", "b"])
    assert enum_values(wire["responseSchema"], RS) == ("a", "b")


@pytest.mark.parametrize("model", [Person, Address, Owner, Cat])
def test_sdk_response_json_schema_is_accepted_unchanged(model):
    wire = sdk_generation_config(response_mime_type="application/json", response_json_schema=model.model_json_schema())
    assert check_json_schema(wire["responseJsonSchema"], RJS) == model.model_json_schema()


def test_discriminated_union_is_accepted():
    schema = Owner.model_json_schema()
    assert "oneOf" in schema["properties"]["pet"]
    assert check_json_schema(schema, RJS) == schema


# -- OpenAPI Schema -> JSON Schema ----------------------------------------------------------------------------


def test_camel_and_snake_case_give_the_same_schema():
    snake = {
        "type": "OBJECT",
        "properties": {
            "a": {"type": "ARRAY", "items": {"type": "STRING"}, "max_items": 2, "min_items": 1},
            "b": {"type": "STRING", "min_length": 1, "max_length": 5},
        },
        "property_ordering": ["b", "a"],
    }
    camel = {
        "type": "OBJECT",
        "properties": {
            "a": {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": 2, "minItems": 1},
            "b": {"type": "STRING", "minLength": 1, "maxLength": 5},
        },
        "propertyOrdering": ["b", "a"],
    }
    assert openapi_to_json_schema(snake, RS) == openapi_to_json_schema(camel, RS)
    assert list(openapi_to_json_schema(camel, RS)["properties"]) == ["b", "a"]


def test_property_ordering_puts_unlisted_properties_after_the_listed_ones():
    schema = {"type": "OBJECT", "properties": {p: {"type": "STRING"} for p in "abcd"}, "propertyOrdering": ["c", "a"]}
    assert list(openapi_to_json_schema(schema, RS)["properties"]) == ["c", "a", "b", "d"]


def test_int64_strings_and_whole_floats_are_coerced():
    schema = {"type": "ARRAY", "items": {"type": "INTEGER", "minimum": "1", "maximum": 9.0}, "maxItems": "3"}
    assert openapi_to_json_schema(schema, RS) == {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 9},
        "maxItems": 3,
    }
    assert openapi_to_json_schema({"type": "NUMBER", "minimum": "0.5"}, RS) == {"type": "number", "minimum": 0.5}
    assert openapi_to_json_schema({"type": "INTEGER", "enum": ["1", "2"]}, RS)["enum"] == [1, 2]


def test_types_in_any_case_and_unspecified():
    assert openapi_to_json_schema({"type": "boolean"}, RS) == {"type": "boolean"}
    assert openapi_to_json_schema({"type": "Null"}, RS) == {"type": "null"}
    assert openapi_to_json_schema({"type": "TYPE_UNSPECIFIED", "description": "x"}, RS) == {"description": "x"}


def test_nullable_forms():
    assert openapi_to_json_schema({"type": "INTEGER", "nullable": True}, RS) == {"type": ["integer", "null"]}
    assert openapi_to_json_schema({"type": "INTEGER", "nullable": False}, RS) == {"type": "integer"}
    any_of = openapi_to_json_schema({"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}], "nullable": True}, RS)
    assert any_of == {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}
    assert openapi_to_json_schema({"nullable": True}, RS) == {}


def test_formats_and_documentation_fields():
    schema = openapi_to_json_schema({"type": "STRING", "format": "date-time", "example": "x", "default": "y"}, RS)
    assert schema == {"type": "string", "format": "date-time", "default": "y"}
    # Gemini's non-JSON-Schema formats say nothing a validator knows: dropped.
    assert openapi_to_json_schema({"type": "STRING", "format": "enum", "enum": ["a"]}, RS) == {
        "type": "string",
        "enum": ["a"],
    }
    assert openapi_to_json_schema({"type": "INTEGER", "format": "int64"}, RS) == {"type": "integer"}


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "STRING", "maxLen": 3}, f"{RS}.maxLen: unknown Schema field"),
        ({"type": "OBJECT", "properties": {"a": {"typ": "STRING"}}}, f"{RS}.properties.a.typ: unknown Schema field"),
        ({"type": "TEXT"}, f"{RS}.type: 'TEXT' is not a type"),
        ({"type": ["STRING"]}, f"{RS}.type: ['STRING'] is not a type"),
        ({"type": "OBJECT", "additionalProperties": True}, f"{RS}.additionalProperties: not supported in the Schema"),
        ({"type": "OBJECT", "$ref": "#/defs/A"}, f"{RS}.$ref: not supported in the Schema object"),
        ({"type": "ARRAY", "max_items": 2, "maxItems": 3}, f"{RS}: both max_items and maxItems are set"),
        ({"type": "ARRAY", "maxItems": -1}, f"{RS}.maxItems: must be a non-negative integer"),
        ({"type": "ARRAY", "items": {"type": "STRING", "max_length": "x"}}, f"{RS}.items.max_length: must be a non"),
        ({"type": "NUMBER", "minimum": "low"}, f"{RS}.minimum: must be a number"),
        (
            {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}, "propertyOrdering": ["b"]},
            f"{RS}.propertyOrdering: 'b' is not one of the properties",
        ),
        (
            {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}, "required": ["b"]},
            f"{RS}.required: 'b' is required but not defined in properties",
        ),
        ({"type": "STRING", "nullable": "yes"}, f"{RS}.nullable: must be true or false"),
        ({"anyOf": []}, f"{RS}.anyOf: must be a non-empty list"),
        ({"anyOf": [{"type": "STRING"}, "INTEGER"]}, f"{RS}.anyOf[1]: must be a Schema object"),
        ("OBJECT", f"{RS}: must be a Schema object"),
        ({"type": "STRING", "pattern": "^(?=a)b$"}, f"{RS}.pattern: lookahead/lookbehind"),
        ({"type": "STRING", "pattern": "^[a-z]+$", "maxLength": 5}, f"{RS}: maxLength cannot be combined with pattern"),
        ({"type": "ARRAY", "minItems": 3, "maxItems": 1}, f"{RS}: minItems 3 is greater than maxItems 1"),
    ],
)
def test_openapi_refusals_name_the_field(schema, message):
    with pytest.raises(InvalidArgument) as info:
        openapi_to_json_schema(schema, RS)
    assert info.value.message.startswith(message), info.value.message
    assert info.value.code == 400


# -- plain JSON Schema ------------------------------------------------------------------------------------------


def test_local_refs_and_defs_are_accepted():
    schema = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "v": {"type": "integer"},
                    "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                },
                "required": ["v", "next"],
            }
        },
        "$ref": "#/$defs/Node",
        "title": "List",
    }
    assert check_json_schema(schema, RJS) == schema
    legacy = {"definitions": {"P": {"type": "integer"}}, "type": "array", "items": {"$ref": "#/definitions/P"}}
    assert check_json_schema(legacy, RJS) == legacy


def test_normalisation():
    assert check_json_schema(True, RJS) == {}
    schema = {"type": "integer", "minimum": 0.5, "exclusiveMaximum": 9.5, "maximum": 20.0}
    assert check_json_schema(schema, RJS) == {"type": "integer", "minimum": 1, "maximum": 9}
    ordered = {"type": "object", "properties": {"a": {}, "b": {}, "c": {}}, "propertyOrdering": ["c", "b"]}
    assert check_json_schema(ordered, RJS) == {"type": "object", "properties": {"c": {}, "b": {}, "a": {}}}
    assert list(check_json_schema(ordered, RJS)["properties"]) == ["c", "b", "a"]  # dict equality ignores order
    nested = {"type": "array", "items": {"type": "object", "properties": {"a": {}, "b": {}}, "propertyOrdering": ["b"]}}
    assert list(check_json_schema(nested, RJS)["items"]["properties"]) == ["b", "a"]


def test_accepted_constructs():
    for schema in [
        {"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 3},
        {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False},
        {"oneOf": [{"type": "string"}, {"type": "boolean"}, {"type": "null"}]},
        {"type": "integer", "multipleOf": 5, "minimum": 0, "maximum": 100},
        {"type": ["string", "null"], "format": "date"},
        {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Optional"},
        {"$ref": "#/$defs/A", "description": "refs may carry annotations", "$defs": {"A": {"type": "string"}}},
        {"type": "string", "pattern": "^[A-Z][a-z]*(?:-[A-Z][a-z]*)?$"},
        {"const": {"a": 1}},
        {"type": "object", "properties": {"x": {"type": "string"}}, "x-vendor-extension": True},
    ]:
        assert check_json_schema(schema, RJS) == schema


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "integer", "not": {"const": 5}}, f"{RJS}.not: not supported by constrained decoding"),
        ({"type": "object", "if": {"required": ["a"]}, "then": {"required": ["b"]}}, f"{RJS}.if: not supported"),
        ({"type": "object", "dependentRequired": {"a": ["b"]}}, f"{RJS}.dependentRequired: not supported"),
        ({"type": "object", "dependentSchemas": {"a": {"required": ["b"]}}}, f"{RJS}.dependentSchemas: not supp"),
        ({"type": "array", "contains": {"const": 5}}, f"{RJS}.contains: not supported"),
        ({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}, f"{RJS}.uniqueItems: uniqueItems is"),
        ({"allOf": [{"type": "object"}, {"required": []}]}, f"{RJS}.allOf: allOf with more than one schema"),
        ({"$ref": "https://example.com/s.json"}, f"{RJS}.$ref: only references inside this schema"),
        ({"$ref": "#anchor", "$defs": {"A": {"$anchor": "anchor"}}}, f"{RJS}.$ref: only references inside"),
        ({"$ref": "#/$defs/Missing"}, f"{RJS}.$ref: '#/$defs/Missing' does not point to anything"),
        ({"$ref": "#/$defs/a~1b", "$defs": {"a/b": {}}}, f"{RJS}.$ref: escaped reference"),
        ({"$defs": {"A": {"type": "integer"}}, "$ref": "#/$defs/A", "minimum": 3}, f"{RJS}: minimum next to $ref"),
        ({"type": "string", "anyOf": [{"maxLength": 2}, {"minLength": 5}]}, f"{RJS}: type next to anyOf"),
        ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, f"{RJS}.oneOf: oneOf branches must be told apart"),
        ({"type": "string", "pattern": "^(a)\\1$"}, f"{RJS}.pattern: backreferences are not supported"),
        ({"type": "string", "pattern": "\\bword"}, f"{RJS}.pattern: word boundaries"),
        ({"type": "string", "pattern": "^\\p{L}+$"}, f"{RJS}.pattern: "),
        ({"type": "string", "pattern": "^(a$"}, f"{RJS}.pattern: not a valid JSON Schema"),
        ({"type": "string", "format": "date", "maxLength": 10}, f"{RJS}: maxLength cannot be combined with format"),
        ({"type": "number", "multipleOf": 0.5}, f"{RJS}.multipleOf: only whole multipleOf on type integer"),
        ({"type": "object", "properties": {"a": {}}, "required": ["b"]}, f"{RJS}.required: 'b' is required but"),
        ({"type": "object", "required": ["b"]}, f"{RJS}.required: 'b' is required but not defined"),
        ({"enum": []}, f"{RJS}.enum: an empty enum matches nothing"),
        ({"type": "integer", "enum": ["a", 1]}, f"{RJS}.enum[0]: 'a' does not match the type integer"),
        ({"type": "string", "minLength": 3, "maxLength": 1}, f"{RJS}: minLength 3 is greater than maxLength 1"),
        ({"type": "integer", "minimum": 2**70}, f"{RJS}.minimum: {2**70} is outside the 64-bit integer range"),
        ({"type": "object", "properties": {"a": False}}, f"{RJS}.properties.a: the schema false matches nothing"),
        ({"type": "object", "properties": {"a": {"$dynamicRef": "#x"}}}, f"{RJS}.properties.a.$dynamicRef: not"),
        ({"type": "text"}, f"{RJS}.type: not a valid JSON Schema"),
        ({"type": "array", "items": [{"type": "string"}]}, f"{RJS}.items: not a valid JSON Schema"),
        ({"type": "string", "minLength": -1}, f"{RJS}.minLength: not a valid JSON Schema"),
        ({"$defs": {"A": {"type": "object", "not": {}}}}, f"{RJS}.$defs.A.not: not supported"),
        ("object", f"{RJS}: must be a JSON Schema object"),
    ],
)
def test_json_schema_refusals_name_the_keyword_and_path(schema, message):
    with pytest.raises(InvalidArgument) as info:
        check_json_schema(schema, RJS)
    assert info.value.message.startswith(message), info.value.message


def test_refusal_path_inside_arrays_and_defs():
    schema = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "integer", "not": {"const": 1}}}]}
    with pytest.raises(InvalidArgument, match=r"^generationConfig\.responseJsonSchema\.anyOf\[1\]\.items\.not: "):
        check_json_schema(schema, RJS)


# -- enum mode --------------------------------------------------------------------------------------------------


def test_enum_values_both_dialects():
    assert enum_values({"type": "STRING", "enum": ["a", "b", "a"]}, RS) == ("a", "b")
    assert enum_values({"type": "string", "enum": ["x"], "title": "T"}, RJS) == ("x",)
    assert enum_values({"enum": ["y", "z"], "format": "enum"}, RS) == ("y", "z")


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "STRING"}, f"{RS}.enum: text/x.enum needs a non-empty list"),
        ({"type": "STRING", "enum": []}, f"{RS}.enum: text/x.enum needs a non-empty list"),
        ({"type": "INTEGER", "enum": ["1"]}, f"{RS}.type: text/x.enum needs type STRING"),
        ({"type": "STRING", "enum": ["a", 2]}, f"{RS}.enum[1]: enum values must be non-empty strings"),
        ({"type": "STRING", "enum": [""]}, f"{RS}.enum[0]: enum values must be non-empty strings"),
        (["a"], f"{RS}: must be a Schema object"),
    ],
)
def test_enum_refusals(schema, message):
    with pytest.raises(InvalidArgument) as info:
        enum_values(schema, RS)
    assert info.value.message.startswith(message), info.value.message


def test_upper_case_type_names_in_a_json_schema_are_read_as_json_schema_names():
    # What Gemini CLI's model router sends as responseJsonSchema.
    sent = {
        "type": "OBJECT",
        "properties": {"reasoning": {"type": "STRING"}, "score": {"type": "INTEGER"}, "type": {"type": "STRING"}},
        "required": ["reasoning", "score"],
    }
    checked = check_json_schema(sent, "generationConfig.responseJsonSchema")
    assert checked["type"] == "object"
    assert {k: v["type"] for k, v in checked["properties"].items()} == {
        "reasoning": "string",
        "score": "integer",
        "type": "string",
    }


# -- limits: depth, $ref loops, dangling refs, size and literal length (issue 14) ---------------------------------

from genserve.constrain.limits import (  # noqa: E402
    MAX_DEPTH,
    MAX_ENUM_VALUES,
    MAX_LITERAL,
    MAX_NODES,
    MAX_PROPERTIES,
    MAX_TEXT,
)
from genserve.constrain.schema import grammar_schema  # noqa: E402


def _nested(levels: int, kind: str = "items", leaf: dict | None = None) -> dict:
    schema = leaf or {"type": "integer"}
    for _ in range(levels):
        if kind == "items":
            schema = {"type": "array", "items": schema}
        elif kind == "properties":
            schema = {"type": "object", "properties": {"a": schema}}
        else:
            schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def _openapi_nested(levels: int) -> dict:
    schema = {"type": "INTEGER"}
    for _ in range(levels):
        schema = {"type": "ARRAY", "items": schema}
    return schema


def _check_tools(schema: dict, where: str) -> None:
    """How convert/tools.py checks a declaration's parametersJsonSchema."""
    check_json_schema(schema, where)


@pytest.mark.parametrize(
    ("convert", "schema", "where"),
    [
        (check_json_schema, _nested(200), RJS),
        (check_json_schema, _nested(MAX_DEPTH), RJS),
        (check_json_schema, _nested(100, "properties"), RJS),
        (check_json_schema, _nested(100, "anyOf"), RJS),
        (openapi_to_json_schema, _openapi_nested(200), RS),
        (enum_values, {"type": "STRING", "enum": ["a"], "description": _nested(200)}, RS),
        (_check_tools, _nested(200), "tools[0].functionDeclarations[0].parametersJsonSchema"),
    ],
)
def test_schemas_nested_too_deep_are_refused_before_any_recursion(convert, schema, where):
    with pytest.raises(InvalidArgument) as info:
        convert(schema, where)
    assert info.value.message.startswith(f"{where}: the schema is too large to enforce")
    assert f"nested deeper than {MAX_DEPTH} levels" in info.value.message


@pytest.mark.parametrize("kind", ["items", "properties", "anyOf"])
def test_the_deepest_accepted_schemas_leave_most_of_the_recursion_limit_free(kind):
    # Every chain shape at the documented bound converts with 450 frames to spare for the caller's stack.
    per_level = 1 if kind == "items" else 2
    schema = _nested((MAX_DEPTH - 1) // per_level, kind)
    import inspect
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 450)
    try:
        check_json_schema(schema, RJS)
        if kind == "items":
            openapi_to_json_schema(_openapi_nested(MAX_DEPTH - 1), RS)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},
        {"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"},
        {"allOf": [{"$ref": "#"}]},
        {"type": "object", "properties": {"self": {"$ref": "#"}}, "required": ["self"]},
        {
            "$defs": {"N": {"type": "object", "properties": {"n": {"$ref": "#/$defs/N"}}, "required": ["n"]}},
            "$ref": "#/$defs/N",
        },
        {"type": "array", "items": {"$ref": "#"}, "minItems": 1},
        {"type": "object", "properties": {"a": {"$ref": "#"}}, "minProperties": 1},
        {"type": "object", "additionalProperties": {"$ref": "#"}, "minProperties": 1},
    ],
)
def test_ref_loops_with_no_finite_value_are_refused(schema):
    with pytest.raises(InvalidArgument) as info:
        check_json_schema(schema, RJS)
    assert info.value.message.startswith(f"{RJS}: no finite JSON value matches this schema")


TREE = {
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
            },
            "required": ["name", "children"],
        }
    },
    "$ref": "#/$defs/Node",
}


@pytest.mark.parametrize(
    "schema",
    [
        TREE,
        {"type": "object", "properties": {"v": {"type": "integer"}, "next": {"$ref": "#"}}, "required": ["v"]},
        {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}}, "required": ["next"]},
        {"type": ["object", "null"], "properties": {"a": {"$ref": "#"}}, "required": ["a"]},
        {"type": "object", "properties": {"a": {"$ref": "#"}, "b": {"type": "string"}}, "minProperties": 1},
        {"type": "string", "$defs": {"Unused": {"$ref": "#/$defs/Unused"}}},  # never reached from the root
    ],
)
def test_recursive_schemas_that_can_end_are_accepted(schema):
    assert check_json_schema(schema, RJS)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"$ref": "#/$defs/Missing"}, f"{RJS}.$ref: '#/$defs/Missing' does not point to anything"),
        ({"type": "array", "items": {"$ref": "#/items/x"}}, f"{RJS}.items.$ref: '#/items/x' does not point"),
        (
            {"$defs": {"A": {"type": "string"}}, "type": "object", "properties": {"a": {"$ref": "#/$defs/A/type"}}},
            f"{RJS}.properties.a.$ref: '#/$defs/A/type' does not point to a schema",
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "#/properties"}}},
            f"{RJS}.properties.a.$ref: '#/properties' does not point to a schema",
        ),
        ({"$ref": "https://example.com/s.json"}, f"{RJS}.$ref: only references inside this schema"),
    ],
)
def test_dangling_and_non_schema_refs_are_refused(schema, message):
    with pytest.raises(InvalidArgument) as info:
        check_json_schema(schema, RJS)
    assert info.value.message.startswith(message), info.value.message


@pytest.mark.parametrize("pattern", ["^(ab|cd){1,10000}$", "^(a{1,100}b){1,100}$", "^x{2001}$"])
def test_patterns_that_expand_too_far_are_refused(pattern):
    with pytest.raises(InvalidArgument) as info:
        check_json_schema({"type": "string", "pattern": pattern}, RJS)
    assert info.value.message.startswith(f"{RJS}: the schema is too large to enforce: a pattern expands to")
    assert "more than 2000" in info.value.message
    assert check_json_schema({"type": "string", "pattern": "^(ab|cd){1,500}$"}, RJS)


def test_patterns_nested_too_deep_are_refused_before_the_regex_parser_recurses():
    pattern = "(" * 500 + "a" + ")" * 500
    with pytest.raises(InvalidArgument) as info:
        check_json_schema({"type": "string", "pattern": pattern}, RJS)
    assert info.value.message.startswith(f"{RJS}: the schema is too large to enforce: a pattern nests groups deeper")
    assert check_json_schema({"type": "string", "pattern": r"^(\((a)\)|[(])+$"}, RJS)


@pytest.mark.parametrize(
    ("convert", "schema", "where", "message"),
    [
        (
            check_json_schema,
            {"type": "string", "enum": [str(i) for i in range(100_000)]},
            RJS,
            f"100000 enum values, more than {MAX_ENUM_VALUES}",
        ),
        (
            openapi_to_json_schema,
            {"type": "OBJECT", "properties": {f"p{i}": {"type": "STRING"} for i in range(10_000)}},
            RS,
            f"10000 properties, more than {MAX_PROPERTIES}",
        ),
        (
            check_json_schema,
            {"anyOf": [{"type": "integer", "minimum": i} for i in range(MAX_NODES)]},
            RJS,
            f"more than {MAX_NODES}",
        ),
        (check_json_schema, {"type": "string", "description": "x" * (MAX_TEXT + 1)}, RJS, f"more than {MAX_TEXT}"),
        (enum_values, {"type": "STRING", "enum": [str(i) for i in range(5000)]}, RS, "5000 enum values"),
    ],
)
def test_schemas_over_the_size_limits_are_refused_naming_the_field_and_the_limit(convert, schema, where, message):
    with pytest.raises(InvalidArgument) as info:
        convert(schema, where)
    assert info.value.message.startswith(f"{where}: the schema is too large to enforce")
    assert message in info.value.message


def _obj(n: int, required: range = range(0)) -> dict:
    props = {f"p{i}": {"type": "integer"} for i in range(n)}
    return {"type": "object", "properties": props, "required": [f"p{i}" for i in required]}


@pytest.mark.parametrize(
    ("convert", "schema", "where", "message"),
    [
        (
            check_json_schema,
            {"const": "x" * 100_000},
            RJS,
            f"a const value is 100000 characters long, more than {MAX_LITERAL}",
        ),
        (
            check_json_schema,
            {"type": "string", "enum": ["short", "y" * (MAX_LITERAL + 1)]},
            RJS,
            f"an enum value is {MAX_LITERAL + 1} characters long",
        ),
        (
            check_json_schema,
            {"type": "object", "properties": {"p" * 20_000: {"type": "integer"}}},
            RJS,
            "a property name is 20000 characters long",
        ),
        (
            check_json_schema,
            {"const": {"k": ["v" * 6_000, "w" * 6_000]}},
            RJS,
            "a const value is 12015 characters long",
        ),
        (openapi_to_json_schema, {"type": "STRING", "enum": ["z" * 50_000]}, RS, "an enum value is 50000 characters"),
        (enum_values, {"type": "STRING", "enum": ["a", "b" * 20_000]}, RS, "an enum value is 20000 characters"),
    ],
)
def test_literals_too_long_to_decode_fast_are_refused(convert, schema, where, message):
    # Each decoding step inside a literal walks the rest of it (3 ms a token at 10,000 characters, 31 ms at 50,000).
    with pytest.raises(InvalidArgument) as info:
        convert(schema, where)
    assert info.value.message.startswith(f"{where}: the schema is too large to enforce")
    assert message in info.value.message, info.value.message
    assert check_json_schema({"const": "x" * MAX_LITERAL, "enum": ["x" * MAX_LITERAL]}, RJS)


@pytest.mark.parametrize(
    "schema",
    [
        Person.model_json_schema(),
        Owner.model_json_schema(),
        {"type": "string", "maxLength": 1000},
        _obj(100),
        _obj(200, range(0, 200, 2)),
        _obj(MAX_PROPERTIES, range(MAX_PROPERTIES)),
        {"type": "string", "pattern": r"^\d{3}-\d{3}-\d{4}$"},
        {"type": "string", "enum": [f"value-{i}" for i in range(MAX_ENUM_VALUES)]},
        {"anyOf": [{"type": "number", "minimum": i, "maximum": i + 9.5} for i in range(100)]},
        TREE,
    ],
)
def test_ordinary_and_large_schemas_are_accepted(schema):
    # What xgrammar needed seconds to compile (long length bounds, runs of optional properties, many ranges) is
    # cheap for llguidance; the engine refuses at compile time whatever reaches one of its limits.
    assert check_json_schema(schema, RJS)


def test_the_grammar_form_forbids_undeclared_properties_and_items_and_drops_annotation_formats():
    schema = {
        "type": "object",
        "title": "Order",
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "blob": {"type": "string", "format": "binary"},  # pydantic's bytes: an annotation only
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]},
            "free": {"type": "object"},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
        "required": ["when"],
        "$defs": {"Closed": {"type": "object", "properties": {"a": {}}, "unevaluatedProperties": False}},
        "enum": [{"properties": {"not": "a schema"}}],  # literal values are copied untouched
    }
    out = grammar_schema(schema)
    assert list(out) == [*schema, "additionalProperties"]  # keyword order kept: it decides property order
    assert out["additionalProperties"] is False and out["enum"] == schema["enum"]
    props = out["properties"]
    assert props["when"] == {"type": "string", "format": "date-time"} and props["blob"] == {"type": "string"}
    assert props["pair"]["items"] is False and props["free"] == {"type": "object"}
    assert props["counts"]["additionalProperties"] == {"type": "integer"}
    assert out["$defs"]["Closed"] == {"type": "object", "properties": {"a": {}}, "additionalProperties": False}
    assert schema["properties"]["blob"] == {"type": "string", "format": "binary"}  # the input is not changed
    # Next to $ref / anyOf, unevaluatedProperties is not the same as additionalProperties: left to the compiler.
    mixed = {"anyOf": [{"type": "object"}], "unevaluatedProperties": False}
    assert grammar_schema(mixed) == mixed
