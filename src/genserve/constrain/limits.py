"""What a schema may hold before anything walks it recursively, and whether it admits any finite value at all.

These counts are checked while a request is converted, on the schema as sent: they bound the work and memory of
every later step and are independent of the model. Compiling for a model is cheap with llguidance (it builds masks
token by token, so the vocabulary does not multiply the compile cost) and its own limits bound every step
(engines/constrained/grammar.py); compiled grammars are cached by schema, so a schema sent again costs nothing.

One cost is not bounded by llguidance's fuel: a long literal (a const or enum value, a property name). Every mask
computed while the reply is inside it walks the rest of the literal, so each token costs time in proportion to its
length (llguidance 1.9.1 on a 151,936-id vocabulary: 0.3 ms per token at 1,000 characters, 3 ms at 10,000, 31 ms at
50,000); MAX_LITERAL keeps that to a few milliseconds per token.

Every check here is iterative. The converters and validators after it recurse, several frames per level: at
MAX_DEPTH the deepest chains measured 400 frames (jsonschema's own check_schema is most of it) of the 1,000 Python
allows, whatever the HTTP boundary lets through."""

from __future__ import annotations

import json
from typing import Any

from genserve.errors import InvalidArgument

try:  # the parser the re module itself uses (Python 3.11 renamed sre_parse to re._parser)
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _parser

MAX_DEPTH = 48  # objects and lists inside one another, counting the schema's own wrappers (properties, anyOf ...)
MAX_NODES = 5_000  # objects and lists in all
MAX_ENUM_VALUES = 2_000  # enum and const values in all
MAX_PROPERTIES = 1_000  # properties declared in all
MAX_TEXT = 200_000  # characters of every string in the schema (names, values, patterns, descriptions)
MAX_LITERAL = 10_000  # characters of one const or enum value (as JSON) or one property name: see above
# Python's regex parser (which jsonschema's own check runs) recurses once per nested group: 500 levels raise
# RecursionError. Real patterns nest a few.
MAX_PATTERN_NESTING = 32
# Character positions a pattern expands to, counting {m,n} as n copies. Far more than any real pattern needs (a UUID
# is 36); it keeps a pattern's automaton, which llguidance builds state by state as tokens need it, small.
MAX_PATTERN_POSITIONS = 2_000


def check_budget(schema: Any, where: str) -> None:
    """Refuses a schema (or a list of them) over any of the limits above, naming the limit and how to get under it."""
    nodes = enum_values = properties = text = 0
    literals: list[tuple[Any, str]] = []  # (value, what it is), measured once the depth is known to be bounded
    stack: list[tuple[Any, int]] = [(schema, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            text += len(node)
            continue
        if not isinstance(node, (dict, list)):
            continue
        nodes += 1
        if depth > MAX_DEPTH:
            _refuse(where, f"it is nested deeper than {MAX_DEPTH} levels", "flatten it or use $defs with $ref")
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                _check_pattern(node["pattern"], where)
            if isinstance(node.get("enum"), list):
                enum_values += len(node["enum"])
                literals.extend((value, "an enum value") for value in node["enum"])
            if "const" in node:
                enum_values += 1
                literals.append((node["const"], "a const value"))
            if isinstance(node.get("properties"), dict):
                properties += len(node["properties"])
                literals.extend((name, "a property name") for name in node["properties"])
            text += sum(len(k) for k in node)
            stack.extend((value, depth + 1) for value in node.values())
        else:
            stack.extend((value, depth + 1) for value in node)
    for count, limit, what in (
        (enum_values, MAX_ENUM_VALUES, "enum values"),
        (properties, MAX_PROPERTIES, "properties"),
        (text, MAX_TEXT, "characters of text"),
        (nodes, MAX_NODES, "objects and lists"),
    ):
        if count > limit:
            _refuse(where, f"it holds {count} {what}, more than {limit}", "split the task or shorten the schema")
    for value, what in literals:
        # A string's JSON form is at least its length; anything else is measured as the JSON it stands for.
        length = len(value) if isinstance(value, str) else len(json.dumps(value, ensure_ascii=False))
        if length > MAX_LITERAL:
            problem = f"{what} is {length} characters long, more than {MAX_LITERAL}"
            _refuse(where, problem, "shorten it, or describe the value with a pattern or a length bound")


def _check_pattern(pattern: str, where: str) -> None:
    if _nesting(pattern) > MAX_PATTERN_NESTING:
        _refuse(where, f"a pattern nests groups deeper than {MAX_PATTERN_NESTING} levels", "flatten it")
    positions = pattern_positions(pattern)
    if positions > MAX_PATTERN_POSITIONS:
        problem = f"a pattern expands to {positions:.0f} character positions, more than {MAX_PATTERN_POSITIONS}"
        _refuse(where, problem, "use smaller repetition counts ({m,n})")


def _refuse(where: str, problem: str, fix: str) -> None:
    raise InvalidArgument(f"{where}: the schema is too large to enforce: {problem}; {fix}")


def pattern_positions(pattern: str) -> float:
    """How many character positions a regex expands to: a bounded repetition {m,n} is n copies of its body, an
    unbounded one its minimum. The caller bounds the pattern's group nesting first: the parser recurses once per
    level. An invalid pattern (the schema checker refuses it later) counts one position per character."""
    try:
        parsed = _parser.parse(pattern)
    except Exception:
        return float(len(pattern))
    return _positions(parsed)


def _positions(items: Any) -> float:
    total = 0.0
    for op, arg in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, body = arg
            count = low if high == _parser.MAXREPEAT else high
            total += max(count, 1) * _positions(body)
        elif name == "SUBPATTERN":
            total += _positions(arg[-1])
        elif name == "BRANCH":
            total += sum(_positions(branch) for branch in arg[1])
        elif name == "ATOMIC_GROUP":
            total += _positions(arg)
        elif name in ("LITERAL", "IN", "ANY", "NOT_LITERAL", "CATEGORY"):
            total += 1
    return total


def _nesting(pattern: str) -> int:
    """How deep the pattern's groups nest (escapes and character classes skipped), without parsing it."""
    depth = deepest = 0
    in_class = escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth = max(depth - 1, 0)
    return deepest


def check_finite(root: dict[str, Any], where: str) -> None:
    """Refuses a JSON Schema whose $refs loop with no way out (`{"$ref": "#"}`, a required property that refers back
    to its own object): no finite JSON value matches it, and constrained decoding would run out of allowed tokens.
    Recursion that can end (an optional child, an array of children that may be empty) is fine."""
    nodes = _schemas(root)
    if not any("$ref" in node for node in nodes):
        return  # without references nothing can loop
    finite: dict[int, bool] = {id(n): False for n in nodes}
    changed = True
    while changed:  # a fixed point: each pass can only turn more schemas finite
        changed = False
        for node in nodes:
            if not finite[id(node)] and _finite(node, root, finite):
                finite[id(node)] = changed = True
    if not finite[id(root)]:
        raise InvalidArgument(
            f"{where}: no finite JSON value matches this schema: its $ref recursion never ends; make the recursive "
            "property optional, or an array that may be empty"
        )


def _finite(node: dict[str, Any], root: dict[str, Any], finite: dict[int, bool]) -> bool:
    def ok(child: Any) -> bool:
        return child is True or (isinstance(child, dict) and finite.get(id(child), True))

    if isinstance(node.get("$ref"), str):
        target = ref_target(root, node["$ref"])
        return target is not None and ok(target)
    for key in ("anyOf", "oneOf"):  # the schema checker refuses constraints beside these, so they decide alone
        if isinstance(node.get(key), list):
            return any(ok(branch) for branch in node[key])
    if isinstance(node.get("allOf"), list):
        return all(ok(branch) for branch in node["allOf"])
    types = node.get("type")
    if types is None:  # what the grammar compiler makes of an untyped schema
        types = "object" if "properties" in node else "array" if "items" in node or "prefixItems" in node else "any"
    may_be = {types} if isinstance(types, str) else set(types) if isinstance(types, list) else {"any"}
    if may_be - {"object", "array"}:
        return True  # a string, number, boolean or null ends here
    properties, required = node.get("properties"), node.get("required")
    properties = properties if isinstance(properties, dict) else {}
    required = [r for r in required if isinstance(r, str)] if isinstance(required, list) else []
    if "object" in may_be and all(ok(properties.get(name, True)) for name in required):
        # minProperties may demand more than the required ones: enough finite others must exist.
        wanted = node["minProperties"] if isinstance(node.get("minProperties"), int) else 0
        missing = wanted - len(set(required))
        others = [schema for name, schema in properties.items() if name not in required]
        extra = node.get("additionalProperties", False)
        patterns = node["patternProperties"] if isinstance(node.get("patternProperties"), dict) else {}
        unlimited = (extra is not False and ok(extra)) or any(ok(p) for p in patterns.values())
        if missing <= 0 or unlimited or sum(ok(p) for p in others) >= missing:
            return True
    if "array" in may_be:
        needed = node["minItems"] if isinstance(node.get("minItems"), int) else 0
        prefix = node["prefixItems"] if isinstance(node.get("prefixItems"), list) else []
        if all(ok(item) for item in prefix[:needed]) and (needed <= len(prefix) or ok(node.get("items", True))):
            return True
    return False


_LITERALS = {"const", "enum", "default", "examples", "example"}  # user values, never schemas


def _schemas(root: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object of the schema document outside literal values (a few that are not schemas do no harm)."""
    found: list[dict[str, Any]] = []
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            stack.extend(value for key, value in node.items() if key not in _LITERALS)
        elif isinstance(node, list):
            stack.extend(node)
    return found


def ref_target(root: dict[str, Any], ref: str) -> Any:
    """What a local `$ref` (`#`, `#/$defs/Name`) points to in `root`, or None."""
    node: Any = root
    for part in ref[2:].split("/") if ref != "#" else ():
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node
