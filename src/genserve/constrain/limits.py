"""What a schema may cost before the grammar compiler sees it, and whether it admits any finite value at all.

Measured on 2 cores (xgrammar 0.2.8, the demo's 2,054-token vocabulary; `benchmarks/structured_output.py` has the
per-token side): compiling an enum of 1,000 values takes 0.01 s, 5,000 0.06 s, 20,000 0.8 s and 100,000 7.5 s; an
object of 500 properties 0.02 s, 2,000 0.15 s, 5,000 0.7 s. Compile time grows faster than the schema and with the
vocabulary (a real model's is 25-75x the demo's), so the budget below keeps the largest accepted schema near
0.05 s here. Compiled grammars are cached by schema (constrain/grammar.py): a schema sent again costs nothing.

Every check is iterative: the request boundary already refuses JSON nested deeper than 100 levels, and the schema
converters and validators recurse once per level (several frames each)."""

from __future__ import annotations

from typing import Any

from genserve.errors import InvalidArgument

MAX_DEPTH = 48  # objects and lists inside one another, counting the schema's own wrappers (properties, anyOf ...)
MAX_NODES = 5_000  # objects and lists in all
MAX_ENUM_VALUES = 2_000  # enum and const values in all
MAX_PROPERTIES = 1_000  # properties declared in all
MAX_TEXT = 200_000  # characters of every string in the schema (names, values, patterns, descriptions)


def check_budget(schema: Any, where: str) -> None:
    """Refuses a schema (or a list of them) over any of the limits above, naming the limit and how to get under it."""
    nodes = enum_values = properties = text = 0
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
            if isinstance(node.get("enum"), list):
                enum_values += len(node["enum"])
            enum_values += "const" in node
            if isinstance(node.get("properties"), dict):
                properties += len(node["properties"])
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


def _refuse(where: str, problem: str, fix: str) -> None:
    raise InvalidArgument(f"{where}: the schema is too large to enforce: {problem}; {fix}")


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
        return True
    if "array" in may_be:
        needed = node.get("minItems", 0) if isinstance(node.get("minItems"), int) else 0
        prefix = node.get("prefixItems") if isinstance(node.get("prefixItems"), list) else []
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
