"""Video generation: a Veo long-running operation through genserve against the same LTX-Video pipeline in-process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import inspect
import io
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _http  # noqa: E402
from _build import build_once  # noqa: E402
from _burst import Burst  # noqa: E402

MODEL = "bench-ltx"
PROMPT = "a lighthouse keeper walks along a stormy shore at dusk, waves crashing, cinematic"
SEED = 4321
FPS = 24  # Veo's frame rate, which genserve renders at
E2E_TARGET, P95_TARGET_S, POLLING_TARGET = 1.05, 0.050, 1.05
IDLE_BATCHES = 5  # storm bursts, back to back, against a finished operation with no job running
DISTURBED = 0.05  # share of the CPUs other processes may take during a timed run before it is flagged
BUILD_VERSION = "1"
T5_MAX_TOKENS = 128  # LTX-Video's prompt length: the pipeline pads every prompt to it
# "bench": LTX-Video 0.9's architecture scaled down so that one job takes seconds on 2 CPU cores. The transformer
# keeps the real head size (64), latent channels (128), patching and scheduler, at half the width (16 heads, real
# 32) and 4 of 28 layers; the VAE keeps the real depth, compression (32x in space, 8x in time) and 128 latent
# channels at half the width. The text encoder is a small T5 (the real one is T5-XXL, 4.7B): it runs once per
# job, so it matters little. "tiny": genserve's own demo LTX pipeline, for a smoke test of the benchmark itself.
PRESETS: dict[str, dict[str, Any]] = {
    "bench": {
        "transformer": {"heads": 16, "head_dim": 64, "layers": 4},
        "vae": (64, 128, 256, 256),
        "t5": {"d_model": 512, "layers": 4, "heads": 8, "d_ff": 1024},
    },
    "tiny": {},
}


def log(msg: str) -> None:
    print(msg, flush=True)


# -- the model ---------------------------------------------------------------------------------------------------------


def build_pipeline(target: Path, preset: str) -> None:
    """A random LTX-Video pipeline written with `save_pretrained`, so both sides load the same files from disk."""
    if preset == "tiny":
        from genserve.demo.video import build_ltx_pipeline

        build_ltx_pipeline(target)
        return
    import torch
    from diffusers import AutoencoderKLLTXVideo, LTXPipeline
    from diffusers import LTXVideoTransformer3DModel as Transformer
    from transformers import T5Config, T5EncoderModel

    from genserve.demo.image import build_t5_tokenizer
    from genserve.demo.video import ltx_scheduler

    shapes = PRESETS[preset]
    t5, tr = shapes["t5"], shapes["transformer"]
    tokenizer = build_t5_tokenizer()
    tokenizer.model_max_length = T5_MAX_TOKENS
    width = tr["heads"] * tr["head_dim"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # the same weights on every build
        text_encoder = T5EncoderModel(
            T5Config(
                vocab_size=len(tokenizer),
                d_model=t5["d_model"],
                d_kv=t5["d_model"] // t5["heads"],
                d_ff=t5["d_ff"],
                num_layers=t5["layers"],
                num_heads=t5["heads"],
            )
        ).eval()
        transformer = Transformer(
            in_channels=128,
            out_channels=128,
            num_attention_heads=tr["heads"],
            attention_head_dim=tr["head_dim"],
            cross_attention_dim=width,
            num_layers=tr["layers"],
            caption_channels=t5["d_model"],
        )
        vae = AutoencoderKLLTXVideo(
            latent_channels=128, block_out_channels=shapes["vae"], decoder_block_out_channels=shapes["vae"]
        )
    pipe = LTXPipeline(
        transformer=transformer,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=ltx_scheduler(),  # LTX-Video 0.9's, as genserve's demo model has it
    )
    pipe.save_pretrained(target)


def ensure_model(model_dir: Path, preset: str) -> Path:
    target = model_dir / f"ltx-{preset}"
    started = time.perf_counter()
    if build_once(target, BUILD_VERSION, lambda: build_pipeline(target, preset)):
        log(f"model: built {target} in {time.perf_counter() - started:.0f} s")
    else:
        log(f"model: reusing {target}")
    return target


def describe(pipe: Any, preset: str) -> str:
    def millions(module: Any) -> str:
        return f"{sum(p.numel() for p in module.parameters()) / 1e6:.0f}M"

    tr, vae = pipe.transformer.config, pipe.vae.config
    if preset == "tiny":
        return f"genserve's tiny demo LTX-Video pipeline ({millions(pipe.transformer)} transformer)"
    return (
        f"random LTX-Video 0.9 architecture, scaled down: transformer {tr.num_attention_heads}×"
        f"{tr.attention_head_dim} wide, {tr.num_layers} layers ({millions(pipe.transformer)}; real 32×64, 28 layers), "
        f"VAE {tuple(vae.block_out_channels)} with the real depth and 128 latent channels ({millions(pipe.vae)}), "
        f"T5 encoder {pipe.text_encoder.config.d_model}×{pipe.text_encoder.config.num_layers} "
        f"({millions(pipe.text_encoder)})"
    )


# -- geometry: what genserve asks of the pipeline for this request (checked against the server's MP4) ----------------


def geometry(pipe: Any, args: argparse.Namespace) -> dict[str, int]:
    """The sizes VideoService derives for `720p`, 16:9, `--scale`, `--duration`: the requested (output) size and
    frame count, and the pipeline's render size (a multiple of its patch grid) and frame count (8k + 1)."""
    from genserve.engines.hf_diffusers_video import size_multiple_of, temporal_factor_of
    from genserve.media.aspect import snap, video_size

    width, height = video_size("720p", "16:9", args.scale)
    multiple, temporal = size_multiple_of(pipe), temporal_factor_of(pipe)
    frames = args.duration * FPS
    return {
        "width": width,
        "height": height,
        "frames": frames,
        "render_width": snap(width, multiple),
        "render_height": snap(height, multiple),
        "render_frames": temporal * -(-(frames - 1) // temporal) + 1,
    }


# -- the two sides -----------------------------------------------------------------------------------------------------


def direct_call(pipe: Any, args: argparse.Namespace, geo: dict[str, int], seed: int) -> dict[str, Any]:
    """What genserve's engine and job do, without genserve: the same pipeline call (per-video CPU generator, steps,
    render size, 8k+1 frames, frame rate), the clip cut and resized to the requested size, then encode_mp4."""
    import torch
    from PIL import Image

    from genserve.media.mp4 import encode_mp4

    started = time.perf_counter()
    video = pipe(
        prompt=PROMPT,
        num_videos_per_prompt=1,
        generator=[torch.Generator("cpu").manual_seed(seed)],
        num_inference_steps=args.steps,
        width=geo["render_width"],
        height=geo["render_height"],
        num_frames=geo["render_frames"],
        frame_rate=FPS,
        output_type="pil",
    ).frames[0]
    rendered = time.perf_counter()
    size = (geo["width"], geo["height"])
    clip = [f if f.size == size else f.resize(size, Image.Resampling.LANCZOS) for f in video[: geo["frames"]]]
    resized = time.perf_counter()
    data = encode_mp4(clip, FPS)
    done = time.perf_counter()
    return {
        "seconds": done - started,
        "pipeline": rendered - started,
        "resize": resized - rendered,
        "encode": done - resized,
        "mp4": data,
    }


def write_catalog(path: Path, model: Path, args: argparse.Namespace) -> None:
    path.write_text(
        f'[[models]]\nname = "{MODEL}"\nengine = "diffusers-video"\npath = "{model}"\n'
        f"video_scale = {args.scale}\nvideo_durations = [{args.duration}]\ndefault_video_duration = {args.duration}\n"
        "max_sample_count = 1\ndefault_sample_count = 1\n"
        f'options = {{ steps = {args.steps}, dtype = "float32", threads = {args.threads} }}\n'
    )


def server_times(data_dir: Path, op_id: str) -> tuple[float, float]:
    """(create, done) of an operation as the server recorded them (UTC wall clock, as POSIX seconds)."""
    with sqlite3.connect(f"file:{data_dir / 'genserve.db'}?mode=ro", uri=True) as db:
        create, done = db.execute("SELECT create_time, done_time FROM operations WHERE id = ?", (op_id,)).fetchone()

    def posix(text: str) -> float:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()

    return posix(create), posix(done)


class Storm:
    """A crowd of `size` pollers of one operation who all poll at once, every `interval` seconds (back to back when
    0): each burst is fired on `size` keep-alive connections together and awaited whole, so every GET waits behind
    the others of its burst. The client is `_burst.Burst` (a pre-built request per connection), not httpx, whose
    ~1 ms of CPU per request on the same 2 cores would be counted against the server."""

    def __init__(self, base: str, name: str, size: int, interval: float) -> None:
        self.crowd = Burst(f"{base}/v1beta/{name}", size, {"x-goog-api-key": "bench"})
        self.interval = interval
        self._stop = asyncio.Event()
        self.task: asyncio.Task | None = None

    latencies = property(lambda self: self.crowd.latencies)
    errors = property(lambda self: self.crowd.errors)
    batches = property(lambda self: self.crowd.bursts)

    async def run(self, batches: int) -> None:
        """A fixed number of bursts, back to back, then closes."""
        await self.crowd.open()
        for _ in range(batches):
            await self.crowd.fire()
        await self.crowd.close()

    async def start(self) -> None:
        await self.crowd.open()
        self.task = asyncio.get_running_loop().create_task(self.crowd.every(self.interval, self._stop))

    async def stop(self) -> None:
        # The burst in flight is let finish: cancelling it would leave the server answering requests nobody reads.
        self._stop.set()
        if self.task is not None:
            await self.task
        await self.crowd.close()


async def server_job(client: Any, server: _http.Server, data_dir: Path, seed: int, args, storm: int = 0) -> dict:
    """POST :predictLongRunning, GET the operation every `--poll` seconds until done, download the MP4."""
    body = {
        "instances": [{"prompt": PROMPT}],
        "parameters": {
            "aspectRatio": "16:9",
            "resolution": "720p",
            "durationSeconds": args.duration,
            "sampleCount": 1,
            "seed": seed,
        },
    }
    wall0, started = time.time(), time.perf_counter()
    response = await client.post(f"{server.base}/v1beta/models/{MODEL}:predictLongRunning", json=body)
    if response.status_code != 200:
        raise RuntimeError(f"genserve answered {response.status_code}: {response.text[:500]}")
    name = response.json()["name"]
    crowd = Storm(server.base, name, storm, args.storm_interval) if storm else None
    if crowd:
        await crowd.start()
    polls: list[float] = []
    while True:
        sent = time.perf_counter()
        response = await client.get(f"{server.base}/v1beta/{name}")
        polls.append(time.perf_counter() - sent)
        operation = response.json()
        if operation.get("done"):
            break
        await asyncio.sleep(args.poll)
    seen_wall, seen = time.time(), time.perf_counter()
    if crowd:
        await crowd.stop()
    if "error" in operation:
        raise RuntimeError(f"the operation failed: {operation['error']}")
    uri = operation["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
    parts = urlsplit(uri)  # https://host/...: the SDKs send it to their own base URL, and so does this client
    fetch = time.perf_counter()
    response = await client.get(f"{server.base}{parts.path}?{parts.query}")
    if response.status_code != 200:
        raise RuntimeError(f"download answered {response.status_code}: {response.text[:300]}")
    download = time.perf_counter() - fetch
    # With a crowd, waiting for its last batch is not part of the job: the download is added to the time seen.
    create, done = server_times(data_dir, name.rsplit("/", 1)[-1])
    return {
        "seconds": (seen - started) + download,
        "submit": create - wall0,  # POST sent -> the row committed
        "job": done - create,  # queued -> claimed -> rendered, encoded, signed, stored -> done
        "notice": seen_wall - done,  # done -> the poller saw it
        "download": download,
        "polls": polls,
        "name": name,
        "mp4": response.content,
        "storm": crowd,
    }


# -- measurement helpers -----------------------------------------------------------------------------------------------


def cpu_seconds(pid: int | str) -> float:
    """utime + stime of a process and its live children: genserve runs jobs in an operation worker process."""
    pids = [pid] if pid == "self" else [pid, *children(pid)]
    total = 0.0
    for each in pids:
        with contextlib.suppress(OSError):  # a child may exit meanwhile
            fields = _stat(each)
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and _stat(entry.name)[1] == str(pid):
                found.append(int(entry.name))
    return found


def _stat(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # [state, ppid, ...]


def machine_busy_seconds() -> float:
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def frames_of(mp4: bytes) -> list[Any]:
    import av
    import numpy as np

    with av.open(io.BytesIO(mp4)) as container:
        return [np.asarray(f.to_image(), dtype=np.float64) for f in container.decode(container.streams.video[0])]


def psnr(a: bytes, b: bytes) -> float:
    """The worst frame's PSNR between two MP4s' decoded frames (nan: other count or size)."""
    import numpy as np

    fa, fb = frames_of(a), frames_of(b)
    if len(fa) != len(fb) or fa[0].shape != fb[0].shape:
        return float("nan")
    worst = max(float(((x - y) ** 2).mean()) for x, y in zip(fa, fb, strict=True))
    return float("inf") if worst == 0 else float(10 * np.log10(255**2 / worst))


def same_work(runs: dict[str, list[dict[str, Any]]]) -> dict[str, float | None]:
    """genserve's last MP4 against the direct MP4 of the same seed and, as the floor, of another seed. encode_mp4
    is not bit-reproducible (two encodes of the same frames differ a little), and this model draws noise-like
    pictures that H.264 keeps poorly, so MP4s are compared with MP4s, not with the frames before encoding."""
    server, direct = runs["server"][-1]["mp4"], runs["direct"]
    return {
        "server": psnr(server, direct[-1]["mp4"]),
        "other_seed": psnr(server, direct[0]["mp4"]) if len(direct) > 1 else None,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def overhead_probe(mp4: bytes, scratch: Path, repeats: int = 5) -> dict[str, float]:
    """genserve's work on a finished clip that the direct side does not do, timed alone here (median seconds):
    the C2PA signature of the MP4 and writing it to the blob store (hash, write, fsync, rename)."""
    from genserve.composition import build_provenance
    from genserve.settings import Settings
    from genserve.storage.blobs import LocalBlobStore

    stamper = build_provenance(Settings(data_dir=scratch))()
    stamper.sign(mp4, "video/mp4", model=MODEL)  # the first call creates the local certificate
    store = LocalBlobStore(scratch / "blobs")

    sign, store_s = [], []
    for i in range(repeats):
        started = time.perf_counter()
        signed = stamper.sign(mp4, "video/mp4", model=MODEL)
        signed_at = time.perf_counter()
        await store.put(f"probe{i}", signed)
        sign.append(signed_at - started)
        store_s.append(time.perf_counter() - signed_at)
    return {"sign": statistics.median(sign), "store": statistics.median(store_s), "signed_bytes": len(signed)}


def wait_quiet(limit_s: float, threshold: float = 1.0) -> str:
    """Waits (checking every 30 s, at most `limit_s`) for the 1-minute load average to fall below `threshold`."""
    deadline = time.monotonic() + limit_s
    while True:
        load = os.getloadavg()[0]
        if load < threshold:
            return f"quiet (load {load:.2f})"
        if time.monotonic() >= deadline:
            return f"**not quiet**: load {load:.2f} after waiting {limit_s:.0f} s"
        log(f"waiting for a quiet machine: load average {load:.2f} ...")
        time.sleep(30)


# -- the run -----------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="bench", help="tiny: a smoke test (seconds)")
    parser.add_argument("--scale", type=float, default=0.25, help="catalog video_scale: 720p × this")
    parser.add_argument("--duration", type=int, default=2, help="durationSeconds (24 frames a second)")
    parser.add_argument("--steps", type=int, default=10, help="denoising steps (catalog options.steps)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between a client's operation GETs")
    parser.add_argument("--storm", type=int, default=200, help="concurrent GETs per burst while a job runs")
    parser.add_argument(
        "--storm-interval", type=float, default=1.0, help="seconds from one burst's start to the next (0: back to back)"
    )
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="S", help="wait up to S s for load < 1.0")
    parser.add_argument("--model-dir", type=Path, default=Path(tempfile.gettempdir()) / "genserve-bench-video")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"  # before diffusers is imported; the server inherits it
    return asyncio.run(run(args))


async def run(args: argparse.Namespace) -> int:
    import httpx
    import torch
    from diffusers import DiffusionPipeline

    torch.set_num_threads(args.threads)  # the server gets the same count through the catalog's options.threads
    model = ensure_model(args.model_dir, args.preset)
    pipe = DiffusionPipeline.from_pretrained(model, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    geo = geometry(pipe, args)
    scratch = Path(tempfile.mkdtemp(prefix="genserve-bench-video-"))
    catalog, data_dir = scratch / "catalog.toml", scratch / "data"
    write_catalog(catalog, model, args)
    server = _http.genserve_server(catalog, data_dir, scratch / "server.log")
    server.start()
    log(f"server: up on port {server.port}")
    quiet = wait_quiet(args.wait_quiet) if args.wait_quiet else None
    load_before = os.getloadavg()
    try:
        async with httpx.AsyncClient(timeout=None, headers={"x-goog-api-key": "bench"}) as client:
            log("warm-up: one direct call, one job (the server loads the model on its first job) ...")
            direct_call(pipe, args, geo, SEED)
            await server_job(client, server, data_dir, SEED, args)
            report = await measure(pipe, client, server, data_dir, geo, args)
        report["server_rss"] = server.peak_rss()
        report["worker_rss"] = max((_http.vm_hwm_bytes(c) or 0 for c in children(server.proc.pid)), default=None)
    finally:
        server.stop()
    report.update(
        model=describe(pipe, args.preset),
        guidance=inspect.signature(pipe.__call__).parameters["guidance_scale"].default,
        geo=geo,
        load_before=load_before,
        load_after=os.getloadavg(),
        quiet=quiet,
        direct_rss=_http.vm_hwm_bytes(os.getpid()),
        probe=await overhead_probe(report["direct_mp4"], scratch / "probe"),
        same=same_work(report["runs"]),
    )
    # The MP4s and the database go; the server's log is kept beside the model.
    shutil.copy(scratch / "server.log", args.model_dir / "server.log")
    shutil.rmtree(scratch, ignore_errors=True)
    log(f"server log: {args.model_dir / 'server.log'}")
    log("")
    log(render(report, args))
    return 0


async def measure(pipe: Any, client: Any, server: _http.Server, data_dir: Path, geo: dict, args) -> dict[str, Any]:
    """Each repeat runs direct, genserve and genserve under the polling storm back to back, in an order that
    rotates, so that drift in the machine's speed hits every row alike; a short pause after each lets OpenMP
    threads stop spinning."""
    keys = ("direct", "server", "storm")
    runs: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    pids = (("self", "self"), ("server", server.proc.pid))

    async def timed(key: str, call: Any) -> dict[str, Any]:
        before = {name: cpu_seconds(pid) for name, pid in pids}
        busy, started = machine_busy_seconds(), time.perf_counter()
        result = await call()
        wall = time.perf_counter() - started
        cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids}
        others = machine_busy_seconds() - busy - sum(cpu.values())
        # CPU is divided by `wall`, not by the job's end-to-end time: the CPU counted also covers what that time leaves
        # out (the storm's last batch, the database read).
        result.update(cpu=cpu, wall=wall, others=others / (wall * (os.cpu_count() or 1)))
        runs[key].append(result)
        await asyncio.sleep(0.5)
        return result

    async def direct(seed: int) -> dict[str, Any]:
        return direct_call(pipe, args, geo, seed)

    for r in range(args.repeats):
        seed = SEED + r
        calls = {
            "direct": lambda s=seed: direct(s),
            "server": lambda s=seed: server_job(client, server, data_dir, s, args),
            "storm": lambda s=seed: server_job(client, server, data_dir, s, args, storm=args.storm),
        }
        # The order rotates each repeat (a Latin square over 3): this VM's speed drifts by 10-20 % over minutes,
        # and a fixed order would charge that drift to whichever run always comes last.
        done = {key: await timed(key, calls[key]) for key in keys[r % 3 :] + keys[: r % 3]}
        d, s, p = done["direct"], done["server"], done["storm"]
        crowd = p["storm"]
        log(
            f"  {r + 1}/{args.repeats}: direct {d['seconds']:.2f} s, genserve {s['seconds']:.2f} s, genserve with "
            f"{crowd.batches} bursts of {args.storm} GETs {p['seconds']:.2f} s (p95 GET "
            f"{percentile(crowd.latencies, 0.95) * 1000:.0f} ms)"
        )
    # The same storm against the finished operation with no job running: what polling costs the server alone.
    idle = Storm(server.base, runs["server"][-1]["name"], args.storm, 0)
    before = {name: cpu_seconds(pid) for name, pid in pids}
    started = time.perf_counter()
    await idle.run(IDLE_BATCHES)
    idle_wall = time.perf_counter() - started
    cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids}
    return {
        "runs": runs,
        "direct_mp4": runs["direct"][-1]["mp4"],
        "idle": {"storm": idle, "seconds": idle_wall, "cpu": cpu},
    }


# -- the report --------------------------------------------------------------------------------------------------------


def render(report: dict[str, Any], args: argparse.Namespace) -> str:
    runs, geo, probe, same, idle = report["runs"], report["geo"], report["probe"], report["same"], report["idle"]

    def clean(key: str) -> list[dict[str, Any]]:
        # Runs during which other processes took the CPUs are left out, unless that would leave none.
        return [run for run in runs[key] if run["others"] <= DISTURBED] or runs[key]

    def med(key: str, field: str = "seconds") -> float:
        return statistics.median(run[field] for run in clean(key))

    def values(key: str) -> str:
        return ", ".join(f"{run['seconds']:.2f}" + ("*" if run["others"] > DISTURBED else "") for run in runs[key])

    def cores(key: str, process: str) -> float:
        return statistics.median(run["cpu"][process] / run["wall"] for run in clean(key))

    def verdict(ok: bool) -> str:
        return "**PASS**" if ok else "**FAIL**"

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f}" if seconds < 0.01 else f"{seconds * 1000:.0f}"

    latencies = [x for run in clean("storm") for x in run["storm"].latencies]
    errors = sum(run["storm"].errors for run in clean("storm"))
    storm_rps = len(latencies) / sum(run["seconds"] for run in clean("storm"))
    polls = [x for run in clean("server") for x in run["polls"]]
    e2e, storm_ratio = med("server") / med("direct"), med("storm") / med("server")
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    idle_storm = idle["storm"]
    idle_count = len(idle_storm.latencies)
    every = [run for key in runs for run in runs[key]]
    disturbed = sum(run["others"] > DISTURBED for run in every)
    unusable = [key for key in runs if all(run["others"] > DISTURBED for run in runs[key])]
    machine = report["quiet"] or f"load average {report['load_before'][0]:.2f} at the start"
    machine += f", {report['load_after'][0]:.2f} at the end; {disturbed} of {len(every)} timed runs had other "
    machine += f"processes take over {DISTURBED:.0%} of the CPUs (marked *, left out of the medians)"
    machine += f" (**busy: every {', '.join(unusable)} run was disturbed; ratios unreliable**)" if unusable else ""
    extra = med("server", "job") - med("direct")
    lines = [
        f"### Video generation, {dt.datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"Command: `{' '.join(['.venv/bin/python benchmarks/video_generation.py', *sys.argv[1:]])}`.",
        f"Model: {report['model']}; float32, {args.steps} denoising steps, guidance {report['guidance']} (the "
        f"pipeline's default: 2 transformer rows per step), {args.threads} torch threads on both sides.",
        f"Video: `720p` 16:9 × video_scale {args.scale} = {geo['width']}×{geo['height']}, durationSeconds "
        f"{args.duration} = {geo['frames']} frames at {FPS} fps (rendered at {geo['render_width']}×"
        f"{geo['render_height']}, {geo['render_frames']} frames, then cut and resized, on both sides); H.264 CRF 18.",
        f"Method: {args.repeats} repeats, interleaved (direct, genserve, genserve under the polling storm, the order "
        "rotating each repeat); medians. "
        f"genserve = `POST :predictLongRunning` → `GET` the operation every {args.poll} s until done → download the "
        f"MP4, timed by the client. Machine: {machine}.",
        "",
        "| measurement | median | runs / detail | target | result |",
        "|---|---|---|---|---|",
        f"| direct: diffusers `LTXPipeline` in-process + cut/resize + `encode_mp4` | {med('direct'):.2f} s | "
        f"{values('direct')} | | |",
        f"| ↳ pipeline / cut+resize / encode | {med('direct', 'pipeline'):.2f} s / {ms(med('direct', 'resize'))} ms / "
        f"{ms(med('direct', 'encode'))} ms | | | |",
        f"| genserve: POST → poll → done → download | {med('server'):.2f} s | {values('server')} | | |",
        f"| ↳ POST → row committed / job (queued → done, server's DB) / done → poller saw it / download | "
        f"{ms(med('server', 'submit'))} ms / {med('server', 'job'):.2f} s / {ms(med('server', 'notice'))} ms / "
        f"{ms(med('server', 'download'))} ms | | | |",
        f"| genserve under the polling storm ({args.storm} concurrent GETs a burst, a burst every "
        f"{args.storm_interval:g} s) | "
        f"{med('storm'):.2f} s | {values('storm')} | | |",
        f"| ↳ POST → row committed / job (queued → done, server's DB) / done → poller saw it / download | "
        f"{ms(med('storm', 'submit'))} ms / {med('storm', 'job'):.2f} s / {ms(med('storm', 'notice'))} ms / "
        f"{ms(med('storm', 'download'))} ms | | | |",
        f"| **genserve ÷ direct** | **{e2e:.3f}** | {med('server'):.2f} ÷ {med('direct'):.2f} | ≤ {E2E_TARGET} | "
        f"{verdict(e2e <= E2E_TARGET)} |",
        f"| **operation GET latency under the storm**, p50 / p95 | {ms(p50)} / **{ms(p95)} ms** | "
        f"{len(latencies)} GETs, {storm_rps:.0f} answered/s, {errors} errors | p95 < {ms(P95_TARGET_S)} ms | "
        f"{verdict(p95 < P95_TARGET_S)} |",
        f"| **job under the storm ÷ without** | **{storm_ratio:.3f}** | {med('storm'):.2f} ÷ {med('server'):.2f} | "
        f"≤ {POLLING_TARGET} | {verdict(storm_ratio <= POLLING_TARGET)} |",
        "",
        f"- The job inside the server (queued → done) took {extra * 1000:+.0f} ms against the direct call. Of "
        f"genserve's own work on the finished clip, timed alone: C2PA signature of the "
        f"{probe['signed_bytes'] / 1024:.0f} KiB MP4 {ms(probe['sign'])} ms, blob store write {ms(probe['store'])} ms.",
        f"- Polling: a lone poller's GET takes p50 {ms(percentile(polls, 0.5))} ms, p95 "
        f"{ms(percentile(polls, 0.95))} ms ({len(polls) / len(runs['server']):.0f} GETs a job). The same storm "
        f"against the finished operation with no job running: p50 {ms(percentile(idle_storm.latencies, 0.5))} ms, "
        f"p95 {ms(percentile(idle_storm.latencies, 0.95))} ms, {idle_count / idle['seconds']:.0f} answered/s, "
        f"{idle['cpu']['server'] / max(idle_count, 1) * 1000:.1f} ms of server CPU a GET; the server kept "
        f"{idle['cpu']['server'] / idle['seconds']:.2f} cores busy and the client "
        f"{idle['cpu']['self'] / idle['seconds']:.2f}.",
        "- Cores kept busy (CPU-s ÷ wall-s): the server and its operation worker "
        f"{cores('server', 'server'):.2f} during a job, "
        f"{cores('storm', 'server'):.2f} during a job under the storm; the storm's client (this process, on the same "
        f"cores) {cores('storm', 'self'):.2f}; the direct call {cores('direct', 'self'):.2f}.",
        "- Same work on both sides: genserve's MP4 and the direct MP4 of the same seed decode to a worst-frame PSNR "
        f"of {same['server']:.1f} dB"
        + (" (identical frames)" if same["server"] == float("inf") else "")
        + ("" if same["other_seed"] is None else f" (against another seed's: {same['other_seed']:.1f} dB)")
        + "; encode_mp4 is not bit-reproducible, so two encodes of the same frames differ a little.",
        f"- Peak RSS (VmHWM): genserve server {_gb(report['server_rss'])}, its operation worker (the video model) "
        f"{_gb(report['worker_rss'])}, this process (direct pipeline and the "
        f"clients) {_gb(report['direct_rss'])}.",
    ]
    return "\n".join(lines)


def _gb(size: int | None) -> str:
    return "–" if size is None else f"{size / 1e9:.2f} GB"


if __name__ == "__main__":
    sys.exit(main())
