"""Drive google-genai 2.34 (the last 2.x line, which talks /v1beta) against a genserve server.

Run with the old-SDK environment:  .venv-oldsdk/bin/python tests/contract/oldsdk/genai_v2.py http://127.0.0.1:PORT
Prints one JSON object: {"meta": {...}, "checks": {name: observed | {"error": ...}}, "paths": [...]}.
Every check is isolated, so one failure is reported by name instead of hiding the others.
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any

warnings.simplefilter("ignore")  # old SDKs warn about Python versions and deprecations; stdout must stay JSON

import httpx  # noqa: E402
from _checks import PATHS, check, enum_name, report  # noqa: E402  (this directory is sys.path[0])
from google import genai  # noqa: E402
from google.genai import errors, types  # noqa: E402

BASE = sys.argv[1].rstrip("/")


def _record(request: httpx.Request) -> None:
    query = request.url.query.decode() if isinstance(request.url.query, bytes) else str(request.url.query)
    PATHS.append(f"{request.method} {request.url.path}" + (f"?{query}" if query else ""))


async def _arecord(request: httpx.Request) -> None:
    _record(request)


def make_client(**extra: Any) -> genai.Client:
    http_options: dict[str, Any] = {
        "base_url": BASE,
        "client_args": {"event_hooks": {"request": [_record]}},
        "async_client_args": {"event_hooks": {"request": [_arecord]}},
        **extra,
    }
    return genai.Client(api_key="contract-test-key", http_options=http_options)


def error_info(exc: errors.APIError) -> dict[str, Any]:
    return {
        "raised": type(exc).__name__,
        "is_client_error": isinstance(exc, errors.ClientError),
        "is_server_error": isinstance(exc, errors.ServerError),
        "code": exc.code,
        "status": exc.status,
        "message": exc.message,
    }


client = make_client()
SYSTEM = "You are terse."
DEMO_CONFIG = types.GenerateContentConfig(max_output_tokens=5, temperature=0, system_instruction=SYSTEM)


@check("default_api_version")
def _default_api_version() -> Any:
    return {"api_version": client._api_client._http_options.api_version}


@check("generate_scripted")
def _generate_scripted() -> Any:
    r = client.models.generate_content(model="scripted", contents="hi")
    usage = r.usage_metadata
    return {
        "text": r.text,
        "finish_reason": enum_name(r.candidates[0].finish_reason),
        "role": r.candidates[0].content.role,
        "prompt_token_count": usage.prompt_token_count,
        "candidates_token_count": usage.candidates_token_count,
        "total_token_count": usage.total_token_count,
        "model_version": r.model_version,
        "response_id": r.response_id,
    }


@check("generate_demo")
def _generate_demo() -> Any:
    first = client.models.generate_content(model="gemini-2.0-flash", contents="Say something.", config=DEMO_CONFIG)
    second = client.models.generate_content(model="gemini-2.0-flash", contents="Say something.", config=DEMO_CONFIG)
    return {
        "text": first.text,
        "text_again": second.text,
        "finish_reason": enum_name(first.candidates[0].finish_reason),
        "candidates_token_count": first.usage_metadata.candidates_token_count,
        "prompt_token_count": first.usage_metadata.prompt_token_count,
    }


@check("stream_scripted")
def _stream_scripted() -> Any:
    chunks = list(client.models.generate_content_stream(model="scripted", contents="hi"))
    return {
        "chunks": len(chunks),
        "texts": [c.text for c in chunks],
        "joined": "".join(c.text or "" for c in chunks),
        "last_finish_reason": enum_name(chunks[-1].candidates[0].finish_reason) if chunks else None,
    }


@check("stream_fails")
def _stream_fails() -> Any:
    received: list[str] = []
    try:
        for chunk in client.models.generate_content_stream(model="scripted-fails", contents="hi"):
            received.append(chunk.text or "")
    except errors.APIError as exc:
        return {**error_info(exc), "received": received}
    return {"raised": None, "received": received}


@check("chat")
def _chat() -> Any:
    chat = client.chats.create(model="scripted")
    texts: list[str] = []
    history_lengths: list[int] = []
    for message in ("first", "second"):
        texts.append(chat.send_message(message).text)
        history_lengths.append(len(chat.get_history()))
    streamed = [c.text or "" for c in chat.send_message_stream("third")]
    texts.append("".join(streamed))
    history_lengths.append(len(chat.get_history()))
    texts.append(chat.send_message("fourth").text)
    history_lengths.append(len(chat.get_history()))
    history = chat.get_history()
    return {
        "texts": texts,
        "stream_chunks": len(streamed),
        "history_lengths": history_lengths,
        "roles": [c.role for c in history],
    }


@check("chat_demo")
def _chat_demo() -> Any:
    # the real model sees the growing multi-turn history (system instruction + alternating roles)
    chat = client.chats.create(model="gemini-2.0-flash", config=DEMO_CONFIG)
    first = chat.send_message("Hello there.")
    second = chat.send_message("And again.")
    return {
        "finish_reasons": [enum_name(r.candidates[0].finish_reason) for r in (first, second)],
        "prompt_token_counts": [r.usage_metadata.prompt_token_count for r in (first, second)],
        "history_length": len(chat.get_history(curated=False)),
    }


@check("count_tokens")
def _count_tokens() -> Any:
    counted = client.models.count_tokens(model="gemini-2.0-flash", contents="The quick brown fox jumps.")
    generated = client.models.generate_content(
        model="gemini-2.0-flash", contents="The quick brown fox jumps.", config={"max_output_tokens": 1}
    )
    return {
        "total_tokens": counted.total_tokens,
        "generate_prompt_token_count": generated.usage_metadata.prompt_token_count,
    }


@check("embed")
def _embed() -> Any:
    r = client.models.embed_content(
        model="gemini-embedding-001",
        contents=["hello world", "goodbye world"],
        config=types.EmbedContentConfig(output_dimensionality=8),
    )
    vectors = [e.values for e in r.embeddings]
    return {
        "count": len(vectors),
        "dims": [len(v) for v in vectors],
        "norms": [math.sqrt(sum(x * x for x in v)) for v in vectors],
        "distinct": vectors[0] != vectors[1],
    }


@check("embed_single")
def _embed_single() -> Any:
    r = client.models.embed_content(model="text-embedding-004", contents="hello world")
    return {"count": len(r.embeddings), "dims": [len(e.values) for e in r.embeddings]}


@check("models_list")
def _models_list() -> Any:
    names = [m.name for m in client.models.list(config={"page_size": 2})]  # small pages: the pager must follow tokens
    return {"names": names, "unique": len(names) == len(set(names))}


@check("models_get")
def _models_get() -> Any:
    m = client.models.get(model="gemini-2.0-flash")
    return {
        "name": m.name,
        "input_token_limit": m.input_token_limit,
        "output_token_limit": m.output_token_limit,
        "supported_actions": m.supported_actions,
    }


@check("unknown_model")
def _unknown_model() -> Any:
    try:
        client.models.generate_content(model="no-such-model", contents="hi")
    except errors.APIError as exc:
        return error_info(exc)
    return {"raised": None}


@check("max_output_tokens_zero")
def _max_output_tokens_zero() -> Any:
    try:
        client.models.generate_content(model="gemini-2.0-flash", contents="hi", config={"max_output_tokens": 0})
    except errors.APIError as exc:
        return error_info(exc)
    return {"raised": None}


@check("async_generate")
async def _async_generate() -> Any:
    aclient = make_client()
    r = await aclient.aio.models.generate_content(model="scripted", contents="hi")
    chunks = [
        c.text or "" async for c in await aclient.aio.models.generate_content_stream(model="scripted", contents="hi")
    ]
    return {"text": r.text, "finish_reason": enum_name(r.candidates[0].finish_reason), "stream_joined": "".join(chunks)}


@check("v1alpha")
def _v1alpha() -> Any:
    alpha = make_client(api_version="v1alpha")
    r = alpha.models.generate_content(model="scripted", contents="hi")
    return {"text": r.text}


print(report("google-genai", genai.__version__))
