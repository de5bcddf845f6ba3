"""Server subprocesses and streaming HTTP load for the text-serving benchmark.

Each server starts on 127.0.0.1 on a free port and is polled on /health until it answers; text_serving.py then sends it
one warm-up request and closed-loop levels (CONCURRENCY workers, each sending ROUNDS requests back to back),
interleaved with the other contenders, and stops it at the end. Its peak RSS
is the kernel's high-water mark (VmHWM in /proc/PID/status), read just before it is stopped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _build import SAMPLING


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_hwm_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 600.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not answer /health within {timeout:.0f} s; see {self.log_path}")

    def peak_rss(self) -> int | None:
        return vm_hwm_bytes(self.proc.pid) if self.proc else None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def genserve_server(catalog: Path | None, data_dir: Path, log_path: Path) -> Server:
    """`genserve serve --config CATALOG`; with no catalog, the default catalog (no model options at all)."""
    port = free_port()
    argv = [sys.executable, "-m", "genserve.cli.main", "serve"]
    argv += ["--config", str(catalog)] if catalog is not None else []
    argv += ["--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
    server = Server("genserve", argv, _env(), log_path)
    server.port = port
    return server


def transformers_server(model_dir: Path, log_path: Path, cb: dict[str, int], dtype: str = "bfloat16") -> Server:
    port = free_port()
    exe = Path(sys.executable).parent / "transformers"
    argv = [str(exe), "serve", str(model_dir), "--device", "cpu", "--dtype", dtype]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--continuous-batching", "--no-cb-use-cuda-graph"]
    argv += ["--cb-block-size", str(cb["page_size"]), "--cb-num-blocks", str(cb["num_blocks"])]
    argv += ["--cb-max-batch-tokens", str(cb["max_batch_tokens"])]
    env = _env()
    env["HF_HUB_OFFLINE"] = "1"
    server = Server("transformers serve", argv, env, log_path)
    server.port = port
    return server


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


# -- clients: one streamed request, timed --------------------------------------------------------------------------


async def _sse_events(response: httpx.Response):
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                yield json.loads(data)


async def gemini_request(
    client: httpx.AsyncClient, base: str, model: str, prompt: str, max_tokens: int, seed: int | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "maxOutputTokens": max_tokens,
        "temperature": SAMPLING["temperature"],
        "topK": SAMPLING["top_k"],
        "topP": SAMPLING["top_p"],
    }
    if seed is not None:
        config["seed"] = seed
    body = {"contents": [{"role": "user", "parts": [{"text": prompt}]}], "generationConfig": config}
    url = f"{base}/v1beta/models/{model}:streamGenerateContent?alt=sse"
    times: list[float] = []
    tokens, finish = None, None
    t_send = time.perf_counter()
    async with client.stream("POST", url, json=body, headers={"x-goog-api-key": "bench"}) as response:
        if response.status_code != 200:
            raise RuntimeError(f"genserve answered {response.status_code}: {(await response.aread())[:500]!r}")
        async for event in _sse_events(response):
            now = time.perf_counter()
            candidate = (event.get("candidates") or [{}])[0]
            text = "".join(p.get("text", "") for p in (candidate.get("content") or {}).get("parts", []))
            if text:
                times.append(now)
            if candidate.get("finishReason"):
                finish = candidate["finishReason"]
            usage = event.get("usageMetadata") or {}
            if "candidatesTokenCount" in usage:
                tokens = usage["candidatesTokenCount"]
    return _record(t_send, times, time.perf_counter(), tokens, finish)


async def openai_request(
    client: httpx.AsyncClient, base: str, model: str, prompt: str, max_tokens: int
) -> dict[str, Any]:
    # top_k is not a Chat Completions field: transformers serve takes it from the model's generation_config.json,
    # which the benchmark wrote with the same value.
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
        "max_tokens": max_tokens,
        "temperature": SAMPLING["temperature"],
        "top_p": SAMPLING["top_p"],
    }
    times: list[float] = []
    tokens, finish = None, None
    t_send = time.perf_counter()
    async with client.stream("POST", f"{base}/v1/chat/completions", json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(
                f"transformers serve answered {response.status_code}: {(await response.aread())[:500]!r}"
            )
        async for event in _sse_events(response):
            now = time.perf_counter()
            if "error" in event:
                raise RuntimeError(f"transformers serve stream error: {event['error']}")
            choice = (event.get("choices") or [{}])[0]
            delta = choice.get("delta") or {}
            # transformers 5.24 `serve` streams a Qwen2-type model's output as `reasoning_content` (its Qwen
            # response parser waits for a </think> that never comes), after one `content` chunk that echoes the
            # rendered prompt before any token is generated: that echo is not a token.
            text = (delta.get("content") or "") + (delta.get("reasoning_content") or "")
            if text and not text.startswith("<|im_start|>"):
                times.append(now)
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
            if event.get("usage"):
                tokens = event["usage"].get("completion_tokens")
    return _record(t_send, times, time.perf_counter(), tokens, finish)


def _record(t_send, times, t_done, tokens, finish) -> dict[str, Any]:
    return {
        "t_send": t_send,
        "t_first": times[0] if times else None,
        "t_last": times[-1] if times else None,
        "chunks": len(times),
        "t_done": t_done,
        "tokens": tokens if tokens is not None else 0,
        "finish": finish,
    }


async def level(one, concurrency: int, rounds: int) -> list[dict]:
    """`one(client)` is one timed request: CONCURRENCY workers each send ROUNDS of them back to back."""
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(timeout=httpx.Timeout(None), limits=limits) as client:

        async def worker() -> list[dict]:
            return [await one(client) for _ in range(rounds)]

        results = await asyncio.gather(*(worker() for _ in range(concurrency)))
        return [r for rs in results for r in rs]
