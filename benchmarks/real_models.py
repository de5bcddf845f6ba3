"""The default catalog's real models, served: genserve against the same engine called directly, and its start.

    .venv/bin/python benchmarks/real_models.py                 # about 6 minutes on a quiet 2-core machine
    .venv/bin/python benchmarks/real_models.py --repeats 2 --max-tokens 32 --starts 2

`genserve serve --data-dir DIR --port P` with no model options (the default catalog: SmolLM2-135M-Instruct, converted
from its packaged GGUF into float32, under the Gemini text names; all-MiniLM-L6-v2 under the embedding names) against
transformers on the same converted checkpoint in-process (benchmarks/_direct.py), at 1 and 8 concurrent streams,
all loaded at once and taking turns (benchmarks/_contenders.py), after timing starts of the server: the first ever
(fresh data dir, with the one-time conversion) and later ones; then the server's peak RSS. Prints one Markdown report;
every verdict is a ratio between contenders of the same run. Other work on the machine is measured per turn (and
waited out, up to --wait-quiet seconds): ratios are given over all turns and over the quiet ones. See
benchmarks/README.md ("Real default models")."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _http  # noqa: E402
import httpx  # noqa: E402
from _build import SAMPLING  # noqa: E402
from _contenders import Contender, InProcess, Served, interleave  # noqa: E402
from text_serving import Row, _ms, machine_info, pct, row_of, stats  # noqa: E402

from genserve.demo.names import EMBEDDING_ALIASES  # noqa: E402
from genserve.demo.packaged import MINILM, SMOLLM2  # noqa: E402

MODEL = "gemini-2.0-flash"
EMBEDDING = EMBEDDING_ALIASES[0]
# 50 tokens once rendered with SmolLM2's chat template (its default system turn included); asks for a long answer so
# that few requests stop at EOS before --max-tokens.
PROMPT = (
    "Write a long, detailed story about a lighthouse keeper who finds a message in a bottle on the rocks below the "
    "tower."
)
CHECKPOINT = Path("models") / "smollm2-135m-instruct"  # inside the data dir (demo/catalog.py, demo/real.py)
START_TOKENS = 8  # maxOutputTokens of the request that times a start
READY = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ genserve: ready in ([\d.]+) s: (.*)$")
FAILED = re.compile(r"genserve: (.*) could not be preloaded: (.*)$")
DIRECT_KEYS = ("cb", "generate", "engine")


def log(msg: str) -> None:
    print(msg, flush=True)


# -- other processes' CPU ---------------------------------------------------------------------------------------------
# This VM's 2 cores are shared with other work that comes and goes within seconds, and a torch process whose two
# OpenMP threads share the cores with another busy process slows by 3-5x (every barrier waits for a descheduled
# thread). So every turn records the share of the machine's CPU time that processes other than the benchmark's took
# meanwhile; the report gives the ratios over all turns and over the quiet ones.

TICK = os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU-seconds all processes have run (user, nice, system, irq, softirq), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / TICK


def process_tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            pids += [p for child in task.read_text().split() for p in process_tree(int(child))]
        except OSError:
            continue
    return pids


def cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    return total


class Others:
    """The share of the machine's CPU that processes outside `pids()` took between `start()` and `share()`."""

    def __init__(self, pids) -> None:
        self._pids = pids
        self._cores = os.cpu_count() or 1

    def start(self) -> None:
        self._t0, self._busy0 = time.perf_counter(), machine_busy_s()
        self._ours0 = {pid: cpu_s([pid]) for pid in self._pids()}

    def share(self) -> float:
        wall, busy = time.perf_counter() - self._t0, machine_busy_s() - self._busy0
        ours = sum(cpu_s([pid]) - self._ours0.get(pid, 0.0) for pid in self._pids())
        return max(0.0, busy - ours) / (wall * self._cores)


def wait_quiet(limit: float, patience: float) -> float:
    """Waits (at most `patience` seconds) until other processes take at most `limit` of the CPUs over one second;
    returns the seconds waited. Idle contenders use no CPU, so whatever runs meanwhile is someone else's."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < patience:
        others = Others(lambda: process_tree(os.getpid()))
        others.start()
        time.sleep(1.0)
        if others.share() <= limit:
            break
    return time.perf_counter() - t0


def watch(contenders: list[Contender], limit: float, patience: float) -> None:
    """Before each turn, waits up to `patience` s for a quiet machine; tags every request of the turn with
    `others_cpu`: the share of the CPUs that processes other than this one and its descendants (the HTTP clients,
    every server and in-process contender) took during that turn."""
    for c in contenders:
        run = c.run

        def watched(concurrency: int, rounds: int, run=run) -> list[dict]:
            waited = wait_quiet(limit, patience)
            others = Others(lambda: process_tree(os.getpid()))
            others.start()
            requests = run(concurrency, rounds)
            share = others.share()
            for r in requests:
                r["others_cpu"], r["waited_s"] = share, waited
            return requests

        c.run = watched  # type: ignore[method-assign]


def quiet_turns(c: Contender, level: int, limit: float) -> list[list[dict]]:
    return [t for t in c.runs.get(level, []) if t and t[0].get("others_cpu", 1.0) <= limit]


# -- starts ---------------------------------------------------------------------------------------------------------


def ready_lines(log_path: Path, spawned: dt.datetime | None) -> dict[str, dict[str, float | None]]:
    """The server's `ready in X s: names` lines, by model kind: X (the server's own count, from the start of the
    preload) and, when `spawned` is given, seconds from the spawn to the line's timestamp."""
    found: dict[str, dict[str, float | None]] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if failed := FAILED.search(line):
            raise RuntimeError(f"{failed.group(1)} could not be preloaded: {failed.group(2)}")
        match = READY.match(line)
        if not match:
            continue
        names = match.group(3).split(", ")
        kind = "text" if MODEL in names else "embedding" if EMBEDDING in names else None
        if kind is None:
            continue
        stamp = dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
        found[kind] = {
            "reported_s": float(match.group(2)),
            "since_spawn_s": (stamp - spawned).total_seconds() if spawned else None,
        }
    return found


def wait_ready(server: _http.Server, spawned: dt.datetime | None, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ready_lines(server.log_path, spawned)
        if len(found) == 2:
            return found
        if server.proc is not None and server.proc.poll() is not None:
            raise RuntimeError(f"genserve exited with {server.proc.returncode}; see {server.log_path}")
        time.sleep(0.05)
    raise RuntimeError(f"no `ready in` line for both models within {timeout:.0f} s; see {server.log_path}")


def generate_body(prompt: str, max_tokens: int) -> dict[str, Any]:
    config = {"maxOutputTokens": max_tokens, "temperature": SAMPLING["temperature"]}
    config |= {"topK": SAMPLING["top_k"], "topP": SAMPLING["top_p"]}
    return {"contents": [{"role": "user", "parts": [{"text": prompt}]}], "generationConfig": config}


def timed_start(data_dir: Path, log_path: Path, prompt: str) -> dict[str, Any]:
    """Spawns `genserve serve` (default catalog), sends a generateContent request as soon as its port accepts a
    connection (again after an error status), and waits for both `ready in` lines. Times from the spawn."""
    server = _http.genserve_server(None, data_dir, log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    url = f"{server.base}/v1beta/models/{MODEL}:generateContent"
    others = Others(lambda: process_tree(os.getpid()))
    others.start()
    spawned = dt.datetime.now()
    t0 = time.perf_counter()
    server.proc = subprocess.Popen(
        server.argv, env=server.env, stdout=log_path.open("w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 600
        while True:
            if server.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"genserve exited or never listened; see {log_path}")
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.005)
        t_port = time.perf_counter() - t0
        errors: list[int] = []
        with httpx.Client(timeout=httpx.Timeout(None)) as client:
            while True:
                response = client.post(url, json=generate_body(prompt, START_TOKENS), headers={"x-goog-api-key": "b"})
                if response.status_code == 200:
                    break
                errors.append(response.status_code)
                if len(errors) > 200 or server.proc.poll() is not None:
                    raise RuntimeError(f"generateContent answered {errors[-5:]}; see {log_path}")
                time.sleep(0.05)
        t_answer = time.perf_counter() - t0
        tokens = response.json().get("usageMetadata", {}).get("candidatesTokenCount")
        ready = wait_ready(server, spawned)
        share = others.share()
    finally:
        server.stop()
    return {
        "port_s": t_port,
        "answer_s": t_answer,
        "answer_tokens": tokens,
        "errors": errors,
        "ready": ready,
        "others_cpu": share,
    }


# -- the served contender ---------------------------------------------------------------------------------------------


@dataclass
class DefaultServer(Served):
    """genserve with the default catalog: after the warm-up it waits until both preloads are logged and embeds once,
    so that the turns run with both models loaded; its peak RSS also reads the operation worker's."""

    ready: dict = field(default_factory=dict)
    children: dict[int, int | None] = field(default_factory=dict)

    def start(self) -> None:
        super().start()
        assert self.server is not None
        self.ready = wait_ready(self.server, None)
        url = f"{self.server.base}/v1beta/models/{EMBEDDING}:embedContent"
        body = {"content": {"parts": [{"text": "a lighthouse keeper"}]}}
        response = httpx.post(url, json=body, headers={"x-goog-api-key": "b"}, timeout=120)
        if response.status_code != 200:
            raise RuntimeError(f"embedContent answered {response.status_code}: {response.text[:300]}")

    def peak_rss(self) -> int | None:
        if self.server is not None and self.server.proc is not None:
            pid = self.server.proc.pid
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                for child in task.read_text().split():
                    self.children[int(child)] = _http.vm_hwm_bytes(int(child))
        return super().peak_rss()


# -- the run ----------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-tokens", type=int, default=64, help="output tokens per request (default 64)")
    parser.add_argument("--repeats", type=int, default=3, help="turns each contender gets per level (default 3)")
    parser.add_argument("--rounds", type=int, default=1, help="requests per client per turn at concurrency 8")
    parser.add_argument("--single-rounds", type=int, default=2, help="requests per turn at concurrency 1 (default 2)")
    parser.add_argument("--concurrency", type=int, default=8, help="the batched level (default 8)")
    parser.add_argument("--starts", type=int, default=3, help="timed later starts (default 3)")
    parser.add_argument(
        "--quiet",
        type=float,
        default=0.10,
        help="a turn is quiet when other processes took at most this share of the CPUs (default 0.10)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=60,
        help="before each turn and start, wait up to this many seconds for a quiet machine (default 60; 0: never)",
    )
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="use (and keep) this data dir; default: a fresh one, removed at the end. Its first start is reported "
        "as the first ever only if it held no converted checkpoint",
    )
    parser.add_argument("--skip", default="", help="comma-separated direct rows to leave out: cb,generate,engine")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache", help="where the server logs go (logs/)")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    args = parser.parse_args()
    skip = {s for s in args.skip.split(",") if s}
    for weights in (SMOLLM2, MINILM):
        if weights.locate() is None:
            log(f"{weights.model} is not installed ({weights.requirement}): genserve install-weights")
            return 2

    started = dt.datetime.now()
    info = machine_info()
    log(f"genserve real-models benchmark, {started:%Y-%m-%d %H:%M}")
    log(f"machine: {info['cpu']} ({info['simd']}), {info['cores']} cores, load average {info['load']}")
    logs_dir = args.cache / "logs"
    scratch = None
    if args.data_dir is None:
        scratch = Path(tempfile.mkdtemp(prefix="genserve-real-"))
        data_dir = scratch / "data"
    else:
        data_dir = args.data_dir.resolve()
    checkpoint = data_dir / CHECKPOINT
    first_ever = not checkpoint.exists()
    try:
        # 1. Starts, one after the other, nothing else running: the first (with the conversion when the data dir is
        # fresh), then --starts more on the prepared data dir.
        starts: list[dict[str, Any]] = []
        for i in range(1 + args.starts):
            log(f"start {i + 1}/{1 + args.starts} ...")
            wait_quiet(args.quiet, args.wait_quiet)
            result = timed_start(data_dir, logs_dir / f"real-models-start-{i + 1}.log", args.prompt)
            result["first_ever"] = i == 0 and first_ever
            starts.append(result)
            ready = result["ready"]
            log(
                f"    port {result['port_s']:.1f} s, first answer {result['answer_s']:.1f} s, ready: text "
                f"{ready['text']['since_spawn_s']:.1f} s, embedding {ready['embedding']['since_spawn_s']:.1f} s; "
                f"other processes took {100 * result['others_cpu']:.0f} % of the CPUs"
            )

        # 2. Serving: genserve and the direct references on the converted checkpoint, all loaded, taking turns.
        prompt_tokens = count_prompt(checkpoint, args.prompt)
        log(f"prompt: {prompt_tokens} tokens rendered; checkpoint {checkpoint}")
        server = _http.genserve_server(None, data_dir, logs_dir / "real-models-genserve.log")
        batch = args.concurrency
        weights = sum(f.stat().st_size for f in checkpoint.glob("*.safetensors"))

        def direct(system: str, key: str, levels: set[int]) -> InProcess:
            argv = [key, "--model", str(checkpoint), "--prompt", args.prompt, "--max-tokens", str(args.max_tokens)]
            argv += ["--dtype", "float32"]  # what demo/real.py gives the entry
            path = logs_dir / f"real-models-direct-{key}.log"
            return InProcess(system, key, levels, weights, argv=argv, log_path=path)

        genserve = DefaultServer(
            "**genserve** (default catalog), HTTP streaming",
            "genserve",
            {1, batch},
            weights,
            server=server,
            request=lambda client: _http.gemini_request(client, server.base, MODEL, args.prompt, args.max_tokens),
        )
        contenders: list[Contender] = [
            direct("transformers CB manager (its own sampling), in-process", "cb", {1, batch}),
            direct("transformers `generate()`, in-process", "generate", {1}),
            direct("genserve engine, in-process (no HTTP)", "engine", {1, batch}),
            genserve,
        ]
        contenders = [c for c in contenders if c.key not in skip]
        watch(contenders, args.quiet, args.wait_quiet)
        levels = [(1, args.single_rounds), (batch, args.rounds)]
        interleave(contenders, levels, args.repeats, log)
        info["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    rows = [r for c in contenders for r in row_of(c, args.max_tokens)]
    report = render(rows, contenders, genserve, starts, args, info, started, prompt_tokens, weights)
    print()
    print(report, flush=True)
    if args.json:
        dump = {
            "started": started.isoformat(),
            "machine": info,
            "starts": starts,
            "rows": [row.__dict__ for row in rows],
            "turns": {c.key: c.runs for c in contenders},
            "server_children_peak_rss": genserve.children,
        }
        args.json.write_text(json.dumps(dump, indent=1, default=str))
    return 0


def count_prompt(checkpoint: Path, prompt: str) -> int:
    from _direct import prompt_ids
    from transformers import AutoTokenizer

    return len(prompt_ids(AutoTokenizer.from_pretrained(checkpoint), prompt))


# -- report -----------------------------------------------------------------------------------------------------------

REFS = {
    "cb": "transformers' CB manager (what genserve runs, at every concurrency)",
    "generate": "transformers `generate()` (the plain single-stream path)",
    "engine": "genserve's engine in-process (so: the HTTP layer alone)",
}


def _find(rows: list[Row], key: str, concurrency: int) -> Row | None:
    return next((r for r in rows if r.key == key and r.concurrency == concurrency and r.stats), None)


def _turn_ttft(turns: list[list[dict]]) -> list[float]:
    return [pct([r["t_first"] - r["t_send"] for r in t if r["t_first"] is not None], 0.5) or 0.0 for t in turns]


def _gb(value: int | None) -> str:
    return f"{value / 1e9:.2f}" if value else "–"


def _others(turns: list[list[dict]]) -> list[float]:
    return [t[0].get("others_cpu", 0.0) for t in turns if t]


def compare(g: dict, d: dict, g_turns, d_turns, paired: bool) -> str:
    """genserve ÷ direct: aggregate tok/s (≥ 0.95) and p50 TTFT (≤ 1.1×), with verdicts; per-turn ranges when the
    turns are the same rounds of the interleave (`paired`)."""
    verdict = {True: "**PASS**", False: "**FAIL**"}
    tps = g["aggregate_tps"] / d["aggregate_tps"]
    ttft = g["ttft_p50"] / d["ttft_p50"]
    tps_range = ttft_range = ""
    if paired:
        r = [a / b for a, b in zip(g["turn_aggregate_tps"], d["turn_aggregate_tps"], strict=False)]
        tps_range = f"per turn {min(r):.2f}–{max(r):.2f}; " if r else ""
        r = [a / b for a, b in zip(_turn_ttft(g_turns), _turn_ttft(d_turns), strict=False) if b]
        ttft_range = f"per turn {min(r):.2f}–{max(r):.2f}; " if r else ""
    decode = ""
    if g["decode_tps"] and d["decode_tps"]:
        decode = f"; decode only (1 ÷ ITL p50) {g['decode_tps'] / d['decode_tps']:.2f}"
    return (
        f"tok/s {g['aggregate_tps']:.1f} ÷ {d['aggregate_tps']:.1f} = **{tps:.2f}** ({tps_range}≥ 0.95) "
        f"{verdict[tps >= 0.95]}; TTFT p50 {_ms(g['ttft_p50'])} ÷ {_ms(d['ttft_p50'])} ms = **{ttft:.2f}×** "
        f"({ttft_range}≤ 1.1) {verdict[ttft <= 1.1]}{decode}"
    )


def render(rows, contenders, genserve, starts, args, info, started, prompt_tokens, weights) -> str:
    batch = args.concurrency
    by_key = {c.key: c for c in contenders}
    cmd = " ".join([".venv/bin/python benchmarks/real_models.py", *sys.argv[1:]])
    out = [f"### Real default models, {started:%Y-%m-%d %H:%M}", ""]
    out.append(
        f"Command: `{cmd}`. Model: the default catalog's `{MODEL}` = SmolLM2-135M-Instruct (converted checkpoint, "
        f"float32, {weights / 1e6:.0f} MB of weights), prompt of {prompt_tokens} tokens rendered, "
        f"{args.max_tokens} output tokens at most, temperature 1.0 / top-k 64 / top-p 0.95 everywhere. Contenders "
        f"loaded together and taking turns: {args.repeats} turns each per level in rotated order, "
        f"{args.single_rounds} requests back to back per turn at 1 stream, {batch} clients × {args.rounds} at "
        f"{batch}; one warm-up request each."
    )
    out.append("")
    out.append(
        f"Machine: {info['cpu']} ({info['simd']}), **{info['cores']} cores**, {info['mem_gib']:.0f} GiB RAM; "
        f"Python {info['python']}, torch {info['torch']}, transformers {info['transformers']}. Load average "
        f"before / after: {info['load']} / {info.get('load_end', '?')}."
    )
    shares = [x for c in contenders for turns in c.runs.values() for x in _others(turns)]
    waits = [t[0].get("waited_s", 0.0) for c in contenders for turns in c.runs.values() for t in turns if t]
    if shares:
        quiet = sum(1 for x in shares if x <= args.quiet)
        out.append(
            f"Other processes took a median {100 * statistics.median(shares):.0f} % of the CPUs during a turn "
            f"(range {100 * min(shares):.0f}–{100 * max(shares):.0f} %); {quiet} of {len(shares)} turns were quiet "
            f"(≤ {100 * args.quiet:.0f} %). Before each turn and each start the run waited up to "
            f"{args.wait_quiet:.0f} s for a quiet second ({sum(waits):.0f} s of waiting before the turns in all)."
        )
    out.append("")
    head = ["system", "conc.", "requests (ended early)", "aggregate tok/s", "TTFT p50 / p95 (ms)", "ITL p50 (ms)"]
    head += ["others' CPU per turn", "peak RSS (GB)"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for row in rows:
        if not row.stats:
            out.append(f"| {row.system} | – | – | – | – | – | – | {row.note} |")
            continue
        st = row.stats
        early = (
            f"{st['requests']} ({st['short']}: {', '.join(st['finishes'])})" if st["short"] else f"{st['requests']} (0)"
        )
        others = ", ".join(f"{100 * x:.0f} %" for x in _others(by_key[row.key].runs.get(row.concurrency, [])))
        out.append(
            f"| {row.system} | {row.concurrency} | {early} | {st['aggregate_tps']:.1f} | "
            f"{_ms(st['ttft_p50'])} / {_ms(st['ttft_p95'])} | {_ms(st['itl_p50'])} | {others} | {_gb(row.peak_rss)} |"
        )
    out.append("")
    out.append("Targets, genserve ÷ direct, all turns pooled (in brackets: the range over the interleave's rounds):")
    out.append("")
    for key in DIRECT_KEYS:
        for level in (1, batch):
            g, d = _find(rows, "genserve", level), _find(rows, key, level)
            if g and d:
                line = compare(g.stats, d.stats, genserve.runs[level], by_key[key].runs[level], paired=True)
                out.append(f"- vs {REFS[key]}, {level} stream{'s' if level > 1 else ''}: {line}")
    out.append("")
    out.append(
        f"The same over the quiet turns only (other processes took ≤ {100 * args.quiet:.0f} % of the CPUs; turns "
        "counted genserve / direct):"
    )
    out.append("")
    for key in DIRECT_KEYS:
        if key not in by_key or "genserve" not in by_key:
            continue
        for level in sorted(by_key[key].levels & genserve.levels):
            g_turns, d_turns = quiet_turns(genserve, level, args.quiet), quiet_turns(by_key[key], level, args.quiet)
            label = f"- vs {REFS[key]}, {level} stream{'s' if level > 1 else ''} ({len(g_turns)} / {len(d_turns)})"
            if not (g_turns and d_turns):
                out.append(f"{label}: n/a (no quiet turn on one side)")
                continue
            g_stats, d_stats = stats(g_turns, args.max_tokens), stats(d_turns, args.max_tokens)
            out.append(f"{label}: {compare(g_stats, d_stats, g_turns, d_turns, paired=False)}")
    out.append("")
    children = ", ".join(_gb(v) for v in genserve.children.values()) or "–"
    out.append(
        f"Peak RSS (VmHWM) of the `genserve serve` process after both models were loaded (an embedContent request "
        f"included) and every turn had run: **{_gb(genserve.peak)} GB**; its child processes (the operation worker "
        f"and its helper): {children} GB."
    )
    out.append("")
    out.append(
        "Starts (`genserve serve --data-dir DIR --port P`, default catalog; times from the spawn; the "
        f"generateContent request, {START_TOKENS} output tokens, is sent as soon as the port accepts):"
    )
    out.append("")
    out.append(
        "| start | port accepts (s) | first answer (s) | `ready in` text (s) | `ready in` embedding (s) | others' CPU |"
    )
    out.append("|---|---|---|---|---|---|")
    for i, st in enumerate(starts):
        label = "first ever (fresh data dir: conversion)" if st["first_ever"] else f"start {i + 1} (data dir prepared)"
        r = st["ready"]
        out.append(
            f"| {label} | {st['port_s']:.1f} | {st['answer_s']:.1f} | {r['text']['since_spawn_s']:.1f} "
            f"(loaded in {r['text']['reported_s']:.1f}) | {r['embedding']['since_spawn_s']:.1f} "
            f"(loaded in {r['embedding']['reported_s']:.1f}) | {100 * st['others_cpu']:.0f} % |"
        )
    later = [st for st in starts if not st["first_ever"]]
    if later:

        def med(fn) -> float:
            return statistics.median(fn(st) for st in later)

        out.append(
            f"| **median of the later starts** | {med(lambda st: st['port_s']):.1f} | "
            f"**{med(lambda st: st['answer_s']):.1f}** | {med(lambda st: st['ready']['text']['since_spawn_s']):.1f} | "
            f"{med(lambda st: st['ready']['embedding']['since_spawn_s']):.1f} | |"
        )
    errors = sorted({e for st in starts for e in st["errors"]})
    out.append("")
    out.append(
        "`ready in` (s) = time of the server's log line since the spawn; in brackets, the load itself as the server "
        "counts it. "
        + (f"Error answers before the first success: {errors}." if errors else "No start answered an error first.")
    )
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
