"""Text-serving benchmark: genserve vs. the engine it wraps, vs. `transformers serve`, vs. llama.cpp, on one machine.

    .venv/bin/python benchmarks/text_serving.py            # full: random Qwen2.5-0.5B, concurrency 1, 4, 8, 16
    .venv/bin/python benchmarks/text_serving.py --quick    # smoke test: genserve's tiny demo model, concurrency 1, 4

Everything runs one after the other (never two loads at once), in one run, and ends in one Markdown table plus the
targets with PASS/FAIL. See benchmarks/README.md for what each row measures and the latest results."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _build  # noqa: E402
import _http  # noqa: E402
from _contenders import Contender, InProcess, Served, interleave  # noqa: E402

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."
CB = {"page_size": 256, "num_blocks": 128, "max_batch_tokens": 512}  # genserve's defaults; given to both servers


def log(msg: str) -> None:
    print(msg, flush=True)


# -- measurements ---------------------------------------------------------------------------------------------------


def read_bandwidth(gib: float = 1.0, repeats: int = 3) -> float:
    """GB/s of a torch `sum` over a `gib` GiB float32 tensor with torch's thread count, best of `repeats`."""
    import torch

    data = torch.ones(int(gib * 2**30) // 4, dtype=torch.float32)
    data.sum()
    return data.numel() * 4 / min(_timed(data.sum) for _ in range(repeats)) / 1e9


def memory_bandwidth(gib: float = 1.0, repeats: int = 5) -> dict[str, float]:
    """Read bandwidth: torch `sum` over a `gib` GiB float32 tensor with torch's thread count (what the servers use),
    best of `repeats`. A decode step reads every weight once and writes almost nothing, so a read-only stream is its
    bound. Also, for reference, a `copy_` (bytes read + written; on this VM it swung 36–67 GB/s between runs) and a
    bf16 GEMV streaming through `gib` GiB of weight matrices (what torch's own decode kernels reach)."""
    import torch

    n = int(gib * 2**30)
    buffers = [torch.ones(n // 4, dtype=torch.float32), torch.empty(n // 4, dtype=torch.float32)]

    def copy() -> None:
        buffers[1].copy_(buffers[0])

    copy()
    read_gbs = read_bandwidth(gib, repeats)
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


# -- statistics -----------------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    pos = (len(values) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def _wall(requests: list[dict]) -> float:
    return max(r["t_done"] for r in requests) - min(r["t_send"] for r in requests)


def stats(turns: list[list[dict]], max_tokens: int) -> dict[str, Any]:
    """One contender at one level, pooled over its turns (each turn is a closed-loop run of its own)."""
    requests = [r for turn in turns for r in turn]
    wall = sum(_wall(turn) for turn in turns)
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
        # per turn, for ratios between contenders that ran side by side
        "turn_aggregate_tps": [sum(r["tokens"] for r in turn) / _wall(turn) for turn in turns],
        "turn_request_tps": [
            statistics.mean(r["tokens"] / (r["t_done"] - r["t_send"]) for r in turn) for turn in turns
        ],
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


def row_of(c: Contender, max_tokens: int) -> list[Row]:
    rows = [
        Row(c.system, c.key, level, stats(turns, max_tokens), c.peak, c.weight_bytes, c.note)
        for level, turns in sorted(c.runs.items())
    ]
    if c.failure:
        rows.append(Row(c.system, c.key, note=c.failure))
    return rows


# -- the run --------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny demo model, concurrency 1 and 4 (about a minute)")
    parser.add_argument("--max-tokens", type=int, default=64, help="output tokens per request (default 64)")
    parser.add_argument("--concurrency", help="comma-separated levels (default 1,4,8,16; quick: 1,4)")
    parser.add_argument("--repeats", type=int, default=3, help="turns each contender gets per level (default 3)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="requests per worker per turn at concurrency > 1 (default 1)"
    )
    parser.add_argument("--single-rounds", type=int, default=2, help="requests per turn at concurrency 1 (default 2)")
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

    scratch = Path(tempfile.mkdtemp(prefix="genserve-bench-"))
    logs_dir = args.cache / "logs"
    reads: list[float] = [bw_start["read_gbs"]]

    def probe_bandwidth() -> None:
        reads.append(read_bandwidth())

    def in_process(system: str, key: str, mode: str, model: Path, levels: set[int], weight: int) -> InProcess:
        argv = [mode, "--model", str(model), "--prompt", args.prompt, "--max-tokens", str(args.max_tokens)]
        argv += ["--hf-dir", str(hf_dir), "--dtype", args.dtype]
        log_path = logs_dir / f"direct-{mode}-{model.name}.log"
        return InProcess(system, key, levels, weight, argv=argv, log_path=log_path)

    def gemini(server: _http.Server, seed: int | None = None):
        return lambda client: _http.gemini_request(
            client, server.base, "bench", args.prompt, args.max_tokens, seed=seed
        )

    every, one_and_8 = set(levels_c), {1, 8} if not args.quick else {1, max(levels_c)}

    # 1. The transformers engine: in-process references, genserve over HTTP (batched, and a request with a seed,
    # which takes the generate() path), and transformers serve --continuous-batching with the same model, prompt,
    # lengths and cache sizes.
    catalog = scratch / "genserve-transformers.toml"
    catalog.write_text(
        '[[models]]\nname = "bench"\nengine = "transformers"\n'
        f'path = "{hf_dir}"\noutput_token_limit = 4096\noptions = {{ dtype = "{args.dtype}" }}\n'
    )
    genserve = _http.genserve_server(catalog, scratch / "data-tf", logs_dir / "genserve-transformers.log")
    tserve = _http.transformers_server(hf_dir, logs_dir / "transformers-serve.log", CB, args.dtype)
    group = [
        in_process("transformers `generate()`, in-process", "direct", "generate", hf_dir, {1}, hf_bytes),
        in_process("transformers CB manager (its own sampling), in-process", "cb", "cb", hf_dir, every, hf_bytes),
        in_process("genserve engine (transformers, CB), in-process", "engine", "engine", hf_dir, one_and_8, hf_bytes),
        Served(
            "**genserve** (transformers, CB), HTTP streaming",
            "genserve",
            every,
            hf_bytes,
            server=genserve,
            request=gemini(genserve),
        ),
        Served(
            "genserve (transformers, `generate()` path: request with a seed), HTTP",
            "seed",
            {1},
            hf_bytes,
            note="same server as above",
            server=genserve,
            request=gemini(genserve, seed=1),
            owns_server=False,
        ),
        Served(
            "`transformers serve --continuous-batching`",
            "tserve",
            every,
            hf_bytes,
            server=tserve,
            request=lambda client: _http.openai_request(client, tserve.base, str(hf_dir), args.prompt, args.max_tokens),
        ),
    ]
    if "genserve" in skip:
        skip.add("seed")
    contenders = [c for c in group if c.key not in skip]
    interleave(contenders, levels, args.repeats, log, probe_bandwidth)

    # 2. llama.cpp: in-process and behind genserve, single stream, both GGUFs.
    llama_reason = llamacpp_unavailable()
    group = []
    for dtype, label in (("bf16", "bf16"), ("q8_0", "Q8_0")):
        gguf = models["gguf"].get(dtype)
        reason = llama_reason or (gguf if isinstance(gguf, str) else None)
        if "llamacpp" in skip:
            continue
        if reason:
            failed = Contender(f"llama.cpp {label}", "llamacpp", {1}, None, failure=f"not available: {reason}")
            contenders.append(failed)
            continue
        gguf = Path(gguf).resolve()
        size = _build.gguf_weight_bytes(gguf)
        cat = scratch / f"genserve-llamacpp-{dtype}.toml"
        cat.write_text(f'[[models]]\nname = "bench"\nengine = "llamacpp"\npath = "{gguf}"\noutput_token_limit = 4096\n')
        server = _http.genserve_server(cat, scratch / f"data-{dtype}", logs_dir / f"genserve-llamacpp-{dtype}.log")
        group += [
            in_process(f"llama.cpp {label} GGUF, in-process", "llamacpp", "llamacpp", gguf, {1}, size),
            Served(
                f"genserve (llama.cpp {label}), HTTP streaming",
                "llamacpp",
                {1},
                size,
                server=server,
                request=gemini(server),
            ),
        ]
    interleave(group, single, args.repeats, log, probe_bandwidth)
    contenders += group

    log("memory bandwidth again ...")
    bw_end = memory_bandwidth()
    log(
        f"    read {bw_end['read_gbs']:.1f} GB/s, copy {bw_end['copy_gbs']:.1f} GB/s, "
        f"bf16 GEMV {bw_end['gemv_bf16_gbs']:.1f} GB/s"
    )
    reads.append(bw_end["read_gbs"])
    bandwidth = statistics.median(reads)
    info["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    shutil.rmtree(scratch, ignore_errors=True)

    rows = [row_of(c, args.max_tokens) for c in contenders]
    rows = [r for rs in rows for r in rs]
    report = render(rows, args, info, bw_start, bw_end, reads, bandwidth, hf_dir, hf_bytes, started)
    print()
    print(report, flush=True)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "started": started.isoformat(),
                    "machine": info,
                    "bandwidth": {"start": bw_start, "end": bw_end, "reads_gbs": reads},
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


def render(rows, args, info, bw_start, bw_end, reads, bandwidth, hf_dir, hf_bytes, started) -> str:
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
        "top-p 0.95 everywhere. All contenders of a group are loaded at once and take turns: per level, "
        f"{args.repeats} turns each, in an order rotated every turn; in a turn at concurrency C, C clients each send "
        f"{args.rounds} requests back to back ({args.single_rounds} at C = 1). One warm-up request each first."
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
        f"Memory read bandwidth (torch `sum` over 1 GiB, {bw_start['threads']} threads), median of {len(reads)} "
        f"probes at the start, before each single-stream turn and at the end: **{bandwidth:.1f} GB/s** "
        f"(range {min(reads):.1f}–{max(reads):.1f}); for reference, `copy_` (read + write) "
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


def _per_turn(a: Row, b: Row, key: str) -> str:
    """The ratio a ÷ b in each turn: both ran within the same turn, minutes apart at most."""
    ratios = [x / y for x, y in zip(a.stats[key], b.stats[key], strict=False)]
    return f"per turn {min(ratios):.2f}–{max(ratios):.2f}" if ratios else ""


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
            f"{verdict(ratio >= 0.95)} ({_per_turn(gen1, direct, 'turn_request_tps')}); decode only {_f(dec, 2)}"
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
            f"{t.stats['aggregate_tps']:.1f} = **{ratio:.2f}** ({_per_turn(g, t, 'turn_aggregate_tps')}; "
            "target ≥ 1.0), p50 TTFT "
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
