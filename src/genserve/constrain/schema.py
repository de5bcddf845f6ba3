"""Schemas for structured output and function parameters, brought into the one form the grammar compiler reads.

Gemini accepts two schema dialects: the OpenAPI-subset `Schema` object (`responseSchema`, `parameters`) and plain
JSON Schema (`responseJsonSchema`, `parametersJsonSchema`). Both end up as plain JSON Schema here. A schema is
refused up front when constrained decoding cannot enforce it as JSON Schema means it: the reply would otherwise
claim to match a schema it does not match, or the request would fail later with the grammar library's message and
no field path. Every refusal names the field path and says what to change. `grammar_schema` then writes a checked
schema in the form the grammar compiler (engines/constrained/, llguidance) reads.

Pure functions, no grammar library import: the API layer calls them while converting a request."""

from __future__ import annotations

import math
import re
from typing import Any

from genserve.constrain.limits import check_budget, check_finite, ref_target
from genserve.errors import InvalidArgument

# -- the OpenAPI-subset Schema ------------------------------------------------------------------------------------

_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}

# The Python SDK sends snake_case inside schemas (property_ordering, any_of, max_items ...), JS sends camelCase.
_SNAKE = {
    "property_ordering": "propertyOrdering",
    "any_of": "anyOf",
    "min_items": "minItems",
    "max_items": "maxItems",
    "min_length": "minLength",
    "max_length": "maxLength",
    "min_properties": "minProperties",
    "max_properties": "maxProperties",
    "additional_properties": "additionalProperties",
}
_COUNTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")  # int64 on the wire
_OPENAPI_KEYS = {
    *(
        "type format title description nullable enum items properties required propertyOrdering anyOf minimum "
        "maximum pattern default example"
    ).split(),
    *_COUNTS,
}
# Vertex AI has these; the Gemini API (and so genserve) takes them only in the JSON Schema field.
_JSON_SCHEMA_ONLY = {"additionalProperties", "defs", "ref", "$defs", "$ref"}
# Gemini's `format` also carries int32/int64/float/double and "enum", which mean nothing to a JSON Schema validator;
# only string formats JSON Schema defines are kept.
_STRING_FORMATS = frozenset(
    "date-time date time duration email idn-email hostname idn-hostname ipv4 ipv6 uri uri-reference iri "
    "iri-reference uuid uri-template json-pointer relative-json-pointer".split()
)
# The formats the grammar compiler enforces (llguidance 1.9.1 refuses a schema with any other). The rest stay what
# JSON Schema 2020-12 makes every format by default, an annotation: grammar_schema() leaves them out, as xgrammar
# silently did before.
ENFORCED_FORMATS = frozenset("date-time time date duration email hostname ipv4 ipv6 uuid uri".split())


def openapi_to_json_schema(schema: dict[str, Any], where: str) -> dict[str, Any]:
    """The Gemini `Schema` object (either key case) as plain JSON Schema, checked like `check_json_schema`."""
    check_budget(schema, where)
    return check_json_schema(_convert(schema, where), where)


def _convert(schema: Any, where: str) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise InvalidArgument(f"{where}: must be a Schema object, got {_kind(schema)}")
    fields: dict[str, tuple[str, Any]] = {}  # camelCase name -> (name as sent, value)
    for sent, value in schema.items():
        name = _SNAKE.get(sent, sent)
        if name in fields:
            raise InvalidArgument(f"{where}: both {fields[name][0]} and {sent} are set; send one of them")
        if name in _JSON_SCHEMA_ONLY:
            raise InvalidArgument(
                f"{where}.{sent}: not supported in the Schema object; send the schema as JSON Schema instead "
                "(responseJsonSchema / parametersJsonSchema)"
            )
        if name not in _OPENAPI_KEYS:
            raise InvalidArgument(f"{where}.{sent}: unknown Schema field")
        fields[name] = (sent, value)

    def at(name: str) -> str:
        return f"{where}.{fields[name][0]}"

    out: dict[str, Any] = {}
    type_ = None
    if "type" in fields:
        raw = fields["type"][1]
        if not isinstance(raw, str) or (raw.upper() not in _TYPES and raw.upper() != "TYPE_UNSPECIFIED"):
            raise InvalidArgument(
                f"{at('type')}: {raw!r} is not a type; use one of {', '.join(sorted(_TYPES))} (or leave it unset)"
            )
        if raw.upper() != "TYPE_UNSPECIFIED":
            type_ = out["type"] = raw.lower()
    for name in ("title", "description", "pattern"):
        if name in fields:
            out[name] = _text(fields[name][1], at(name))
    if "format" in fields:
        fmt = _text(fields["format"][1], at("format"))
        if type_ in (None, "string") and fmt in _STRING_FORMATS:
            out["format"] = fmt
    if "enum" in fields:
        values = fields["enum"][1]
        if not isinstance(values, list):
            raise InvalidArgument(f"{at('enum')}: must be a list of values")
        if type_ in ("integer", "number"):  # the wire type of enum values is string
            values = [_number(v, f"{at('enum')}[{i}]", type_) for i, v in enumerate(values)]
        out["enum"] = values
    if "items" in fields:
        out["items"] = _convert(fields["items"][1], at("items"))
    if "properties" in fields:
        props = fields["properties"][1]
        if not isinstance(props, dict):
            raise InvalidArgument(f"{at('properties')}: must be an object mapping property names to Schemas")
        out["properties"] = {k: _convert(v, f"{at('properties')}.{k}") for k, v in props.items()}
    if "propertyOrdering" in fields:
        order = _names(fields["propertyOrdering"][1], at("propertyOrdering"))
        props = out.get("properties", {})
        for name in order:
            if name not in props:
                raise InvalidArgument(f"{at('propertyOrdering')}: {name!r} is not one of the properties")
        # The grammar writes properties in the order of the dict: listed ones first, the others after in their order.
        out["properties"] = {**{k: props[k] for k in order}, **props}
    if "required" in fields:
        out["required"] = _names(fields["required"][1], at("required"))
    if "anyOf" in fields:
        branches = fields["anyOf"][1]
        if not isinstance(branches, list) or not branches:
            raise InvalidArgument(f"{at('anyOf')}: must be a non-empty list of Schemas")
        out["anyOf"] = [_convert(b, f"{at('anyOf')}[{i}]") for i, b in enumerate(branches)]
    for name in _COUNTS:
        if name in fields:
            out[name] = _count(fields[name][1], at(name))
    for name in ("minimum", "maximum"):
        if name in fields:
            out[name] = _number(fields[name][1], at(name), type_)
    if "default" in fields:
        out["default"] = fields["default"][1]
    # `example` is documentation only and is dropped.
    if "nullable" in fields:
        nullable = fields["nullable"][1]
        if not isinstance(nullable, bool):
            raise InvalidArgument(f"{at('nullable')}: must be true or false")
        if nullable:
            _allow_null(out)
    return out


def _allow_null(out: dict[str, Any]) -> None:
    if "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    elif "anyOf" in out:
        out["anyOf"].append({"type": "null"})
    # With neither, the schema already allows null.


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{where}: must be a string, got {_kind(value)}")
    return value


def _names(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"{where}: must be a list of property names")
    return list(value)


def _count(value: Any, where: str) -> int:
    """int64 fields arrive as JSON numbers or, per the proto3 JSON mapping, as decimal strings."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"{where}: must be a non-negative integer, got {value!r}")
    return value


def _number(value: Any, where: str, type_: str | None) -> int | float:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InvalidArgument(f"{where}: must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidArgument(f"{where}: must be a finite number, got {value!r}")
    if isinstance(value, float) and value.is_integer() and type_ == "integer":
        return int(value)  # the SDK sends `ge=0` on an int field as minimum 0.0
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


# -- enum mode --------------------------------------------------------------------------------------------------


def enum_values(schema: Any, where: str) -> tuple[str, ...]:
    """The values of `responseMimeType: text/x.enum`: a string schema with an enum, in either dialect."""
    if not isinstance(schema, dict):
        raise InvalidArgument(f"{where}: must be a Schema object with type STRING and enum values")
    check_budget(schema, where)
    type_ = schema.get("type", "STRING")
    if not isinstance(type_, str) or type_.upper() != "STRING":
        raise InvalidArgument(f"{where}.type: text/x.enum needs type STRING, got {type_!r}")
    values = schema.get("enum")
    if not isinstance(values, list) or not values:
        raise InvalidArgument(f"{where}.enum: text/x.enum needs a non-empty list of enum values")
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value:
            raise InvalidArgument(f"{where}.enum[{i}]: enum values must be non-empty strings, got {value!r}")
    return tuple(dict.fromkeys(values))  # duplicates would only make the grammar ambiguous


# -- plain JSON Schema ------------------------------------------------------------------------------------------

# The JSON Schema keywords that constrain a value. Anything else (title, description, default, $defs, unknown
# keywords ...) only describes, and may sit anywhere, also next to $ref / anyOf / oneOf.
_CONSTRAINTS = frozenset(
    "type enum const format $ref anyOf oneOf allOf not if then else properties required "
    "additionalProperties unevaluatedProperties propertyNames patternProperties minProperties "
    "maxProperties dependentRequired dependentSchemas dependencies propertyOrdering items prefixItems "
    "unevaluatedItems minItems maxItems uniqueItems contains minContains maxContains minLength maxLength "
    "pattern minimum maximum exclusiveMinimum exclusiveMaximum multipleOf $dynamicRef $recursiveRef".split()
)

# What the grammar compiler does not implement (llguidance 1.9.1 refuses each as "Unimplemented keys"; xgrammar
# before it accepted them and did not enforce them): refused here with a way round.
_BY_CASE = "use anyOf with one branch per case"
_LOCAL_REF = "use a local $ref such as #/$defs/Name"
_UNENFORCED = {
    "not": "describe the allowed values instead",
    "if": _BY_CASE,
    "then": _BY_CASE,
    "else": _BY_CASE,
    "dependentRequired": _BY_CASE,
    "dependentSchemas": _BY_CASE,
    "dependencies": _BY_CASE,
    "contains": "constrain items instead",
    "minContains": "constrain items instead",
    "maxContains": "constrain items instead",
    "$dynamicRef": _LOCAL_REF,
    "$dynamicAnchor": _LOCAL_REF,
    "$recursiveRef": _LOCAL_REF,
    "$recursiveAnchor": _LOCAL_REF,
}

# Regex features the grammar compiler's regex engine does not have (it matches by automaton: no lookaround, no
# backreferences), or that read differently in it than in ECMA-262 regexes (word boundaries, Unicode classes).
_REGEX_UNSUPPORTED = [
    (re.compile(r"\(\?<?[=!]"), "lookahead/lookbehind assertions"),
    (re.compile(r"(?<!\\)(?:\\\\)*\\[bB]"), "word boundaries (\\b, \\B)"),
    (re.compile(r"(?<!\\)(?:\\\\)*\\(?:[1-9]|k<)"), "backreferences"),
    (re.compile(r"(?<!\\)(?:\\\\)*\\[pP]\{"), "Unicode property classes (\\p{...})"),
]

_INT64 = 2**63 - 1


def check_json_schema(schema: Any, where: str) -> dict[str, Any]:
    """Validates a plain JSON Schema (Draft 2020-12) and refuses what constrained decoding cannot enforce.
    Returns a normalised copy: `true` becomes `{}`, fractional bounds on integers are rounded inwards."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if schema is True:
        return {}
    if not isinstance(schema, dict):
        raise InvalidArgument(f"{where}: must be a JSON Schema object, got {_kind(schema)}")
    check_budget(schema, where)  # first: everything below recurses once per level
    schema = _lower_type_names(schema)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidArgument(f"{_path(where, exc.absolute_path)}: not a valid JSON Schema: {exc.message}") from None
    checker = _Checker(schema, where)
    checked = checker.walk(schema, where)
    checker.check_ref_targets()
    check_finite(checked, where)
    return checked


_GEMINI_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}
_LITERAL_KEYS = {"const", "enum", "default", "examples", "example"}  # user values, never schemas


def _lower_type_names(node: Any) -> Any:
    """Gemini's own clients (Gemini CLI's routers, for one) send OpenAPI-style upper-case type names in
    responseJsonSchema, and the Gemini API accepts them: read them as the JSON Schema names."""
    if isinstance(node, list):
        return [_lower_type_names(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: v if k in _LITERAL_KEYS else _lower_type_names(v) for k, v in node.items()}
    kind = out.get("type")
    if isinstance(kind, str) and kind in _GEMINI_TYPES:
        out["type"] = kind.lower()
    elif isinstance(kind, list):
        out["type"] = [t.lower() if isinstance(t, str) and t in _GEMINI_TYPES else t for t in kind]
    return out


def _path(where: str, parts: Any) -> str:
    return where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


class _Checker:
    def __init__(self, root: dict[str, Any], where: str) -> None:
        self.root, self.where = root, where
        self.walked: set[int] = set()  # ids of the schema objects checked below
        self.refs: list[tuple[str, str]] = []  # (where, $ref) of every reference

    def walk(self, schema: Any, where: str) -> Any:
        if isinstance(schema, bool):
            if not schema:
                raise InvalidArgument(f"{where}: the schema false matches nothing; remove it")
            return {}
        self.walked.add(id(schema))
        out = dict(schema)
        for key in schema:
            if key in _UNENFORCED:
                raise InvalidArgument(f"{where}.{key}: not supported by constrained decoding; {_UNENFORCED[key]}")
        constraints = sorted(k for k in schema if k in _CONSTRAINTS)
        if "$ref" in schema:
            self._check_ref(schema["$ref"], f"{where}.$ref")
            self.refs.append((f"{where}.$ref", schema["$ref"]))
            if others := [k for k in constraints if k != "$ref"]:
                raise InvalidArgument(
                    f"{where}: {', '.join(others)} next to $ref would be ignored; move them into the referenced schema"
                )
        for combinator in ("anyOf", "oneOf", "allOf"):
            if combinator in schema and (others := [k for k in constraints if k != combinator]):
                raise InvalidArgument(
                    f"{where}: {', '.join(others)} next to {combinator} would be ignored; repeat them inside each "
                    f"{combinator} branch"
                )
        if len(schema.get("allOf", ())) > 1:
            raise InvalidArgument(f"{where}.allOf: allOf with more than one schema is not supported; merge them")
        if schema.get("uniqueItems") is True:
            raise InvalidArgument(f"{where}.uniqueItems: uniqueItems is not supported by constrained decoding")
        self._check_values(schema, where)
        self._check_strings(schema, where)
        self._check_numbers(schema, out, where)
        self._check_objects(schema, out, where)
        self._check_ranges(schema, where)
        if "oneOf" in schema:
            self._check_disjoint(schema["oneOf"], f"{where}.oneOf")
        # Recurse into every subschema (definitions too: a $ref may point anywhere in the document).
        for key in ("items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "propertyNames"):
            if isinstance(schema.get(key), dict):
                out[key] = self.walk(schema[key], f"{where}.{key}")
        for key in ("properties", "patternProperties", "$defs", "definitions"):
            if isinstance(out.get(key), dict):  # out: properties may have been reordered above
                out[key] = {n: self.walk(s, f"{where}.{key}.{n}") for n, s in out[key].items()}
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            if key in schema:
                out[key] = [self.walk(s, f"{where}.{key}[{i}]") for i, s in enumerate(schema[key])]
        return out

    def _check_ref(self, ref: str, where: str) -> None:
        if not (ref == "#" or ref.startswith("#/")):
            raise InvalidArgument(
                f"{where}: only references inside this schema are supported (#/$defs/Name), got {ref!r}"
            )
        if "~" in ref or "%" in ref:
            raise InvalidArgument(f"{where}: escaped reference {ref!r} is not supported; rename the definition")
        if ref_target(self.root, ref) is None:
            raise InvalidArgument(f"{where}: {ref!r} does not point to anything in this schema")

    def check_ref_targets(self) -> None:
        """After the walk: every $ref must point to a schema this checker has seen (one under $defs,
        properties, items ...), not into a keyword's value (`#/required`, `#/$defs/A/type`), which would
        reach the grammar compiler unchecked or not be a schema at all."""
        for where, ref in self.refs:
            target = ref_target(self.root, ref)
            if target is not True and id(target) not in self.walked:
                raise InvalidArgument(
                    f"{where}: {ref!r} does not point to a schema; point it to one, e.g. #/$defs/Name"
                )

    def _check_values(self, schema: dict[str, Any], where: str) -> None:
        if "enum" in schema and not schema["enum"]:
            raise InvalidArgument(f"{where}.enum: an empty enum matches nothing; list at least one value")
        types = schema.get("type")
        if types is None:
            return
        allowed = {types} if isinstance(types, str) else set(types)
        values: list[tuple[str, int | None, Any]] = [("enum", i, v) for i, v in enumerate(schema.get("enum", []))]
        if "const" in schema:
            values.append(("const", None, schema["const"]))
        for key, index, value in values:
            if not allowed & _json_types(value):
                at = f"{where}.{key}" + (f"[{index}]" if index is not None else "")
                raise InvalidArgument(f"{at}: {value!r} does not match the type {types}")

    def _check_strings(self, schema: dict[str, Any], where: str) -> None:
        pattern = schema.get("pattern")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise InvalidArgument(f"{where}.pattern: not a valid regular expression: {exc}") from None
            for finder, what in _REGEX_UNSUPPORTED:
                if finder.search(pattern):
                    raise InvalidArgument(f"{where}.pattern: {what} are not supported by constrained decoding")
        lengths = [k for k in ("minLength", "maxLength") if k in schema]
        for other in ("pattern", "format"):
            # One keyword states the length: the grammar would intersect the two, and a format's fixed shape with a
            # length bound easily matches nothing (date with maxLength 3), which would only fail at compile time.
            if other in schema and lengths:
                raise InvalidArgument(
                    f"{where}: {'/'.join(lengths)} cannot be combined with {other}; "
                    + ("put the length into the pattern, e.g. ^[a-z]{1,20}$" if other == "pattern" else "drop one")
                )

    def _check_numbers(self, schema: dict[str, Any], out: dict[str, Any], where: str) -> None:
        types = schema.get("type")
        types = {types} if isinstance(types, str) else set(types or ())
        integer = "integer" in types and "number" not in types
        multiple = schema.get("multipleOf")
        if multiple is not None and not (integer and float(multiple).is_integer()):
            raise InvalidArgument(
                f"{where}.multipleOf: only whole multipleOf on type integer is supported by constrained decoding"
            )
        if not integer:
            return
        # Whole 64-bit bounds on integers: a fractional bound is rounded inwards here, so the normalised schema says
        # what is enforced; larger ones are refused (the grammar's integer ranges stop at 64 bits).
        bounds = (("minimum", True), ("maximum", False), ("exclusiveMinimum", True), ("exclusiveMaximum", False))
        for key, lower in bounds:
            if key not in schema:
                continue
            value = schema[key]
            if abs(value) > _INT64:
                raise InvalidArgument(f"{where}.{key}: {value} is outside the 64-bit integer range")
            if float(value).is_integer():
                out[key] = int(value)
            else:
                del out[key]
                name, bound = ("minimum", math.ceil(value)) if lower else ("maximum", math.floor(value))
                out[name] = max(bound, out.get(name, bound)) if lower else min(bound, out.get(name, bound))

    def _check_objects(self, schema: dict[str, Any], out: dict[str, Any], where: str) -> None:
        properties = schema.get("properties", {})
        if "propertyOrdering" in schema:
            # Gemini's extension to JSON Schema. The grammar writes properties in dict order, so the dict is reordered
            # (listed properties first, the others after them in their order) and the keyword dropped.
            order = _names(schema["propertyOrdering"], f"{where}.propertyOrdering")
            for name in order:
                if name not in properties:
                    raise InvalidArgument(f"{where}.propertyOrdering: {name!r} is not one of the properties")
            out["properties"] = {**{k: properties[k] for k in order}, **properties}
            del out["propertyOrdering"]
        for name in schema.get("required", ()):
            # Undeclared properties are never written (grammar_schema), so such a name could never appear.
            if name not in properties:
                raise InvalidArgument(
                    f"{where}.required: {name!r} is required but not defined in properties; add it to properties"
                )

    def _check_ranges(self, schema: dict[str, Any], where: str) -> None:
        pairs = [("minItems", "maxItems"), ("minLength", "maxLength"), ("minProperties", "maxProperties")]
        pairs.append(("minimum", "maximum"))
        for low, high in pairs:
            if low in schema and high in schema and schema[low] > schema[high]:
                raise InvalidArgument(f"{where}: {low} {schema[low]} is greater than {high} {schema[high]}")

    def _check_disjoint(self, branches: list[Any], where: str) -> None:
        """A oneOf whose branches may overlap cannot be enforced as anyOf: a reply could then match two branches.
        Accepted are branches of different types, or objects told apart by a required property with a const/enum
        (a pydantic discriminated union); for those anyOf is exact, and the grammar compiler reads them so."""
        resolved = [self._resolve(b) for b in branches]
        kinds = [k for k in (_branch_types(b) for b in resolved) if k is not None]
        if len(kinds) == len(resolved) and all(
            not _overlap(kinds[i], kinds[j]) for i in range(len(kinds)) for j in range(i)
        ):
            return
        if all(isinstance(b, dict) for b in resolved):
            for name in set.intersection(*(set(b.get("required", ())) for b in resolved)):
                tags = [t for t in (self._tags(b.get("properties", {}).get(name)) for b in resolved) if t is not None]
                if len(tags) == len(resolved) and all(
                    not tags[i] & tags[j] for i in range(len(tags)) for j in range(i)
                ):
                    return
        raise InvalidArgument(
            f"{where}: oneOf branches must be told apart by type or by a required property with distinct const "
            "values; use anyOf if a reply may match several branches"
        )

    def _resolve(self, schema: Any) -> Any:
        """Follows local $refs (a few hops at most: a cycle is left unresolved, and so not told apart)."""
        for _ in range(16):
            if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
                return schema
            schema = ref_target(self.root, schema["$ref"])
            if schema is None:
                return None
        return None

    def _tags(self, schema: Any) -> set[str] | None:
        schema = self._resolve(schema)
        if not isinstance(schema, dict):
            return None
        if "const" in schema:
            return {repr(schema["const"])}
        if "enum" in schema:
            return {repr(v) for v in schema["enum"]}
        return None


def _json_types(value: Any) -> set[str]:
    if value is None:
        return {"null"}
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return {"integer", "number"}
    if isinstance(value, float):
        return {"number"}
    if isinstance(value, str):
        return {"string"}
    return {"array"} if isinstance(value, list) else {"object"}


def _branch_types(schema: Any) -> set[str] | None:
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return _json_types(schema["const"])
    if "enum" in schema:
        return set().union(*(_json_types(v) for v in schema["enum"]))
    types = schema.get("type")
    if types is None:
        return None
    return {types} if isinstance(types, str) else set(types)


def _overlap(a: set[str], b: set[str]) -> bool:
    def widen(types: set[str]) -> set[str]:  # every integer is a number
        return types | {"number"} if "integer" in types else types | {"integer"} if "number" in types else types

    return bool(widen(a) & widen(b))


# -- the form the grammar compiler reads -----------------------------------------------------------------------

# Keywords whose value is one subschema, a map of them, or a list of them (everything else is a value or a name).
_SUBSCHEMA = ("items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "propertyNames")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_APPLICATORS = ("$ref", "anyOf", "oneOf", "allOf")


def grammar_schema(schema: Any) -> Any:
    """A checked JSON Schema as the grammar compiler must read it to write what Gemini writes. Returns a copy:

    - an object with declared properties gets no others (`additionalProperties: false` unless the schema says what
      others may be), and an array of `prefixItems` no further items, as Gemini's structured output never adds
      undeclared fields and xgrammar's strict mode did not either; an object or array that declares nothing stays
      free (JSON mode's "any object");
    - `unevaluatedProperties` / `unevaluatedItems`, which llguidance does not implement, are read as
      `additionalProperties` / `items` where nothing else (no $ref, anyOf, oneOf, allOf) could evaluate properties
      or items, which is when the two mean the same;
    - a `format` the compiler does not enforce is left out: it is an annotation (see ENFORCED_FORMATS).

    Literal values (const, enum, default, examples) are copied untouched; the schema's depth was bounded when it was
    checked, so the recursion here is too."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():  # in the schema's order: llguidance reads keywords in order (property order)
        if key in _SUBSCHEMA:
            value = grammar_schema(value)
        elif key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            value = {name: grammar_schema(child) for name, child in value.items()}
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            value = [grammar_schema(child) for child in value]
        out[key] = value
    alone = not any(key in schema for key in _APPLICATORS)
    if alone and "unevaluatedProperties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = out.pop("unevaluatedProperties")
    if alone and "unevaluatedItems" in out and "items" not in out:
        out["items"] = out.pop("unevaluatedItems")
    if "properties" in out and "additionalProperties" not in out and "unevaluatedProperties" not in out:
        out["additionalProperties"] = False
    if "prefixItems" in out and "items" not in out and "unevaluatedItems" not in out:
        out["items"] = False
    if isinstance(out.get("format"), str) and out["format"] not in ENFORCED_FORMATS:
        del out["format"]
    return out
