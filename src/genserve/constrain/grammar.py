"""Grammars for constrained decoding, compiled by xgrammar, and the logits processor that enforces them.

One `GrammarCompiler` per loaded model: it knows the model's vocabulary and keeps the most recently used compiled
grammars (bounded in number and in bytes). A schema is priced before it is compiled (constrain/cost.py) and
refused when it would take too long for this vocabulary; one sent again costs neither. A compiled grammar is
immutable and shared; every `generate()` call gets a fresh processor with one matcher per candidate.

xgrammar is optional (its wheel pulls in triton, which CPU hosts do not need): scripts/test and scripts/serve
install it with --no-deps, and this module is imported only when a request asks for constrained output."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

import torch
import xgrammar as xgr
from transformers import LogitsProcessor
from xgrammar import structural_tag as st

from genserve.constrain.cost import BUDGET_MS, Estimate, check_cost, estimate_literals, estimate_schema
from genserve.core.types import FunctionDeclaration, ResponseFormat
from genserve.errors import InvalidArgument

# JSON mode without a schema: an object or an array (the root xgrammar's builtin JSON grammar allows), written
# compactly. The builtin grammar itself allows any whitespace, and weak models then emit long whitespace runs.
ANY_JSON: dict[str, Any] = {"type": ["object", "array"]}
# The arguments of a function declared without parameters.
NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}}
# Compiled grammars kept per model. Measured sizes: 0.1-5 MB for ordinary schemas, 20-45 MB for the largest the
# cost budget accepts (long enums, many number ranges), so the byte bound is what holds with hostile traffic.
CACHE_ENTRIES = 256
CACHE_BYTES = 256 * 2**20


class GrammarCompiler:
    """Compiles response formats and tool-call formats for one model's vocabulary, with an LRU cache.

    `vocab_size` is the model's (the width of its logits), which may exceed the tokenizer's: ids past the
    tokenizer's vocabulary are never allowed. `stop_token_ids` are the ids that end a reply once the grammar is
    complete (default: the tokenizer's EOS); pass every EOS id the engine stops on."""

    def __init__(
        self,
        tokenizer: Any,
        vocab_size: int,
        *,
        stop_token_ids: Sequence[int] | None = None,
        cache_size: int = CACHE_ENTRIES,
        cache_bytes: int = CACHE_BYTES,
        budget_ms: float = BUDGET_MS,
    ) -> None:
        self.vocab_size = vocab_size
        self.budget_ms = budget_ms  # estimated compile time allowed per grammar (constrain/cost.py)
        self.tokenizer_info = _tokenizer_info(tokenizer, vocab_size, stop_token_ids)
        # xgrammar's own cache is off: ours is bounded in entries and bytes and dedupes concurrent compiles.
        self._compiler = xgr.GrammarCompiler(self.tokenizer_info, cache_enabled=False)
        self._cache: OrderedDict[str, Future[xgr.CompiledGrammar]] = OrderedDict()
        self._sizes: dict[str, int] = {}  # bytes of each compiled grammar in the cache
        self._cache_size = cache_size
        self._cache_bytes = cache_bytes
        self._lock = threading.Lock()
        self.compiles = 0  # grammars compiled so far (cache misses that got as far as xgrammar)
        self.compile_seconds = 0.0  # time spent compiling them

    # -- what can be compiled ---------------------------------------------------------------------------------

    def for_response(self, fmt: ResponseFormat) -> xgr.CompiledGrammar:
        """The whole reply: a JSON value matching fmt.json_schema (an object or array when there is none), or
        exactly one of fmt.enum_values as plain text."""
        if fmt.kind == "enum":
            if not fmt.enum_values:
                raise InvalidArgument("generationConfig.responseSchema.enum: text/x.enum needs at least one value")
            values = list(fmt.enum_values)

            def enum_grammar() -> xgr.CompiledGrammar:
                self._check_cost(estimate_literals(values, "enum"), "generationConfig", "the text/x.enum values")
                tag = st.StructuralTag(format=st.OrFormat(elements=[st.ConstStringFormat(value=v) for v in values]))
                return self._compiler.compile_structural_tag(tag)

            return self._cached(["enum", values], enum_grammar)
        schema = fmt.json_schema if fmt.json_schema is not None else ANY_JSON

        def json_grammar() -> xgr.CompiledGrammar:
            # responseSchema or responseJsonSchema (both arrive as JSON Schema): the path inside it is named.
            self._check_cost(estimate_schema(schema), "generationConfig", "the response schema")
            return self._compiler.compile_grammar(json_ebnf(schema))

        return self._cached(["json", schema], json_grammar, where="generationConfig.responseSchema")

    def for_tool_calls(
        self,
        declarations: Sequence[FunctionDeclaration],
        open_tag: str,
        close_tag: str,
        *,
        parallel: bool = True,
    ) -> xgr.CompiledGrammar:
        """The whole reply is one call (or several separated by a newline when `parallel`), each
        `{open_tag}\\n{"name": "<declared name>", "arguments": <JSON matching that function's parameters>}\\n
        {close_tag}` and nothing else (function calling mode ANY)."""

        def calls_grammar() -> xgr.CompiledGrammar:
            tags = self._call_tags(declarations, open_tag, close_tag)
            separated = st.TagsWithSeparatorFormat(
                tags=tags, separator="\n", at_least_one=True, stop_after_first=not parallel
            )
            return self._compiler.compile_structural_tag(st.StructuralTag(format=separated))

        key = ["calls", _declarations_key(declarations), open_tag, close_tag, parallel]
        return self._cached(key, calls_grammar, where="tools")

    def for_validated_tool_calls(
        self, declarations: Sequence[FunctionDeclaration], open_tag: str, close_tag: str
    ) -> xgr.CompiledGrammar:
        """Free text, but once the model writes `open_tag` it must complete a valid call as in `for_tool_calls`
        (function calling mode VALIDATED). Text may follow a call, and further calls may follow."""

        def validated_grammar() -> xgr.CompiledGrammar:
            tags = self._call_tags(declarations, open_tag, close_tag)
            triggered = st.TriggeredTagsFormat(triggers=[open_tag], tags=tags)
            return self._compiler.compile_structural_tag(st.StructuralTag(format=triggered))

        key = ["validated", _declarations_key(declarations), open_tag, close_tag]
        return self._cached(key, validated_grammar, where="tools")

    def logits_processor(self, compiled: xgr.CompiledGrammar, batch_size: int) -> GrammarLogitsProcessor:
        """A fresh processor for one generate() call with `batch_size` rows (candidates)."""
        return GrammarLogitsProcessor(compiled, batch_size, self.vocab_size)

    # -- helpers ----------------------------------------------------------------------------------------------

    def _call_tags(self, declarations: Sequence[FunctionDeclaration], open_tag: str, close_tag: str) -> list[Any]:
        """One tag per declaration; run only on a cache miss (each converts a schema to EBNF)."""
        if not declarations:
            raise InvalidArgument("tools: forced function calling needs at least one callable function declaration")
        # One grammar holds every declaration: the budget is for all of them together.
        estimate = estimate_literals([d.name for d in declarations], "functionDeclarations")
        for decl in declarations:
            estimate_schema(decl.parameters or NO_ARGUMENTS, estimate, f"functionDeclarations[{decl.name}].parameters")
        self._check_cost(estimate, "tools", "the schema of the forced function calls")
        tags = []
        for decl in declarations:
            where = f"tools.functionDeclarations[{decl.name}].parameters"
            schema = decl.parameters if decl.parameters is not None else NO_ARGUMENTS
            # The arguments are compiled on their own with compact separators: structural tags' json_schema format
            # would allow any whitespace, and a model would then drift into whitespace runs.
            try:
                arguments = json_ebnf(schema)
            except RuntimeError as exc:
                raise InvalidArgument(f"{where}: cannot be enforced: {_reason(exc)}") from None
            tags.append(
                st.TagFormat(
                    begin=f'{open_tag}\n{{"name": {json.dumps(decl.name)}, "arguments": ',
                    content=st.GrammarFormat(grammar=arguments),
                    end=f"}}\n{close_tag}",
                )
            )
        return tags

    def _check_cost(self, estimate: Estimate, where: str, subject: str) -> None:
        check_cost(estimate, where, self.vocab_size, subject, self.budget_ms)

    def _cached(self, key: Any, compile: Any, where: str = "generationConfig") -> xgr.CompiledGrammar:
        """The compiled grammar for `key`, compiling it once even when several threads ask at the same time."""
        # Property order matters (xgrammar writes properties in dict order), so the key keeps the schema's own
        # order rather than sort_keys: a client sends the same schema the same way every time.
        text = _dumps(key)
        with self._lock:
            future = self._cache.get(text)
            owner = future is None
            if owner:
                future = self._cache[text] = Future()
                self._evict()
            else:
                self._cache.move_to_end(text)
        if owner:
            started = time.perf_counter()
            try:
                compiled = compile()
            except Exception as exc:
                with self._lock:
                    if self._cache.get(text) is future:
                        del self._cache[text]
                if isinstance(exc, RuntimeError):  # xgrammar reports a schema it cannot compile this way
                    exc = InvalidArgument(f"{where}: the schema cannot be enforced: {_reason(exc)}")
                future.set_exception(exc)
            else:
                with self._lock:
                    self.compiles += 1
                    self.compile_seconds += time.perf_counter() - started
                    if self._cache.get(text) is future:
                        self._sizes[text] = compiled.memory_size_bytes
                        self._evict()
                future.set_result(compiled)
        return future.result()

    def _evict(self) -> None:
        """Drops the least recently used grammars while the cache holds too many or too many bytes (the lock is
        held). A grammar still compiling has no size yet; whoever waits on it keeps it."""
        while len(self._cache) > self._cache_size or (
            len(self._cache) > 1 and sum(self._sizes.values()) > self._cache_bytes
        ):
            oldest, _ = self._cache.popitem(last=False)
            self._sizes.pop(oldest, None)

    @property
    def cache_bytes(self) -> int:
        """Bytes of the compiled grammars the cache holds."""
        with self._lock:
            return sum(self._sizes.values())


class GrammarLogitsProcessor(LogitsProcessor):
    """Masks every token the grammar does not allow next, for each row of one generate() call.

    Only generated tokens reach the matchers: the first call sees the prompt and records its length, every later
    call feeds the tokens appended since. When a row's grammar is complete only its stop tokens stay allowed; after
    the row has stopped (generate() then pads it), it is left alone."""

    def __init__(self, compiled: xgr.CompiledGrammar, batch_size: int, vocab_size: int) -> None:
        self._matchers = [xgr.GrammarMatcher(compiled) for _ in range(batch_size)]
        self._bitmask = xgr.allocate_token_bitmask(batch_size, vocab_size)
        self._vocab_size = vocab_size
        self._seen: int | None = None  # length of input_ids at the previous call
        self._released = [False] * batch_size  # rows generate() no longer extends

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[0] != len(self._matchers):
            raise ValueError(f"grammar processor made for {len(self._matchers)} rows got {input_ids.shape[0]}")
        if self._seen is not None:
            for row, tokens in enumerate(input_ids[:, self._seen :].tolist()):
                for token in tokens:
                    self._accept(row, token)
        self._seen = input_ids.shape[1]
        rows = []
        for row, matcher in enumerate(self._matchers):
            if not (self._released[row] or matcher.is_terminated()):
                if matcher.fill_next_token_bitmask(self._bitmask, row):
                    rows.append(row)
        if rows:
            bitmask = self._bitmask.to(scores.device, non_blocking=True)
            xgr.apply_token_bitmask_inplace(
                scores, bitmask, vocab_size=self._vocab_size, indices=rows, backend=_backend(scores)
            )
            # A grammar that allows nothing next (a schema no finite value matches slipped through) must end the
            # request with its own error: sampling from all -inf fails with "probability tensor contains inf/nan",
            # and greedy decoding would write a token the grammar refuses.
            if torch.isneginf(scores[rows]).all(dim=-1).any():
                raise InvalidArgument(
                    "The response schema left no valid next token: no finite JSON value matches it. Simplify the "
                    "schema (a required property that refers back to its own object never ends)."
                )
        return scores

    def _accept(self, row: int, token: int) -> None:
        matcher = self._matchers[row]
        if self._released[row] or matcher.is_terminated():
            return
        if not matcher.accept_token(token):
            # The mask allowed no such token, so generate() put it there itself: the padding of a row that
            # stopped another way (a stop sequence, a stopping criterion). The row is done; stop constraining it.
            self._released[row] = True

    @property
    def completed(self) -> list[bool]:
        """Per row: whether what was generated so far is a complete match (a reply cut by maxOutputTokens is not)."""
        return [m.is_completed() or m.is_terminated() for m in self._matchers]


# -- module helpers ---------------------------------------------------------------------------------------------


def _tokenizer_info(tokenizer: Any, vocab_size: int, stop_token_ids: Sequence[int] | None) -> xgr.TokenizerInfo:
    """xgrammar's view of the vocabulary, with special tokens made unusable inside the grammar.

    xgrammar's own detection treats added special tokens such as <|im_start|> as ordinary text, so the mask would
    allow them inside a JSON string; decoding with skip_special_tokens then drops them and the string the client
    sees is not the one the grammar checked. An empty entry is never allowed by a grammar; stop tokens still
    end a complete reply, by id."""
    stops = list(stop_token_ids) if stop_token_ids else None
    detected = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=stops)
    special = set(getattr(tokenizer, "all_special_ids", ()))
    special.update(i for i, t in getattr(tokenizer, "added_tokens_decoder", {}).items() if getattr(t, "special", False))
    encoded = [""] * vocab_size
    for piece, index in tokenizer.get_vocab().items():
        if index < vocab_size and index not in special:
            encoded[index] = piece
    return xgr.TokenizerInfo(
        encoded,
        detected.vocab_type,
        vocab_size=vocab_size,
        stop_token_ids=detected.stop_token_ids,
        add_prefix_space=detected.add_prefix_space,
    )


# xgrammar 0.2.8 writes the characters of a string with minLength/maxLength as [^"\\\r\n], which lets raw control
# characters (U+0000-U+001F) through: json.loads then fails on the reply. Its unbounded strings already use the right
# class (no control characters, no quote, no backslash), which replaces it.
_BOUNDED_STRING_CHAR = r"[^\"\\\r\n]"
_JSON_STRING_CHAR = r"[^\0-\x1f\"\\]"


def json_ebnf(schema: dict[str, Any]) -> str:
    """The grammar of a compact JSON value matching `schema`, as EBNF text."""
    grammar = xgr.Grammar.from_json_schema(_dumps(schema), any_whitespace=False, strict_mode=True)
    return str(grammar).replace(_BOUNDED_STRING_CHAR, _JSON_STRING_CHAR)


def _declarations_key(declarations: Sequence[FunctionDeclaration]) -> list[Any]:
    return [[d.name, d.parameters] for d in declarations]  # descriptions do not change the grammar


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _reason(exc: Exception) -> str:
    """xgrammar's message without its '[time] /project/cpp/file.cc:123: ' prefix."""
    return re.sub(r"^\[[\d:]+\] \S+:\d+: ", "", str(exc).strip())


def _backend(scores: torch.Tensor) -> str:
    # On CUDA xgrammar's default kernel is triton's, which CPU-first installs leave out.
    if scores.device.type == "cpu" or _has_triton():
        return "auto"
    return "torch_native"


@functools.cache
def _has_triton() -> bool:
    return importlib.util.find_spec("triton") is not None
