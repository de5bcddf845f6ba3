"""Text-serving benchmark: genserve vs. the engine it wraps, vs. `transformers serve`, vs. llama.cpp, on one machine.

    .venv/bin/python benchmarks/text_serving.py            # full: random Qwen2.5-0.5B, concurrency 1, 4, 8, 16
    .venv/bin/python benchmarks/text_serving.py --quick    # smoke test: genserve's tiny demo model, concurrency 1, 4

Everything runs one after the other (never two loads at once), in one run, and ends in one Markdown table plus the
targets with PASS/FAIL. See benchmarks/README.md for what each row measures and the latest results."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _build  # noqa: E402
import _http  # noqa: E402

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."
CB = {"page_size": 256, "num_blocks": 128, "max_batch_tokens": 512}  # genserve's defaults; given to both servers


def log(msg: str) -> None:
    print(msg, flush=True)


# -- measurements ---------------------------------------------------------------------------------------------------


def memory_bandwidth(gib: float = 1.0, repeats: int = 5) -> dict[str, float]:
    """Read bandwidth: torch `sum` over a `gib` GiB float32 tensor with torch's thread count (what the servers use),
    best of `repeats`. A decode step reads every weight once and writes almost nothing, so a read-only stream is its
    bound. Also, for reference, a `copy_` (bytes read + written; on this VM it swung 36–67 GB/s between runs) and a
    bf16 GEMV streaming through `gib` GiB of weight matrices (what torch's own decode kernels reach)."""
    import torch

    n = int(gib * 2**30)
    buffers = [torch.ones(n // 4, dtype=torch.float32), torch.empty(n // 4, dtype=torch.float32)]

    def read() -> None:
        buffers[0].sum()

    def copy() -> None:
        buffers[1].copy_(buffers[0])

    read()
    copy()
    read_gbs = n / min(_timed(read) for _ in range(repeats)) / 1e9
    copy_gbs = 2 * n / min(_timed(copy) for _ in range(repeats)) / 1e9
    buffers.clear()
    rows, cols = 4864, 896
    count = max(1, n // (rows * cols * 2))
    weights = [torch.randn(rows, cols).to(torch.bfloat16) for _ in range(count)]
    x = torch.randn(1, cols).to(torch.bfloat16)

    def gemv() -> None:
        for w in weights:
            torch.nn.functional.linear(x, w)

    gemv()
    gemv_gbs = count * rows * cols * 2 / min(_timed(gemv) for _ in range(repeats)) / 1e9
    weights.clear()
    return {
        "read_gbs": read_gbs,
        "copy_gbs": copy_gbs,
        "gemv_bf16_gbs": gemv_gbs,
        "threads": torch.get_num_threads(),
        "gib": gib,
    }


def matmul_probe(repeats: int = 5) -> dict[str, dict[int, float]]:
    """Milliseconds for one 4864x896 linear layer (a Qwen2.5-0.5B MLP matrix) with 1, 8 and 16 rows, in bf16 and
    fp32. Decoding 8 streams at once multiplies the rows by 8: batching pays only where that costs far less than 8x
    (on CPUs without native bf16 arithmetic, bf16 matmuls are computed, not memory-bound, and it does not)."""
    import torch

    out: dict[str, dict[int, float]] = {}
    for dtype in (torch.bfloat16, torch.float32):
        weights = [torch.randn(4864, 896).to(dtype) for _ in range(16)]
        out[str(dtype).removeprefix("torch.")] = cost = {}
        for rows in (1, 8, 16):
            x = torch.randn(rows, 896).to(dtype)

            def layer(x=x, weights=weights) -> None:
                for w in weights:
                    torch.nn.functional.linear(x, w)

            layer()
            cost[rows] = min(_timed(layer) for _ in range(repeats)) / len(weights) * 1000
    return out


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_direct(mode: str, model: Path, levels: list[tuple[int, int]], args, scratch: Path, hf_dir: Path) -> dict:
    out = scratch / f"direct-{mode}-{model.name}.json"
    argv = [sys.executable, str(HERE / "_direct.py"), mode, "--model", str(model), "--prompt", args.prompt]
    argv += ["--max-tokens", str(args.max_tokens), "--hf-dir", str(hf_dir), "--out", str(out)]
    argv += ["--levels", ",".join(f"{c}:{r}" for c, r in levels), "--dtype", args.dtype]
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        reason = f"exit code {proc.returncode}" + (f" (signal {-proc.returncode})" if proc.returncode < 0 else "")
        raise RuntimeError(f"{reason}: {' | '.join(tail)}")
    return json.loads(out.read_text())


def run_server(server: _http.Server, one, levels: list[tuple[int, int]]) -> dict:
    t0 = time.perf_counter()
    server.start()
    log(f"    up in {time.perf_counter() - t0:.1f} s on port {server.port}")
    try:
        runs = asyncio.run(_http.closed_loop(one, levels))
        return {"runs": runs, "peak_rss_bytes": server.peak_rss()}
    finally:
        server.stop()


# -- statistics -----------------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    pos = (len(values) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def stats(requests: list[dict], max_tokens: int) -> dict[str, Any]:
    wall = max(r["t_done"] for r in requests) - min(r["t_send"] for r in requests)
    tokens = sum(r["tokens"] for r in requests)
    ttft = [r["t_first"] - r["t_send"] for r in requests if r["t_first"] is not None]
    # Per request: the mean gap between tokens after the first (chunks may carry several tokens, so gaps between
    # chunks are not per-token latencies; the span from first to last token divided by the tokens in it is).
    # A stream that delivered its text in far fewer chunks than tokens was buffered somewhere: its span says
    # nothing about decode speed, so it is left out (and counted in the notes).
    bunched = [r for r in requests if r["tokens"] > 8 and r.get("chunks", r["tokens"]) < r["tokens"] / 4]
    itl = [
        (r["t_last"] - r["t_first"]) / (r["tokens"] - 1)
        for r in requests
        if r["t_first"] is not None and r["tokens"] > 1 and r["t_last"] > r["t_first"] and r not in bunched
    ]
    per_request = [r["tokens"] / (r["t_done"] - r["t_send"]) for r in requests]
    return {
        "requests": len(requests),
        "tokens": tokens,
        "short": sum(1 for r in requests if r["tokens"] < max_tokens),
        "bunched": len(bunched),
        "aggregate_tps": tokens / wall,
        "request_tps": statistics.mean(per_request),
        "decode_tps": 1 / pct(itl, 0.5) if itl else None,
        "ttft_p50": pct(ttft, 0.5),
        "ttft_p95": pct(ttft, 0.95),
        "itl_p50": pct(itl, 0.5),
        "finishes": sorted({str(r["finish"]) for r in requests}),
    }


@dataclass
class Row:
    system: str
    key: str
    concurrency: int | None = None
    stats: dict[str, Any] | None = None
    peak_rss: int | None = None
    weight_bytes: int | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# -- the run --------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny demo model, concurrency 1 and 4 (about a minute)")
    parser.add_argument("--max-tokens", type=int, default=64, help="output tokens per request (default 64)")
    parser.add_argument("--concurrency", help="comma-separated levels (default 1,4,8,16; quick: 1,4)")
    parser.add_argument("--rounds", type=int, default=2, help="requests per worker at concurrency > 1 (default 2)")
    parser.add_argument("--single-rounds", type=int, default=3, help="requests at concurrency 1 (default 3)")
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--cache", type=Path, default=HERE / ".cache", help="where built models are kept")
    parser.add_argument(
        "--skip", default="", help="comma-separated row groups to skip: direct,engine,cb,genserve,seed,tserve,llamacpp"
    )
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument(
        "--dtype",
        default="bfloat16",
        choices=["bfloat16", "float32"],
        help="dtype the transformers rows load the model in (default bfloat16)",
    )
    args = parser.parse_args()
    skip = {s for s in args.skip.split(",") if s}
    levels_c = [int(c) for c in (args.concurrency or ("1,4" if args.quick else "1,4,8,16")).split(",")]
    levels = [(c, args.single_rounds if c == 1 else args.rounds) for c in levels_c]
    single = [(1, args.single_rounds)]

    started = dt.datetime.now()
    info = machine_info()
    log(f"genserve text-serving benchmark, {'quick' if args.quick else 'full'} mode, {started:%Y-%m-%d %H:%M}")
    log(f"machine: {info['cpu']} ({info['simd']}), {info['cores']} cores, {info['mem_gib']:.0f} GiB RAM")
    log(f"load average: {info['load']}")
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        log("WARNING: other processes are using the CPU; every number below will be noisy")

    models = _build.ensure_models(args.cache, args.quick, log=log)
    hf_dir: Path = models["hf_dir"].resolve()
    hf_bytes = _build.hf_weight_bytes(hf_dir, args.dtype)
    log(f"model: {hf_dir} ({hf_bytes / 1e9:.3f} GB of {args.dtype} weights)")

    log("memory bandwidth ...")
    bw_start = memory_bandwidth()
    probe = matmul_probe()
    info["matmul"] = probe
    for name, cost in probe.items():
        log(
            f"    {name} 4864x896 linear: "
            + ", ".join(f"{r} rows {ms:.2f} ms ({ms / cost[1]:.1f}x)" for r, ms in cost.items())
        )
    log(
        f"    read {bw_start['read_gbs']:.1f} GB/s, copy {bw_start['copy_gbs']:.1f} GB/s, "
        f"bf16 GEMV {bw_start['gemv_bf16_gbs']:.1f} GB/s "
        f"({bw_start['threads']} threads)"
    )

    rows: list[Row] = []
    scratch = Path(tempfile.mkdtemp(prefix="genserve-bench-"))
    logs_dir = args.cache / "logs"

    def phase(system: str, key: str, fn, weight_bytes: int | None, note: str = "") -> None:
        if key in skip:
            return
        log(f"{system} ...")
        t0 = time.perf_counter()
        try:
            result = fn()
        except Exception as exc:  # one failing system must not lose the others' rows
            log(f"    FAILED: {exc}")
            if os.environ.get("BENCH_DEBUG"):
                traceback.print_exc()
            rows.append(Row(system, key, note=f"failed: {exc}"[:300]))
            return
        for run in result["runs"]:
            s = stats(run["requests"], args.max_tokens)
            rows.append(Row(system, key, run["concurrency"], s, result.get("peak_rss_bytes"), weight_bytes, note))
            log(
                f"    c={run['concurrency']:>2}: {s['aggregate_tps']:6.1f} tok/s aggregate, TTFT p50 "
                f"{_ms(s['ttft_p50'])} ms, ITL p50 {_ms(s['itl_p50'])} ms, {s['short']} short"
            )
        log(f"    ({time.perf_counter() - t0:.0f} s)")

    # 1. In-process references.
    phase(
        "transformers `generate()`, in-process",
        "direct",
        lambda: run_direct("generate", hf_dir, single, args, scratch, hf_dir),
        hf_bytes,
    )
    phase(
        "transformers CB manager (its own sampling), in-process",
        "cb",
        lambda: run_direct("cb", hf_dir, levels, args, scratch, hf_dir),
        hf_bytes,
    )
    engine_levels = [lv for lv in levels if lv[0] in (1, max(c for c, _ in levels) if args.quick else 8)]
    phase(
        "genserve engine (transformers, CB), in-process",
        "engine",
        lambda: run_direct("engine", hf_dir, engine_levels, args, scratch, hf_dir),
        hf_bytes,
    )

    # 2. genserve over HTTP: continuous batching, then the generate() path (a seed keeps a request off the batcher).
    catalog = scratch / "genserve-transformers.toml"
    catalog.write_text(
        '[[models]]\nname = "bench"\nengine = "transformers"\n'
        f'path = "{hf_dir}"\noutput_token_limit = 4096\noptions = {{ dtype = "{args.dtype}" }}\n'
    )
    gen_rss: dict[str, Any] = {}

    def genserve_cb() -> dict:
        server = _http.genserve_server(catalog, scratch / "data-tf", logs_dir / "genserve-transformers.log")

        def one(client):
            return _http.gemini_request(client, server.base, "bench", args.prompt, args.max_tokens)

        def one_seeded(client):
            return _http.gemini_request(client, server.base, "bench", args.prompt, args.max_tokens, seed=1)

        server.start()
        log(f"    up on port {server.port}")
        try:
            runs = asyncio.run(_http.closed_loop(one, levels))
            gen_rss["seed_runs"] = None if "seed" in skip else asyncio.run(_http.closed_loop(one_seeded, single))
            return {"runs": runs, "peak_rss_bytes": server.peak_rss()}
        finally:
            server.stop()

    phase("**genserve** (transformers, CB), HTTP streaming", "genserve", genserve_cb, hf_bytes)
    if gen_rss.get("seed_runs"):
        phase(
            "genserve (transformers, `generate()` path: request with a seed), HTTP",
            "seed",
            lambda: {"runs": gen_rss["seed_runs"], "peak_rss_bytes": None},
            hf_bytes,
            "same server as above",
        )

    # 3. transformers serve --continuous-batching, same model, prompt, lengths and CB sizes.
    def tserve() -> dict:
        server = _http.transformers_server(hf_dir, logs_dir / "transformers-serve.log", CB, args.dtype)
        return run_server(
            server,
            lambda client: _http.openai_request(client, server.base, str(hf_dir), args.prompt, args.max_tokens),
            levels,
        )

    phase("`transformers serve --continuous-batching`", "tserve", tserve, hf_bytes)

    # 4. llama.cpp: in-process and behind genserve, single stream.
    llama_reason = llamacpp_unavailable()
    for dtype, label in (("bf16", "bf16"), ("q8_0", "Q8_0")):
        gguf = models["gguf"].get(dtype)
        reason = llama_reason or (gguf if isinstance(gguf, str) else None)
        if "llamacpp" in skip:
            continue
        if reason:
            rows.append(Row(f"llama.cpp {label}", "llamacpp", note=f"not available: {reason}"))
            continue
        gguf = Path(gguf).resolve()
        gguf_bytes = _build.gguf_weight_bytes(gguf)
        phase(
            f"llama.cpp {label} GGUF, in-process",
            "llamacpp",
            lambda g=gguf: run_direct("llamacpp", g, single, args, scratch, hf_dir),
            gguf_bytes,
        )

        def genserve_llama(g=gguf, d=dtype) -> dict:
            cat = scratch / f"genserve-llamacpp-{d}.toml"
            cat.write_text(
                f'[[models]]\nname = "bench"\nengine = "llamacpp"\npath = "{g}"\noutput_token_limit = 4096\n'
            )
            server = _http.genserve_server(cat, scratch / f"data-{d}", logs_dir / f"genserve-llamacpp-{d}.log")
            return run_server(
                server,
                lambda client: _http.gemini_request(client, server.base, "bench", args.prompt, args.max_tokens),
                single,
            )

        phase(f"genserve (llama.cpp {label}), HTTP streaming", "llamacpp", genserve_llama, gguf_bytes)

    log("memory bandwidth again ...")
    bw_end = memory_bandwidth()
    log(
        f"    read {bw_end['read_gbs']:.1f} GB/s, copy {bw_end['copy_gbs']:.1f} GB/s, "
        f"bf16 GEMV {bw_end['gemv_bf16_gbs']:.1f} GB/s"
    )
    bandwidth = (bw_start["read_gbs"] + bw_end["read_gbs"]) / 2
    info["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    shutil.rmtree(scratch, ignore_errors=True)

    report = render(rows, args, info, bw_start, bw_end, bandwidth, hf_dir, hf_bytes, started)
    print()
    print(report, flush=True)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "started": started.isoformat(),
                    "machine": info,
                    "bandwidth": [bw_start, bw_end],
                    "rows": [row.__dict__ for row in rows],
                },
                indent=1,
                default=str,
            )
        )
    return 0


def llamacpp_unavailable() -> str | None:
    try:
        import llama_cpp  # noqa: F401
    except Exception as exc:
        return f"llama_cpp does not import ({type(exc).__name__}: {exc})"
    try:
        import genserve.engines.llamacpp  # noqa: F401
    except Exception as exc:
        return f"genserve's llama.cpp engine does not import ({type(exc).__name__}: {exc})"
    return None


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for name in ("torch", "transformers", "llama_cpp"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:
            versions[name] = "not installed"
    flags: set[str] = set()
    try:
        flags = set(
            next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
            .split(":", 1)[1]
            .split()
        )
    except (OSError, StopIteration):
        pass
    simd = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    missing = [f for f in ("avx512_bf16", "amx_bf16") if f not in flags]
    return {
        "simd": " ".join(simd) + (f"; no {', '.join(missing)}" if missing else ""),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gib": mem,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        **versions,
    }


# -- report -----------------------------------------------------------------------------------------------------------


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:.1f}" if seconds < 0.01 else f"{seconds * 1000:.0f}"


def _f(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _find(rows: list[Row], key: str, concurrency: int) -> Row | None:
    return next((r for r in rows if r.key == key and r.concurrency == concurrency and r.stats), None)


def render(rows, args, info, bw_start, bw_end, bandwidth, hf_dir, hf_bytes, started) -> str:
    out: list[str] = []
    mode = ("quick (genserve's tiny demo model" if args.quick else "full (random Qwen2.5-0.5B architecture") + (
        f", transformers rows in {args.dtype})"
    )
    cmd = " ".join([".venv/bin/python benchmarks/text_serving.py", *sys.argv[1:]])
    out.append(f"### Text serving, {started:%Y-%m-%d} — {mode}")
    out.append("")
    out.append(
        f"Command: `{cmd}`; {args.max_tokens} output tokens per request, prompt of "
        f"{len(args.prompt)} characters in the ChatML template, sampling temperature 1.0 / top-k 64 / "
        "top-p 0.95 everywhere; closed loop: at concurrency C, C clients each send "
        f"{args.rounds} requests back to back ({args.single_rounds} at C = 1) after one warm-up request."
    )
    out.append("")
    out.append(
        f"Machine: {info['cpu']} ({info['simd']}), **{info['cores']} cores**, {info['mem_gib']:.0f} GiB RAM; Python "
        f"{info['python']}, torch {info['torch']}, transformers {info['transformers']}, llama-cpp-python "
        f"{info['llama_cpp']}. Load average before / after: {info['load']} / {info.get('load_end', '?')}."
    )
    if float(info["load"].split()[0]) > 0.5 * (info["cores"] or 1):
        out.append(
            f"**Warning**: the load average was {info['load']} at the start: other processes competed for the "
            "cores, so these numbers are noisy."
        )
    out.append(
        f"Memory read bandwidth (torch `sum` over 1 GiB, {bw_start['threads']} threads): **{bandwidth:.1f} GB/s** "
        f"(start {bw_start['read_gbs']:.1f}, end {bw_end['read_gbs']:.1f}); for reference, `copy_` (read + write) "
        f"{bw_start['copy_gbs']:.1f} / {bw_end['copy_gbs']:.1f} GB/s and a bf16 GEMV through 1 GiB of weights "
        f"{bw_start['gemv_bf16_gbs']:.1f} / {bw_end['gemv_bf16_gbs']:.1f} GB/s."
    )
    probe = info.get("matmul", {})
    out.append(
        "Batching headroom (one 4864x896 linear layer, 8 / 16 rows vs 1 row): "
        + "; ".join(
            f"{name} {cost[8] / cost[1]:.1f}x / {cost[16] / cost[1]:.1f}x the time" for name, cost in probe.items()
        )
        + "."
    )
    out.append(
        f"Model weights read per decode step: {hf_bytes / 1e9:.3f} GB ({args.dtype}); bandwidth bound "
        f"{bandwidth * 1e9 / hf_bytes:.1f} tok/s."
        + (" The quick model is tiny and sits in the CPU caches, so its bound is meaningless." if args.quick else "")
    )
    out.append("")
    head = [
        "system",
        "conc.",
        "aggregate tok/s",
        "decode tok/s per stream",
        "TTFT p50 / p95 (ms)",
        "ITL p50 (ms)",
        "% of BW bound",
        "peak RSS (GB)",
        "notes",
    ]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for row in rows:
        if not row.stats:
            out.append(f"| {row.system} | – | – | – | – | – | – | – | {row.note} |")
            continue
        s = row.stats
        bound = bandwidth * 1e9 / row.weight_bytes if row.weight_bytes else None
        frac = f"{100 * s['decode_tps'] / bound:.0f} %" if (bound and s["decode_tps"] and row.concurrency == 1) else ""
        notes = [row.note] if row.note else []
        if s["bunched"]:
            notes.append(
                f"{s['bunched']}/{s['requests']} streams arrived in under tokens ÷ 4 chunks (no ITL from them)"
            )
        if s["short"]:
            notes.append(f"{s['short']}/{s['requests']} requests ended early ({', '.join(s['finishes'])})")
        if row.concurrency == 1 and row.weight_bytes and row.weight_bytes != hf_bytes:
            notes.append(f"{row.weight_bytes / 1e9:.2f} GB read per token")
        rss = f"{row.peak_rss / 1e9:.2f}" if row.peak_rss else ""
        out.append(
            f"| {row.system} | {row.concurrency} | {s['aggregate_tps']:.1f} | {_f(s['decode_tps'])} | "
            f"{_ms(s['ttft_p50'])} / {_ms(s['ttft_p95'])} | {_ms(s['itl_p50'])} | {frac} | {rss} | "
            f"{'; '.join(notes)} |"
        )
    out.append("")
    out.append(
        "Aggregate = all output tokens ÷ wall time of the level. Decode tok/s per stream = 1 ÷ the median "
        "per-request inter-token latency (time from first to last token ÷ tokens after the first), so it "
        "excludes the prompt; % of BW bound = that ÷ (bandwidth ÷ weight bytes), at concurrency 1. TTFT is "
        "measured by the client from sending the request to the first non-empty text. Peak RSS is the "
        "process's VmHWM (the in-process rows are separate processes too)."
    )
    out.append("")
    out.extend(targets(rows, bandwidth, args))
    return "\n".join(out)


def targets(rows: list[Row], bandwidth: float, args) -> list[str]:
    out = ["Targets:", ""]

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("**PASS**" if ok else "**FAIL**")

    direct, gen1, cb1 = _find(rows, "direct", 1), _find(rows, "genserve", 1), _find(rows, "cb", 1)
    if direct and gen1:
        ratio = gen1.stats["request_tps"] / direct.stats["request_tps"]
        dec = (gen1.stats["decode_tps"] / direct.stats["decode_tps"]) if gen1.stats["decode_tps"] else None
        line = (
            f"- genserve ÷ direct `generate()`, single stream (tokens ÷ request time): "
            f"{gen1.stats['request_tps']:.2f} ÷ {direct.stats['request_tps']:.2f} = **{ratio:.2f}** (target ≥ 0.95) "
            f"{verdict(ratio >= 0.95)}; decode only {_f(dec, 2)}"
        )
        if cb1:
            line += (
                f"; against transformers' CB manager in-process (its own per-request sampling): "
                f"{gen1.stats['request_tps'] / cb1.stats['request_tps']:.2f}"
            )
        out.append(line)
    else:
        out.append("- genserve ÷ direct: n/a (a row is missing)")
    gen8 = _find(rows, "genserve", 8)
    if gen1 and gen8:
        scale = gen8.stats["aggregate_tps"] / gen1.stats["aggregate_tps"]
        out.append(
            f"- genserve aggregate at 8 ÷ single stream: {gen8.stats['aggregate_tps']:.1f} ÷ "
            f"{gen1.stats['aggregate_tps']:.1f} = **{scale:.1f}×** (target ≥ 5×) {verdict(scale >= 5)}"
        )
    else:
        out.append("- genserve aggregate at 8 ÷ single stream: n/a (concurrency 8 not run)")
    for c in (1, 8, 16):
        g, t = _find(rows, "genserve", c), _find(rows, "tserve", c)
        if not (g and t):
            out.append(f"- genserve ÷ transformers serve at {c}: n/a (not run)")
            continue
        ratio = g.stats["aggregate_tps"] / t.stats["aggregate_tps"]
        ttft_ok = g.stats["ttft_p50"] <= t.stats["ttft_p50"]
        out.append(
            f"- genserve ÷ transformers serve at {c}: {g.stats['aggregate_tps']:.1f} ÷ "
            f"{t.stats['aggregate_tps']:.1f} = **{ratio:.2f}** (target ≥ 1.0), p50 TTFT "
            f"{_ms(g.stats['ttft_p50'])} vs {_ms(t.stats['ttft_p50'])} ms (target: no worse) "
            f"{verdict(ratio >= 1.0 and ttft_ok)}"
        )
    best, best_row = None, None
    for row in rows:
        if row.concurrency == 1 and row.stats and row.weight_bytes and row.stats["decode_tps"]:
            frac = row.stats["decode_tps"] / (bandwidth * 1e9 / row.weight_bytes)
            if best is None or frac > best:
                best, best_row = frac, row
    if best_row:
        out.append(
            f"- best CPU engine single-stream decode ÷ bandwidth bound: {best_row.system} at "
            f"**{100 * best:.0f} %** (target ≥ 70 %) {verdict(best >= 0.7)}"
            + (" — not meaningful in quick mode (the tiny model fits in cache)" if args.quick else "")
        )
    return out


if __name__ == "__main__":
    sys.exit(main())
