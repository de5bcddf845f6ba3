"""Drive the legacy google-generativeai 0.8.6 SDK (REST transport) against a genserve server.

Run with the old-SDK environment:
    .venv-oldsdk/bin/python tests/contract/oldsdk/generativeai_legacy.py http://127.0.0.1:PORT
Prints one JSON object: {"meta": {...}, "checks": {name: observed | {"error": ...}}, "paths": [...]}.
The legacy REST transport speaks protobuf-JSON: enums go out as integers and streaming uses
`?$alt=json;enum-encoding=int` (one JSON array, read incrementally) rather than SSE.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

warnings.simplefilter("ignore")  # the package announces its end of support on import; stdout must stay JSON

import google.generativeai as genai  # noqa: E402
import requests  # noqa: E402
from _checks import BODIES, PATHS, check, enum_name, report  # noqa: E402  (this directory is sys.path[0])
from google.api_core import exceptions as core_exceptions  # noqa: E402
from google.generativeai.types import HarmBlockThreshold, HarmCategory  # noqa: E402

BASE = sys.argv[1].rstrip("/")

_original_request = requests.Session.request


def _recording_request(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(kwargs.get("params") or {})) if q)
    PATHS.append(f"{method.upper()} {parts.path}" + (f"?{unquote(query)}" if query else ""))
    body = kwargs.get("data")
    if body:
        try:
            BODIES.append(json.loads(body))
        except (TypeError, ValueError):
            BODIES.append(None)
    else:
        BODIES.append(None)
    return _original_request(self, method, url, *args, **kwargs)


requests.Session.request = _recording_request  # type: ignore[method-assign]

genai.configure(api_key="contract-test-key", transport="rest", client_options={"api_endpoint": BASE})


def error_info(exc: Exception) -> dict[str, Any]:
    return {
        "raised": type(exc).__name__,
        "is_not_found": isinstance(exc, core_exceptions.NotFound),
        "is_bad_request": isinstance(exc, core_exceptions.BadRequest),
        "is_server_error": isinstance(exc, core_exceptions.ServerError),
        "code": getattr(exc, "code", None),
        "message": str(exc)[:500],
    }


DEMO_CONFIG = {"max_output_tokens": 5, "temperature": 0}


@check("generate_demo")
def _generate_demo() -> Any:
    model = genai.GenerativeModel("gemini-2.0-flash")
    first = model.generate_content("hi", generation_config=DEMO_CONFIG)
    second = model.generate_content("hi", generation_config=DEMO_CONFIG)
    candidate = first.candidates[0]
    return {
        "text": first.text,
        "text_again": second.text,
        "finish_reason": enum_name(candidate.finish_reason),
        "finish_reason_int": int(candidate.finish_reason),
        "candidates_token_count": first.usage_metadata.candidates_token_count,
        "prompt_token_count": first.usage_metadata.prompt_token_count,
    }


@check("generate_system_instruction")
def _generate_system_instruction() -> Any:
    model = genai.GenerativeModel("gemini-2.5-flash", system_instruction="You are terse.")
    r = model.generate_content("hi", generation_config={"max_output_tokens": 3, "temperature": 0})
    return {
        "finish_reason": enum_name(r.candidates[0].finish_reason),
        "prompt_token_count": r.usage_metadata.prompt_token_count,
    }


@check("generate_scripted")
def _generate_scripted() -> Any:
    r = genai.GenerativeModel("scripted").generate_content("hi")
    return {"text": r.text, "finish_reason": enum_name(r.candidates[0].finish_reason)}


@check("stream_scripted")
def _stream_scripted() -> Any:
    response = genai.GenerativeModel("scripted").generate_content("hi", stream=True)
    texts = [chunk.text for chunk in response]
    return {
        "chunks": len(texts),
        "texts": texts,
        "joined": "".join(texts),
        "resolved_text": response.text,  # the SDK merges the chunks into one response
        "finish_reason": enum_name(response.candidates[0].finish_reason),
    }


@check("stream_demo")
def _stream_demo() -> Any:
    response = genai.GenerativeModel("gemini-2.0-flash").generate_content(
        "hi", generation_config=DEMO_CONFIG, stream=True
    )
    chunks = list(response)
    return {
        "chunks": len(chunks),
        "finish_reason": enum_name(response.candidates[0].finish_reason),
        "candidates_token_count": response.usage_metadata.candidates_token_count,
    }


@check("stream_fails")
def _stream_fails() -> Any:
    # api_core's REST stream parser reads each array element with ignore_unknown_fields=True, so the
    # server's mid-stream {"error": {...}} element arrives as a chunk with no candidates; the SDK then
    # refuses `.text` on it (ValueError). What matters: the failure is visible and the stream stops.
    chunks: list[dict[str, Any]] = []
    try:
        for chunk in genai.GenerativeModel("scripted-fails").generate_content("hi", stream=True):
            entry: dict[str, Any] = {"candidates": len(chunk.candidates)}
            try:
                entry["text"] = chunk.text
            except ValueError as exc:
                entry["text_error"] = f"{type(exc).__name__}: {exc}"
            chunks.append(entry)
    except Exception as exc:
        return {**error_info(exc), "chunks": chunks}
    return {"raised": None, "chunks": chunks}


@check("chat")
def _chat() -> Any:
    chat = genai.GenerativeModel("scripted").start_chat()
    texts: list[str] = []
    history_lengths: list[int] = []
    for message in ("first", "second"):
        texts.append(chat.send_message(message).text)
        history_lengths.append(len(chat.history))
    streamed = chat.send_message("third", stream=True)
    texts.append("".join(chunk.text for chunk in streamed))
    history_lengths.append(len(chat.history))
    return {"texts": texts, "history_lengths": history_lengths, "roles": [c.role for c in chat.history]}


@check("count_tokens")
def _count_tokens() -> Any:
    model = genai.GenerativeModel("gemini-2.0-flash")
    counted = model.count_tokens("The quick brown fox jumps.")
    generated = model.generate_content("The quick brown fox jumps.", generation_config={"max_output_tokens": 1})
    return {
        "total_tokens": counted.total_tokens,
        "generate_prompt_token_count": generated.usage_metadata.prompt_token_count,
    }


def _norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


@check("embed_single")
def _embed_single() -> Any:
    r = genai.embed_content(model="models/text-embedding-004", content="hello")
    vector = r["embedding"]
    return {"dim": len(vector), "norm": _norm(vector)}


@check("embed_batch")
def _embed_batch() -> Any:
    r = genai.embed_content(model="models/text-embedding-004", content=["hello", "goodbye"])
    vectors = r["embedding"]
    return {"count": len(vectors), "dims": [len(v) for v in vectors], "norms": [_norm(v) for v in vectors]}


@check("embed_task_type_dimensionality")
def _embed_task_type_dimensionality() -> Any:
    # task_type travels as an enum (an integer on this transport); output_dimensionality truncates
    r = genai.embed_content(
        model="models/embedding-001", content="hello", task_type="retrieval_query", output_dimensionality=8
    )
    vector = r["embedding"]
    return {"dim": len(vector), "norm": _norm(vector)}


@check("list_models")
def _list_models() -> Any:
    models = list(genai.list_models(page_size=4))  # small pages: the SDK must follow nextPageToken
    names = [m.name for m in models]
    return {"names": names, "unique": len(names) == len(set(names))}


@check("get_model")
def _get_model() -> Any:
    m = genai.get_model("models/gemini-2.0-flash")
    return {
        "name": m.name,
        "input_token_limit": m.input_token_limit,
        "output_token_limit": m.output_token_limit,
        "supported_generation_methods": list(m.supported_generation_methods),
    }


@check("safety_settings_enums")
def _safety_settings_enums() -> Any:
    model = genai.GenerativeModel(
        "scripted",
        safety_settings={
            HarmCategory.HARM_CATEGORY_HARASSMENT: HarmBlockThreshold.BLOCK_NONE,
            HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT: HarmBlockThreshold.BLOCK_ONLY_HIGH,
        },
    )
    r = model.generate_content("hi")
    return {"text": r.text}


@check("unknown_model")
def _unknown_model() -> Any:
    try:
        genai.GenerativeModel("no-such-model").generate_content("hi")
    except Exception as exc:
        return error_info(exc)
    return {"raised": None}


@check("max_output_tokens_zero")
def _max_output_tokens_zero() -> Any:
    try:
        genai.GenerativeModel("gemini-2.0-flash").generate_content("hi", generation_config={"max_output_tokens": 0})
    except Exception as exc:
        return error_info(exc)
    return {"raised": None}


print(report("google-generativeai", genai.__version__))
