"""What compiling a schema into a grammar will cost, estimated from the schema alone before xgrammar sees it.

xgrammar computes a token mask for every position of every grammar rule, over the whole vocabulary, so the cost
grows with the model's vocabulary and with what multiplies positions. Measured on this project's 2-core machine
(xgrammar 0.2.8, a byte-level BPE of 151,936 ids trained on Python sources and docs; `benchmarks/grammar_compile.py`
reproduces every figure; times vary 2x with the machine's load):

    string with maxLength 8 / 16 / 32 / 1000              0.10-0.18 / 0.24-0.67 / 1.2-2.1 / 5-15 s
    (the same bound on many strings shares one rule; 20 different ones from 16 to 35: 17 s)
    25 / 50 / 100 optional properties in a row            0.08-0.21 / 0.6-1.7 / 3.4-7.9 s (a rule per suffix)
    200 properties, every other one optional               0.07-0.23 s
    1,000 required integer properties                      0.55-1.0 s, 21 MB of compiled grammar
    an enum of 2,000 values of 50 characters / const 100k  0.56-0.78 / 0.58-0.99 s, 21-23 MB (also on the demo's
                                                           2,054 ids: literal text does not get cheaper)
    40 integers / numbers with a minimum and maximum      0.4-0.9 / 0.56-1.8 s, 29 / 45 MB (each its own regex)
    40 identical patterns ^[a-z0-9]{32}$                   5.5 s (patterns are not shared)
    regex [a-z0-9]{16} / {64}, 40 date-time formats        0.06-0.08 / 0.27-0.44, 0.05-0.09 s
    a bare string (any JSON value may hold one)            0.06-0.07 s

The weights below turn those into milliseconds for a 151,936-id vocabulary, at or above the quieter measurements.
At a budget of 0.6 s the worst accepted schemas (maxLength 21; 35 optional properties in a row; 880 required
properties; a 75,000-character const; 34 integer or 15 number ranges; ^[a-z0-9]{73}$; a mix of them) measured
0.21-0.51 s with the machine's load at 3.5. Smaller vocabularies get a proportionally smaller estimate, except for
the share of each kind measured not to shrink (_FIXED_SHARE). A schema over the budget for the model at hand is
refused before compiling, naming its costliest part; sizes and shapes costly on any vocabulary are refused earlier,
while converting (limits.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from genserve.errors import InvalidArgument

try:  # the parser the re module itself uses (Python 3.11 renamed sre_parse to re._parser)
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _parser  # type: ignore[no-redef]

REFERENCE_VOCAB = 151_936
# A first request may spend this long compiling (later ones hit the cache). Generous on purpose: refusing a common
# `maxLength: 50` costs users more than 3 s once, and any request may already ask for thousands of output tokens,
# which cost far more; what it stops is the pathological schema (a 100,000-value enum, `(ab|cd){1,10000}`: 7-28 s
# even on the demo's small vocabulary). At 0.6 s the worst accepted schemas measured 0.21-0.51 s (below).
BUDGET_MS = 3000.0

BASE_MS = 70.0  # any grammar with a free string in it (a JSON object or array may hold one): the string's masks
NODE_MS = 0.1  # each schema object: its own rules
PROPERTY_MS = 0.45  # each declared property
OPTIONAL_RUN_MS = 0.4  # x (optional properties in a row)^2: xgrammar writes a rule for every suffix of the run
LITERAL_CHAR_MS = 0.007  # each character of enum/const values and property names (one state each)
VALUE_MS = 0.02  # each enum value
LENGTH_SQUARED_MS = 1.2  # a string of at most (or at least) n characters: min(1.2 n^2, 50 n) ms, n up to 200
LENGTH_STATE_MS = 50.0  # (the linear part, for long bounds)
LENGTH_STATES_SEEN = 200  # longer bounds cost no more (measured: 128 and 1,000 both 4-7 s); equal ones share rules
REGEX_WIDTH_MS = 0.2  # each repeated regex position, per character its class admits (capped at WIDE)
WIDE = 200  # a class this wide (or negated, or `.`) costs as much as a free string character
INTEGER_RANGE_MS = 15.0  # an integer with a minimum or maximum: the range becomes a regex
NUMBER_RANGE_MS = 35.0  # the same for a number, with its fraction and exponent
FORMAT_MS = 1.5  # each string format (date-time, email ...)

# The share of each kind's cost that does not shrink with the vocabulary (demo's 2,054 ids against 151,936): literal
# text costs the same on any (an enum of 2,000 values of 50 characters: 0.51 s against 0.56-0.78 s), 1,000 required
# properties a quarter (0.15 s against 0.55-1.0 s), number ranges a fifth; length bounds, runs of optional properties
# and patterns shrink with it (1 % or less).
_FIXED_SHARE = {
    "lists of values": 1.0,
    "schema objects": 0.3,
    "properties": 0.25,
    "formats": 0.25,
    "number ranges": 0.2,
}

_CHILD = ("items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "propertyNames")
_CHILD_MAPS = ("properties", "patternProperties", "$defs", "definitions")
_CHILD_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


@dataclass
class _Part:
    ms: float = 0.0  # all parts of this kind together
    count: int = 0
    worst: tuple[float, str, str] = (0.0, "", "")  # the costliest one: ms, path, what


@dataclass
class Estimate:
    """Milliseconds of compilation, by kind of part (number ranges, length bounds ...), for a 151,936-id
    vocabulary; `ms_for` scales them to another."""

    total_ms: float = 0.0
    kinds: dict[str, _Part] = field(default_factory=dict)
    lengths: set[tuple[int, int]] = field(default_factory=set)  # string length bounds counted (xgrammar shares them)

    def add(self, ms: float, path: str, kind: str, what: str | None = None) -> None:
        self.total_ms += ms
        part = self.kinds.setdefault(kind, _Part())
        part.ms += ms
        part.count += 1
        if ms > part.worst[0]:
            part.worst = (ms, path, what or kind)

    def ms_for(self, vocab_size: int) -> float:
        """The estimate for a vocabulary of `vocab_size` ids."""
        return sum(part.ms * _scale(kind, vocab_size) for kind, part in self.kinds.items())

    def costliest(self, vocab_size: int) -> str:
        """The kind of part that costs the most, where the costliest of them is, and roughly how much."""
        kind, part = max(self.kinds.items(), key=lambda item: item[1].ms * _scale(item[0], vocab_size))
        _, path, what = part.worst
        where, ms = path or "the root", part.ms * _scale(kind, vocab_size)
        if part.count == 1:
            return f"{what} at {where}, about {_time(ms)}"
        return f"{part.count} {kind} in all, about {_time(ms)} (the costliest: {what} at {where})"


def estimate_schema(schema: Any, estimate: Estimate | None = None, prefix: str = "") -> Estimate:
    """Walks a (checked) JSON Schema without recursion; `prefix` starts every path. Each schema is a grammar of
    its own (forced calls add one per function)."""
    estimate = estimate if estimate is not None else Estimate()
    estimate.add(BASE_MS, prefix, "grammars", "the grammar itself")
    stack: list[tuple[Any, str]] = [(schema, prefix)]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, dict):
            continue
        _own_cost(node, path, estimate)
        for key in _CHILD:
            stack.append((node.get(key), _join(path, key)))
        for key in _CHILD_MAPS:
            if isinstance(node.get(key), dict):
                stack.extend((child, _join(path, f"{key}.{name}")) for name, child in node[key].items())
        for key in _CHILD_LISTS:
            if isinstance(node.get(key), list):
                stack.extend((child, f"{_join(path, key)}[{i}]") for i, child in enumerate(node[key]))
    return estimate


def estimate_literals(values: Any, path: str, estimate: Estimate | None = None) -> Estimate:
    """Constant strings the reply must be one of (text/x.enum values, function names of forced calls)."""
    estimate = estimate if estimate is not None else Estimate()
    ms = LITERAL_CHAR_MS * sum(len(v) + 2 for v in values) + VALUE_MS * len(values)
    estimate.add(ms, path, "lists of values", f"{len(values)} values")
    return estimate


def check_cost(
    estimate: Estimate, where: str, vocab_size: int, subject: str = "the schema", budget_ms: float = BUDGET_MS
) -> None:
    """Refuses what would compile for longer than the budget on a vocabulary of `vocab_size` ids, naming the
    field (`where`), the limit, and the costliest part by its path inside the schema."""
    ms = estimate.ms_for(vocab_size)
    if ms <= budget_ms:
        return
    raise InvalidArgument(
        f"{where}: {subject} is too costly to enforce for this model: compiling it would take about "
        f"{_time(ms)}, more than the limit of {_time(budget_ms)}; most of it is "
        f"{estimate.costliest(vocab_size)}. Lower length bounds, make fewer properties optional in a row, or use fewer "
        "or shorter enum values and number ranges"
    )


def _own_cost(node: dict[str, Any], path: str, estimate: Estimate) -> None:
    estimate.add(NODE_MS, path, "schema objects", "a schema object")
    if isinstance(node.get("properties"), dict):
        _properties(node, path, estimate)
    values = node.get("enum") if isinstance(node.get("enum"), list) else []
    if "const" in node:
        values = [*values, node["const"]]
    if values:
        chars = sum(len(_dumps(v)) for v in values)
        ms = LITERAL_CHAR_MS * chars + VALUE_MS * len(values)
        estimate.add(ms, _join(path, "enum" if "enum" in node else "const"), "lists of values", f"{len(values)} values")
    if isinstance(node.get("pattern"), str):
        ms = REGEX_WIDTH_MS * regex_positions(node["pattern"])
        estimate.add(ms, _join(path, "pattern"), "patterns", "a pattern")
    elif not isinstance(node.get("format"), str):
        lengths = [node.get(k) for k in ("maxLength", "minLength")]
        lengths = [n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 0 for n in lengths]
        bound = lengths[0] or lengths[1]
        if bound and (lengths[0], lengths[1]) not in estimate.lengths:
            estimate.lengths.add((lengths[0], lengths[1]))
            name = "maxLength" if lengths[0] == bound else "minLength"
            n = min(bound, LENGTH_STATES_SEEN)
            ms = min(LENGTH_SQUARED_MS * n * n, LENGTH_STATE_MS * n)
            estimate.add(ms, _join(path, name), "string length bounds", f"a string length bound of {bound}")
    if isinstance(node.get("format"), str):
        estimate.add(FORMAT_MS, _join(path, "format"), "formats", "a format")
    if any(isinstance(node.get(k), (int, float)) and not isinstance(node.get(k), bool) for k in _BOUNDS):
        types = node.get("type") if isinstance(node.get("type"), list) else [node.get("type")]
        ms = NUMBER_RANGE_MS if "integer" not in types or "number" in types else INTEGER_RANGE_MS
        estimate.add(ms, path, "number ranges", "a number range")


def _properties(node: dict[str, Any], path: str, estimate: Estimate) -> None:
    properties: dict[str, Any] = node["properties"]
    required = {r for r in node["required"] if isinstance(r, str)} if isinstance(node.get("required"), list) else set()
    order = node.get("propertyOrdering") if isinstance(node.get("propertyOrdering"), list) else []
    names = [*(n for n in order if n in properties), *(n for n in properties if n not in order)]
    chars = sum(len(n) + 2 for n in names)
    at = _join(path, "properties")
    estimate.add(PROPERTY_MS * len(names) + LITERAL_CHAR_MS * chars, at, "properties", f"{len(names)} properties")
    run = longest = 0
    cost = 0.0
    for name in [*names, None]:  # None closes the last run
        if name is not None and name not in required:
            run += 1
            continue
        cost += OPTIONAL_RUN_MS * run * run
        longest, run = max(longest, run), 0
    if cost:
        estimate.add(cost, at, "runs of optional properties", f"{longest} optional properties in a row")


def regex_positions(pattern: str, weighted: bool = True) -> float:
    """How many character positions a regex expands to (a bounded repetition {m,n} is n copies of its body, an
    unbounded one its minimum), each weighted by how many characters it admits unless `weighted` is false. The
    caller bounds the pattern's group nesting first: the parser recurses once per level."""
    try:
        parsed = _parser.parse(pattern)
    except Exception:  # the schema checker refuses invalid patterns; unchecked input costs as a wide class
        return float((WIDE if weighted else 1) * len(pattern))
    return _positions(parsed, weighted)


def _positions(items: Any, weighted: bool) -> float:
    total = 0.0
    for op, arg in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, body = arg
            count = low if high == _parser.MAXREPEAT else high
            total += max(count, 1) * _positions(body, weighted)
        elif name == "SUBPATTERN":
            total += _positions(arg[-1], weighted)
        elif name == "BRANCH":
            total += sum(_positions(branch, weighted) for branch in arg[1])
        elif name == "ATOMIC_GROUP":
            total += _positions(arg, weighted)
        elif name == "LITERAL":
            total += 1
        elif name == "IN":
            total += _class_width(arg) if weighted else 1
        elif name in ("ANY", "NOT_LITERAL", "CATEGORY"):
            total += WIDE if weighted else 1
    return total


def _class_width(members: list[Any]) -> float:
    width = 0
    for op, arg in members:
        name = str(op)
        if name == "NEGATE":
            return WIDE
        if name == "LITERAL":
            width += 1
        elif name == "RANGE":
            width += arg[1] - arg[0] + 1
        elif name == "CATEGORY":
            width += 10 if str(arg) == "CATEGORY_DIGIT" else WIDE
    return min(width, WIDE)


def _scale(kind: str, vocab_size: int) -> float:
    share = _FIXED_SHARE.get(kind, 0.0)
    return share + (1 - share) * vocab_size / REFERENCE_VOCAB


def _time(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 100 else f"{ms:.0f} ms"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
