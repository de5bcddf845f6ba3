"""Grammars for constrained decoding, compiled by llguidance, and the logits processor that enforces them.

One `GrammarCompiler` per loaded model: it holds llguidance's view of the model's vocabulary and keeps the most
recently used compiled grammars (bounded in number and in size). A compiled grammar is a matcher in its start state,
checked and never advanced; every `generate()` call copies it once per candidate.

llguidance precomputes nothing per token when it compiles (xgrammar, before it, built a mask for every grammar
position over the whole vocabulary, seconds for a `maxLength: 32` on a 151,936-id vocabulary). It computes each
step's mask by walking the vocabulary's token trie through the grammar's lexer and Earley parser, so compiling takes
milliseconds whatever the vocabulary and each step a fraction of one (benchmarks/grammar_compile.py). LIMITS bounds
the work of every step; what it does not bound (the size of the schema, the length of its literals), the schema
checks do before anything is compiled (constrain/limits.py). A schema that reaches one of the limits is refused with
a 400 naming the field: when it is compiled (a few probe steps run then), or at the step that reaches it.

Only fast (Rust-backed) tokenizers are supported: llguidance reads the vocabulary from the tokenizer's own JSON."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import llguidance
import llguidance.hf
import llguidance.numpy as llg_numpy
import numpy as np
import torch
from transformers import LogitsProcessor

from genserve.constrain.schema import grammar_schema
from genserve.core.types import FunctionDeclaration, ResponseFormat
from genserve.errors import InvalidArgument, Unavailable

# JSON mode without a schema: an object or an array.
ANY_JSON: dict[str, Any] = {"type": ["object", "array"]}
# The arguments of a function declared without parameters.
NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}}
# How every JSON value is written: compactly, with the separators json.dumps (and most training data) uses, and no
# free whitespace, which weak models fill with long runs. oneOf is read as anyOf: the schema checker has accepted
# only oneOfs whose branches cannot overlap (constrain/schema.py), for which the two are the same.
JSON_OPTIONS: dict[str, Any] = {
    "whitespace_flexible": False,
    "item_separator": ", ",
    "key_separator": ": ",
    "coerce_one_of": True,
}
# Compiled grammars kept per model. llguidance reports no memory size, so the byte bound counts the grammar text it
# compiled (at most the schema's own text, which constrain/limits.py bounds). The compiled forms measured 0.02 MB
# each for most schemas and 1.1 MB for 500 anyOf branches (process memory over 40 compiles of each, 151,936 ids);
# it is the entry bound that holds the memory, the byte bound that holds it when huge schemas come in a row.
CACHE_ENTRIES = 256
CACHE_BYTES = 32 * 2**20
# llguidance's limits, spelled out so that a change of its defaults cannot loosen them (its speeds: lexer fuel about
# 14,000 a millisecond, Earley items 20,000). Per step that is at most about 15 ms of lexer work and 3 ms of parsing;
# the slowest step measured on a 151,936-id vocabulary took 12 ms.
LIMITS = llguidance.LLParserLimits(
    step_lexer_fuel=200_000,  # lexer work for one mask
    step_max_items=50_000,  # Earley items for one mask
    initial_lexer_fuel=1_000_000,  # building the lexer when compiling
    max_lexer_states=250_000,  # lexer states one matcher may build (1-2 kB each; 20 strings of maxLength ~300 took
    # over 10,000 in 250 steps)
    max_grammar_size=500_000,  # symbols in the grammar
    max_items_in_row=2_000,  # items of one grammar row: 1,000 optional properties in a row need 3,999 (refused)
    verbose_errors=False,  # the reason alone: no parser state or schema text in replies and logs
)
# Steps walked when a grammar is compiled, always taking the lowest allowed token: the schemas that reach a limit
# (1,000 optional properties, 1,000 anyOf strings with different bounds) do so at the first value, and are then
# refused before any request waits on them. Each step costs what a decoding step costs (under a millisecond).
PROBE_STEPS = 8
_TOO_COMPLEX = ("ParserTooComplex", "LexerTooComplex")
# A grammar that cannot go on from where it is, while what it has is not complete (the matcher stops with one of
# these, and reports the first as its error).
_NO_WAY_ON = {"NoExtension", "NoExtensionBias"}
# How llguidance's messages for its limits read ("Too many items (limit 50000)", "Current row has 3999 items; max
# is 2000", "too many states" ...) where the stop reason does not say it (a limit met while compiling).
_LIMIT_WORDS = ("too many", "limit", "max is", "fuel", "too complex", "too large")


@dataclass(frozen=True)
class CompiledGrammar:
    """A checked grammar: `matcher` is in its start state and is only ever copied."""

    matcher: llguidance.LLMatcher
    where: str  # the request field it came from, for errors found while decoding
    size_bytes: int  # the grammar text llguidance compiled


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
    ) -> None:
        self.vocab_size = vocab_size
        stops = list(stop_token_ids) if stop_token_ids else [tokenizer.eos_token_id]
        self._vocab = _Vocabulary(tokenizer, vocab_size)
        self._tokenizer = llguidance.LLTokenizer(llguidance.TokenizerWrapper(self._vocab), eos_token=stops)
        self.stop_token_ids = tuple(sorted(set(self._tokenizer.eos_tokens)))
        # Tokens that carry reply text: the dead-end checks look for one of them among the allowed.
        self._content_words = _words_without(len(self._vocab.tokens), [*self._vocab.special_token_ids, *stops])
        self._cache: OrderedDict[str, Future[CompiledGrammar]] = OrderedDict()
        self._sizes: dict[str, int] = {}  # size_bytes of each compiled grammar in the cache
        self._cache_size = cache_size
        self._cache_bytes = cache_bytes
        self._lock = threading.Lock()
        self.compiles = 0  # grammars compiled so far (cache misses that got as far as llguidance)
        self.compile_seconds = 0.0  # time spent compiling them

    # -- what can be compiled ---------------------------------------------------------------------------------

    def for_response(self, fmt: ResponseFormat) -> CompiledGrammar:
        """The whole reply: a JSON value matching fmt.json_schema (an object or array when there is none), or
        exactly one of fmt.enum_values as plain text."""
        if fmt.kind == "enum":
            if not fmt.enum_values:
                raise InvalidArgument("generationConfig.responseSchema.enum: text/x.enum needs at least one value")
            values = list(fmt.enum_values)
            return self._cached(["enum", values], lambda: enum_lark(values), "generationConfig.responseSchema.enum")
        schema = fmt.json_schema if fmt.json_schema is not None else ANY_JSON
        # responseSchema or responseJsonSchema (both arrive as JSON Schema)
        return self._cached(["json", schema], lambda: json_grammar(schema), "generationConfig.responseSchema")

    def for_tool_calls(
        self,
        declarations: Sequence[FunctionDeclaration],
        open_tag: str,
        close_tag: str,
        *,
        parallel: bool = True,
    ) -> CompiledGrammar:
        """The whole reply is one call (or several separated by a newline when `parallel`), each
        `{open_tag}\\n{"name": "<declared name>", "arguments": <JSON matching that function's parameters>}\\n
        {close_tag}` and nothing else (function calling mode ANY)."""
        key = ["calls", _declarations_key(declarations), open_tag, close_tag, parallel]
        return self._calls(key, declarations, lambda: calls_lark(declarations, open_tag, close_tag, parallel=parallel))

    def for_validated_tool_calls(
        self, declarations: Sequence[FunctionDeclaration], open_tag: str, close_tag: str
    ) -> CompiledGrammar:
        """Free text, but once the model writes `open_tag` it must complete a valid call as in `for_tool_calls`
        (function calling mode VALIDATED). Text may follow a call, and further calls may follow."""
        key = ["validated", _declarations_key(declarations), open_tag, close_tag]
        lark = functools.partial(validated_lark, declarations, open_tag, close_tag)
        return self._calls(key, declarations, lark, lead=open_tag)

    def logits_processor(self, compiled: CompiledGrammar, batch_size: int) -> GrammarLogitsProcessor:
        """A fresh processor for one generate() call with `batch_size` rows (candidates)."""
        return GrammarLogitsProcessor(
            compiled,
            batch_size,
            len(self._vocab.tokens),  # the mask covers the larger of the model's ids and the tokenizer's
            stop_token_ids=self.stop_token_ids,
            content_words=self._content_words,
        )

    @property
    def token_bytes(self) -> list[bytes]:
        """Each token's bytes (a special token: its text), for the UTF-8 guard."""
        return self._vocab.tokens

    @property
    def cache_bytes(self) -> int:
        """size_bytes of the compiled grammars the cache holds."""
        with self._lock:
            return sum(self._sizes.values())

    # -- helpers ----------------------------------------------------------------------------------------------

    def _calls(
        self, key: Any, declarations: Sequence[FunctionDeclaration], lark: Callable[[], str], lead: str = ""
    ) -> CompiledGrammar:
        """A tool-call grammar; the probe starts after `lead` (the open tag, where the reply starts as free text)."""
        if not declarations:
            raise InvalidArgument("tools: forced function calling needs at least one callable function declaration")

        def compile() -> CompiledGrammar:
            try:
                return self._compile(llguidance.LLMatcher.grammar_from_lark(lark()), "tools", lead)
            except InvalidArgument:
                # One grammar holds every declaration; llguidance's reason does not say whose parameters it is.
                # Compiling them one by one (only now, on the way to an error) names the first one that fails.
                for decl in declarations:
                    where = f"tools.functionDeclarations[{decl.name}].parameters"
                    self._compile(json_grammar(_arguments(decl)), where)
                raise

        return self._cached(key, compile, "tools", text=False)

    def _compile(self, grammar: str, where: str, lead: str = "") -> CompiledGrammar:
        """Builds and probes the matcher for one grammar; a grammar llguidance refuses is a 400 naming `where`."""
        matcher = llguidance.LLMatcher(self._tokenizer, grammar, log_level=0, limits=LIMITS)
        if matcher.is_error():
            raise _refusal(where, matcher)
        self._probe(matcher, where, lead)
        return CompiledGrammar(matcher, where, len(grammar.encode()))

    def _probe(self, matcher: llguidance.LLMatcher, where: str, lead: str) -> None:
        """Walks a few steps of a copy (see PROBE_STEPS) from `lead` on; also refuses a grammar whose start allows
        nothing but a stop (a schema no finite value matches, such as {"$ref": "#"}). Text the grammar forces (a
        call's `{"name": ...` up to its arguments) is taken in one go and counts as no step."""
        probe = matcher.deep_copy()
        if lead:
            probe.consume_tokens(self._vocab(lead))
        for _ in range(PROBE_STEPS):
            if forced := probe.compute_ff_tokens():
                probe.consume_tokens(forced)
            # llguidance's own mask may carry a spare word past the vocabulary (4,749 for 151,936 ids)
            words = np.frombuffer(probe.compute_bitmask(), dtype=np.int32)[: len(self._content_words)]
            if probe.is_error():
                raise _refusal(where, probe)
            content = np.flatnonzero(np.unpackbits((words & self._content_words).view(np.uint8), bitorder="little"))
            if not content.size:
                if not probe.is_accepting():
                    raise InvalidArgument(_dead_end(where))
                return
            probe.consume_token(int(content[0]))

    def _cached(self, key: Any, make: Callable[[], Any], where: str, *, text: bool = True) -> CompiledGrammar:
        """The compiled grammar for `key`, compiling it once even when several threads ask at the same time.
        `make` returns llguidance grammar text (compiled here for `where`), or with text=False the compiled grammar."""
        # Property order matters (the grammar writes properties in dict order), so the key keeps the schema's own
        # order rather than sort_keys: a client sends the same schema the same way every time.
        cache_key = _dumps(key)
        with self._lock:
            future = self._cache.get(cache_key)
            owner = future is None
            if owner:
                future = self._cache[cache_key] = Future()
                self._evict()
            else:
                self._cache.move_to_end(cache_key)
        assert future is not None
        if owner:
            started = time.perf_counter()
            try:
                compiled = self._compile(make(), where) if text else make()
            except Exception as exc:
                with self._lock:
                    if self._cache.get(cache_key) is future:
                        del self._cache[cache_key]
                future.set_exception(exc)
            else:
                with self._lock:
                    self.compiles += 1
                    self.compile_seconds += time.perf_counter() - started
                    if self._cache.get(cache_key) is future:
                        self._sizes[cache_key] = compiled.size_bytes
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


class GrammarLogitsProcessor(LogitsProcessor):
    """Masks every token the grammar does not allow next, for each row of one generate() call.

    Only generated tokens reach the matchers: the first call sees the prompt and records its length, every later
    call feeds the tokens appended since. A stop token is allowed only where the grammar is complete, and once a row
    has taken one, or generate() has put a token the mask did not allow there (the padding of a row that stopped
    another way: a stop sequence, a stopping criterion), the row is left alone."""

    def __init__(
        self,
        compiled: CompiledGrammar,
        batch_size: int,
        vocab_size: int,
        *,
        stop_token_ids: Sequence[int] = (),
        content_words: np.ndarray | None = None,
    ) -> None:
        self._where = compiled.where
        self._matchers = [compiled.matcher.deep_copy() for _ in range(batch_size)]
        self._bitmask = llg_numpy.allocate_token_bitmask(batch_size, vocab_size)
        self._vocab_size = vocab_size
        self._stops = frozenset(stop_token_ids)
        self._content = content_words if content_words is not None else _words_without(vocab_size, self._stops)
        self._seen: int | None = None  # length of input_ids at the previous call
        self._stopped = [False] * batch_size  # rows that took a stop token where the grammar was complete
        self._released = [False] * batch_size  # rows generate() extended with a token the grammar refused
        self._complete_when_released = [False] * batch_size

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[0] != len(self._matchers):
            raise ValueError(f"grammar processor made for {len(self._matchers)} rows got {input_ids.shape[0]}")
        if self._seen is not None:
            for row, tokens in enumerate(input_ids[:, self._seen :].tolist()):
                for token in tokens:
                    self._accept(row, token)
        self._seen = input_ids.shape[1]
        rows = [row for row in range(len(self._matchers)) if not (self._stopped[row] or self._released[row])]
        if not rows:
            return scores
        if len(rows) == 1:
            llg_numpy.fill_next_token_bitmask(self._matchers[rows[0]], self._bitmask, rows[0])
        else:  # llguidance computes the rows' masks on its own threads, without the GIL
            llg_numpy.fill_next_token_bitmask_par(_executor(), [(self._matchers[r], r) for r in rows], self._bitmask)
        words = self._bitmask[rows]
        for row in rows:
            if self._matchers[row].is_error():
                raise _refusal(self._where, self._matchers[row])
        # A row that may not go on and may not stop either: a schema no finite value matches slipped through (the
        # schema checks refuse the ones they can see). Sampling from all -inf fails with "probability tensor
        # contains inf/nan", and greedy decoding would write a token the grammar refuses: the request ends here.
        stuck = ~(words & self._content).any(axis=1)
        if any(stuck[i] and not self._matchers[row].is_accepting() for i, row in enumerate(rows)):
            raise InvalidArgument(_dead_end(self._where))
        blocked = _blocked(words, scores.shape[-1], scores.device)
        if len(rows) == scores.shape[0]:
            scores.masked_fill_(blocked, float("-inf"))
        else:
            index = torch.tensor(rows, device=scores.device)
            scores[index] = scores[index].masked_fill(blocked, float("-inf"))
        return scores

    def _accept(self, row: int, token: int) -> None:
        if self._stopped[row] or self._released[row]:
            return
        matcher = self._matchers[row]
        complete = matcher.is_accepting()
        if token in self._stops and complete:
            self._stopped[row] = True
            return
        if not matcher.consume_token(token):
            if matcher.stop_reason() in _TOO_COMPLEX:  # a limit reached while reading the token
                raise _refusal(self._where, matcher)
            self._released[row] = True
            self._complete_when_released[row] = complete

    @property
    def completed(self) -> list[bool]:
        """Per row: whether what was generated so far is a complete match (a reply cut by maxOutputTokens is not)."""
        return [
            self._stopped[row] or (self._complete_when_released[row] if self._released[row] else matcher.is_accepting())
            for row, matcher in enumerate(self._matchers)
        ]


# -- grammar text -------------------------------------------------------------------------------------------------


def json_grammar(schema: dict[str, Any]) -> str:
    """llguidance's grammar for a compact JSON value matching `schema`."""
    return llguidance.LLMatcher.grammar_from_json_schema(json_schema_text(schema))


def json_schema_text(schema: dict[str, Any]) -> str:
    """The schema as llguidance's JSON compiler reads it: in the strict form (constrain.schema.grammar_schema), with
    the writing options at its root (a client's own "x-guidance" options there are replaced: they could turn free
    whitespace or lenient keyword handling back on). Passed as text, so that numbers beyond 64 bits reach it as
    JSON numbers."""
    return json.dumps({**grammar_schema(schema), "x-guidance": JSON_OPTIONS}, ensure_ascii=True)


def enum_lark(values: Sequence[str]) -> str:
    """Exactly one of `values`, as a Lark grammar."""
    # One terminal: the lexer matches all values as one automaton, whereas as alternatives of a rule the parser would
    # track each of them (and refuse more than max_items_in_row).
    return "start: VALUE\nVALUE: " + " | ".join(_lark_string(v) for v in values)


def calls_lark(declarations: Sequence[FunctionDeclaration], open_tag: str, close_tag: str, *, parallel: bool) -> str:
    """One tagged call (or several, one per line, when `parallel`) and nothing else, as a Lark grammar."""
    start = 'start: call ("\\n" call)*' if parallel else "start: call"
    call = "call: " + " | ".join(f"fn_{i}" for i in range(len(declarations)))
    return "\n".join([start, call, *_call_rules(declarations, open_tag + "\n", close_tag)])


def validated_lark(declarations: Sequence[FunctionDeclaration], open_tag: str, close_tag: str) -> str:
    """Free text in which every `open_tag` starts a call that must be completed, as a Lark grammar."""
    # `opened` is lazy: it ends at the first open tag, so free text can never hold one that starts no call; and TEXT
    # after the last call ends the reply. Measured: "x <tool_call> y" is refused, "x <tool_cal y" is text.
    rules = [
        "start: (opened call)* TEXT",
        f"opened[lazy]: TEXT {_lark_string(open_tag)}",
        "call: " + " | ".join(f"fn_{i}" for i in range(len(declarations))),
        *_call_rules(declarations, "\n", close_tag),
        r"TEXT: /(.|\n)*/",
    ]
    return "\n".join(rules)


def _call_rules(declarations: Sequence[FunctionDeclaration], before: str, close_tag: str) -> list[str]:
    """Per declaration: `{before}{"name": "<name>", "arguments": ` + its arguments + `}\\n{close_tag}`, the name and
    the arguments written the way json.dumps writes them (the format the reply parser reads, core/reply_format.py).
    Run only on a cache miss: each converts a schema."""
    rules = []
    for i, decl in enumerate(declarations):
        head = f'{before}{{"name": {json.dumps(decl.name)}, "arguments": '
        tail = "}\n" + close_tag
        rules.append(f"fn_{i}: {_lark_string(head)} args_{i} {_lark_string(tail)}")
        rules.append(f"args_{i}: %json {json_schema_text(_arguments(decl))}")
    return rules


def _arguments(decl: FunctionDeclaration) -> dict[str, Any]:
    return decl.parameters if decl.parameters is not None else NO_ARGUMENTS


def _lark_string(text: str) -> str:
    # Lark string literals take JSON's escapes; ASCII-only keeps the grammar text free of anything a lexer could
    # read differently (non-ASCII characters arrive as \\u escapes, surrogate pairs included).
    return json.dumps(text, ensure_ascii=True)


# -- module helpers -----------------------------------------------------------------------------------------------


class _Vocabulary:
    """The vocabulary as llguidance's TokenizerWrapper reads it: every token's bytes, which of them are special, and
    the tokenizer itself for the text llguidance must tokenize (what a grammar forces is written in canonical tokens).

    llguidance's own reader of Hugging Face tokenizers (llguidance.hf.from_tokenizer) marks every added token as
    special, also the ones the tokenizer treats as text (Qwen's <tool_call>, <think>), while the tokenizer still
    produces them for that text: a grammar forcing "<tool_call>" then allows the token and fails on it ("doesn't
    satisfy the grammar"). Here only the tokenizer's special tokens are special; the others are their text, as they
    were to xgrammar, so <tool_call> is one token of a forced call and the text any other token writes. Special tokens
    are never text to a grammar (and skip_special_tokens drops them from the reply); stop tokens end it by id.

    Only fast (Rust-backed) tokenizers are read: the token bytes come from llguidance's reader. Reading 151,936 ids
    twice (its reader, then this wrapper) takes about 2 s, once per model."""

    def __init__(self, tokenizer: Any, vocab_size: int) -> None:
        try:
            reader = llguidance.hf.from_tokenizer(tokenizer)
        except ValueError as exc:  # a slow (pure Python) tokenizer, or a decoder llguidance cannot read
            message = f"Structured output and forced function calls need a fast tokenizer for this model: {exc}"
            raise Unavailable(message) from None
        size = max(vocab_size, reader.vocab_size)  # ids past the tokenizer's are empty: never allowed
        self.tokens = [reader.decode_bytes([i]) if i < reader.vocab_size else b"" for i in range(size)]
        special = set(getattr(tokenizer, "all_special_ids", ()))
        special.update(i for i, t in getattr(tokenizer, "added_tokens_decoder", {}).items() if getattr(t, "special", 0))
        self.special_token_ids = sorted(i for i in special if 0 <= i < size)
        self.eos_token_id = tokenizer.eos_token_id
        self.bos_token_id = None
        self._tokenizer = tokenizer

    def __call__(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise TypeError("text only")  # TokenizerWrapper probes with bytes and then passes str
        # split_special_tokens: "<|im_end|>" in forced text is that text, never the special token
        return list(self._tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"])


def _words_without(vocab_size: int, ids: Sequence[int] | frozenset[int]) -> np.ndarray:
    """A bitmask row (32 ids a word, as llguidance writes masks) allowing every id below vocab_size except `ids`."""
    bits = np.zeros(((vocab_size + 31) // 32) * 32, dtype=np.uint8)
    bits[:vocab_size] = 1
    bits[[i for i in ids if 0 <= i < vocab_size]] = 0
    return np.packbits(bits, bitorder="little").view(np.int32)


def _blocked(words: np.ndarray, width: int, device: torch.device) -> torch.Tensor:
    """The tokens a bitmask (32 ids a word, lowest bit first) does not allow, as a bool tensor on `device`, `width`
    wide (ids past the mask are blocked). On an accelerator the packed words travel and are unpacked there: 32 times
    less to copy than the unpacked mask (19 kB against 152 kB a row for 151,936 ids)."""
    if device.type == "cpu":
        return torch.from_numpy(np.unpackbits(words.view(np.uint8), axis=1, count=width, bitorder="little") == 0)
    packed = torch.from_numpy(words).to(device, non_blocking=True)
    bits = (packed.unsqueeze(-1) >> torch.arange(32, dtype=torch.int32, device=device)) & 1
    blocked = bits.flatten(1)[:, :width] == 0
    if blocked.shape[1] < width:
        blocked = torch.nn.functional.pad(blocked, (0, width - blocked.shape[1]), value=True)
    return blocked


@functools.cache
def _executor() -> llguidance.LLExecutor:
    return llguidance.LLExecutor()


def _refusal(where: str, matcher: llguidance.LLMatcher) -> InvalidArgument:
    """The 400 for a grammar llguidance refused or gave up on, with its reason."""
    error = matcher.get_error().strip()
    reason = error.splitlines()[0] if error else matcher.stop_reason()
    if matcher.stop_reason() in _TOO_COMPLEX or any(word in reason.lower() for word in _LIMIT_WORDS):
        return InvalidArgument(
            f"{where}: the schema is too complex to enforce ({reason}); make fewer properties optional in a row, use "
            "fewer anyOf branches or enum values, or lower length bounds"
        )
    if not error or _NO_WAY_ON & {reason, matcher.stop_reason()}:
        return InvalidArgument(_dead_end(where))  # nothing can follow what came so far, and it is not complete
    return InvalidArgument(f"{where}: the schema cannot be enforced: {reason}")


def _dead_end(where: str) -> str:
    return (
        f"{where}: the schema left no valid next token: no finite JSON value matches it. Simplify the schema (a "
        "required property that refers back to its own object never ends)."
    )


def _declarations_key(declarations: Sequence[FunctionDeclaration]) -> list[Any]:
    return [[d.name, d.parameters] for d in declarations]  # descriptions do not change the grammar


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
