"""Image generation: genserve's :predict against the same diffusers pipeline in-process, and sampleCount 4 vs 4 × 1."""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import inspect
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _http  # noqa: E402
from _build import build_once  # noqa: E402

MODEL = "bench-sd"
PROMPT = "a lighthouse on a rocky coast at dusk, oil painting"
SEED = 1234
LATENCY_TARGET, BATCH_TARGET = 1.05, 0.8
DISTURBED = 0.05  # share of the CPUs other processes may take during a timed call before it is flagged
BUILD_VERSION = "1"
# Stable Diffusion 1.5's shapes ("full") and a variant with every width halved ("half"): the UNet and VAE keep
# their depth, block types and SD's 8 attention heads, so the work has the same structure with about 1/4 of the
# convolution and projection FLOPs (the attention maps keep their size, so at 512² the saving is smaller).
SCALES: dict[str, dict[str, Any]] = {
    "full": {"unet": (320, 640, 1280, 1280), "vae": (128, 256, 512, 512), "text": (768, 12, 12, 3072)},
    "half": {"unet": (160, 320, 640, 640), "vae": (64, 128, 256, 256), "text": (512, 6, 8, 2048)},
}


def log(msg: str) -> None:
    print(msg, flush=True)


# -- the model ---------------------------------------------------------------------------------------------------------


def build_pipeline(target: Path, scale: str) -> None:
    """A random SD-1.5-architecture pipeline written with `save_pretrained`, so both sides load it from disk."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from genserve.demo.image import CLIP_MAX_TOKENS, build_clip_tokenizer

    shapes = SCALES[scale]
    hidden, layers, heads, ffn = shapes["text"]
    tokenizer = build_clip_tokenizer()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # the same weights on every build
        unet = UNet2DConditionModel(
            sample_size=64,
            block_out_channels=shapes["unet"],
            layers_per_block=2,
            down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
            cross_attention_dim=hidden,
            attention_head_dim=8,
        )
        vae = AutoencoderKL(
            block_out_channels=shapes["vae"],
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            layers_per_block=2,
            latent_channels=4,
            sample_size=512,
        )
        text_config = CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            intermediate_size=ffn,
            max_position_embeddings=CLIP_MAX_TOKENS,
            hidden_act="quick_gelu",
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        text_encoder = CLIPTextModel(text_config)
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(target)


def ensure_model(model_dir: Path, scale: str) -> Path:
    target = model_dir / f"sd15-{scale}"
    started = time.perf_counter()
    if build_once(target, BUILD_VERSION, lambda: build_pipeline(target, scale)):
        log(f"model: built {target} in {time.perf_counter() - started:.0f} s")
    else:
        log(f"model: reusing {target}")
    return target


def describe(pipe: Any, scale: str) -> str:
    def millions(module: Any) -> str:
        return f"{sum(p.numel() for p in module.parameters()) / 1e6:.0f}M"

    hidden, layers, _, _ = SCALES[scale]["text"]
    return (
        f"random SD-1.5 architecture, {scale} scale: UNet {SCALES[scale]['unet']} {millions(pipe.unet)}, "
        f"VAE {SCALES[scale]['vae']} {millions(pipe.vae)}, CLIP text {hidden}×{layers} {millions(pipe.text_encoder)}"
        ", EulerDiscreteScheduler"
    )


# -- the two sides -----------------------------------------------------------------------------------------------------


def direct_call(pipe: Any, args: argparse.Namespace, seed: int, count: int = 1) -> tuple[float, list[Any]]:
    """What the engine asks of diffusers, without genserve: same steps, size and per-image CPU generators."""
    import torch

    generator = [torch.Generator("cpu").manual_seed(seed + i) for i in range(count)]
    started = time.perf_counter()
    images = pipe(
        prompt=PROMPT,
        num_images_per_prompt=count,
        generator=generator,
        num_inference_steps=args.steps,
        width=args.size,
        height=args.size,
        output_type="pil",
    ).images
    return time.perf_counter() - started, images


class ComponentClock:
    """Seconds the direct pipeline spends in its text encoder, UNet and VAE decoder (wrappers cost microseconds)."""

    PARTS = (("text encoder", "text_encoder", "forward"), ("UNet", "unet", "forward"), ("VAE decode", "vae", "decode"))

    def __init__(self, pipe: Any) -> None:
        self.seconds: dict[str, float] = dict.fromkeys((name for name, _, _ in self.PARTS), 0.0)
        for name, component, method in self.PARTS:
            module = getattr(pipe, component)
            setattr(module, method, self._timed(name, getattr(module, method)))

    def _timed(self, name: str, fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started

        return timed

    def take(self) -> dict[str, float]:
        taken, self.seconds = self.seconds, dict.fromkeys(self.seconds, 0.0)
        return taken


def predict(client: Any, base: str, count: int, seed: int, size: int) -> tuple[float, list[Any]]:
    from PIL import Image

    body = {
        "instances": [{"prompt": PROMPT}],
        "parameters": {"sampleCount": count, "aspectRatio": "1:1", "seed": seed},
    }
    started = time.perf_counter()
    response = client.post(f"{base}/v1beta/models/{MODEL}:predict", json=body)
    elapsed = time.perf_counter() - started  # the whole body is read: base64 transfer is part of the request
    if response.status_code != 200:
        raise RuntimeError(f"genserve answered {response.status_code}: {response.text[:500]}")
    predictions = response.json().get("predictions") or []
    images = [Image.open(io.BytesIO(base64.b64decode(p["bytesBase64Encoded"]))) for p in predictions]
    if len(images) != count or any(image.size != (size, size) for image in images):
        raise RuntimeError(f"asked for {count} images, got {[image.size for image in images]}")
    return elapsed, images


def write_catalog(path: Path, model: Path, args: argparse.Namespace) -> None:
    path.write_text(
        f'[[models]]\nname = "{MODEL}"\nengine = "diffusers"\npath = "{model}"\n'
        f"image_scale = {args.size / 1024}\nmax_sample_count = 4\ndefault_sample_count = 1\n"
        f'options = {{ steps = {args.steps}, dtype = "float32", threads = {args.threads} }}\n'
    )


# -- measurement helpers -----------------------------------------------------------------------------------------------


def psnr(a: Any, b: Any) -> float:
    import numpy as np

    diff = np.asarray(a.convert("RGB"), dtype=np.float64) - np.asarray(b.convert("RGB"), dtype=np.float64)
    mse = float((diff**2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def cpu_seconds(pid: int | str) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def machine_busy_seconds() -> float:
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def overhead_probe(image: Any, sizes: list[int], data_dir: Path, repeats: int = 3) -> dict[int, dict[str, float]]:
    """genserve's per-image work after the pipeline, timed alone in this process (median seconds), per image size."""
    from PIL import Image

    from genserve.composition import build_provenance
    from genserve.settings import Settings

    def timed(fn: Any) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    def png(picture: Any) -> bytes:
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        return buffer.getvalue()

    stamper = build_provenance(Settings(data_dir=data_dir))()
    stamper.stamp_image(image, mime="image/png", model=MODEL)  # the first call creates the local certificate
    results = {}
    for size in sizes:
        # The benchmark's own picture, resized: the same noise-like content the random model draws, at this size.
        picture = image.resize((size, size), Image.Resampling.LANCZOS)
        stamped = stamper.stamp_image(picture, mime="image/png", model=MODEL)
        results[size] = {
            "png": timed(lambda p=picture: png(p)),
            "stamp": timed(lambda p=picture: stamper.stamp_image(p, mime="image/png", model=MODEL)),
            "base64": timed(lambda b=stamped: base64.b64encode(b)),
            "kib": len(stamped) / 1024,
        }
    return results


# -- the run -----------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="half")
    parser.add_argument("--size", type=int, default=256, help="output width = height in pixels (multiple of 8)")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--skip-batch", action="store_true", help="measure only genserve ÷ direct (the first target)")
    parser.add_argument("--model-dir", type=Path, default=Path(tempfile.gettempdir()) / "genserve-bench-image")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"  # before diffusers is imported; the server inherits it
    load_before = os.getloadavg()

    import httpx
    import torch
    from diffusers import DiffusionPipeline

    torch.set_num_threads(args.threads)  # the server gets the same count through the catalog's options.threads
    model = ensure_model(args.model_dir, args.scale)
    pipe = DiffusionPipeline.from_pretrained(model, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    scratch = Path(tempfile.mkdtemp(prefix="genserve-bench-image-"))
    catalog = scratch / "catalog.toml"
    write_catalog(catalog, model, args)
    server = _http.genserve_server(catalog, scratch / "data", scratch / "server.log")
    server.start()
    log(f"server: up on port {server.port} (log {scratch / 'server.log'})")
    clock = ComponentClock(pipe)
    try:
        with httpx.Client(timeout=None, headers={"x-goog-api-key": "bench"}) as client:
            log("warm-up: one direct call, one request (the server loads the model on its first request) ...")
            direct_call(pipe, args, SEED)
            predict(client, server.base, 1, SEED, args.size)
            clock.take()
            busy, ours = machine_busy_seconds(), cpu_seconds("self") + cpu_seconds(server.proc.pid)
            started = time.perf_counter()
            report = measure(pipe, clock, client, server, args)
            wall = time.perf_counter() - started
            others = machine_busy_seconds() - busy - (cpu_seconds("self") + cpu_seconds(server.proc.pid) - ours)
        report["server_rss"] = server.peak_rss()
    finally:
        server.stop()
    report.update(
        model=describe(pipe, args.scale),
        guidance=inspect.signature(pipe.__call__).parameters["guidance_scale"].default,
        others_share=others / (wall * (os.cpu_count() or 1)),
        load_before=load_before,
        direct_rss=_http.vm_hwm_bytes(os.getpid()),
        probe=overhead_probe(report.pop("direct_image"), sorted({args.size, 512}), scratch / "probe"),
    )
    log("")
    log(render(report, args))
    return 0


def measure(
    pipe: Any, clock: ComponentClock, client: Any, server: _http.Server, args: argparse.Namespace
) -> dict[str, Any]:
    """Both targets, each side by side and interleaved, so that drift in the machine's speed hits every row alike.

    After each call a short pause lets the other process's OpenMP threads stop spinning before the next one."""
    keys = ("direct", "server", "direct_batch", "direct_sequential", "batch", "sequential")
    runs: dict[str, list[float]] = {key: [] for key in keys}
    disturbed: dict[str, list[bool]] = {key: [] for key in keys}
    parts: dict[str, list[dict[str, float]]] = {"direct_batch": [], "direct_sequential": []}
    # CPU seconds of each process while each side is timed: the idle side must burn none (the two must not slow
    # each other down), and the busy side's CPU ÷ wall time says how many cores its threads kept busy.
    cpu = {(side, process): 0.0 for side in ("direct", "server") for process in ("self", "server")}

    def run(key: str, calls: list[Any]) -> list[Any]:
        side = "direct" if key.startswith("direct") else "server"
        before = {process: cpu_seconds(pid) for process, pid in (("self", "self"), ("server", server.proc.pid))}
        busy, started = machine_busy_seconds(), time.perf_counter()
        results = [call() for call in calls]
        ours = 0.0
        for process, pid in (("self", "self"), ("server", server.proc.pid)):
            cpu[side, process] += cpu_seconds(pid) - before[process]
            ours += cpu_seconds(pid) - before[process]
        others = (machine_busy_seconds() - busy - ours) / ((time.perf_counter() - started) * (os.cpu_count() or 1))
        disturbed[key].append(others > DISTURBED)
        runs[key].append(sum(seconds for seconds, _ in results))
        if key in parts:
            parts[key].append(clock.take())
        time.sleep(0.5)
        return [image for _, images in results for image in images]

    def direct(seed: int, count: int = 1) -> Any:
        return lambda: direct_call(pipe, args, seed, count)

    def remote(seed: int, count: int = 1) -> Any:
        return lambda: predict(client, server.base, count, seed, args.size)

    for r in range(args.repeats):
        [direct_image] = run("direct", [direct(SEED + r)])
        [server_image] = run("server", [remote(SEED + r)])
        log(f"  latency {r + 1}/{args.repeats}: direct {runs['direct'][-1]:.2f} s, genserve {runs['server'][-1]:.2f} s")
    clock.take()
    batch_same = None
    for r in range(0 if args.skip_batch else args.repeats):
        seed = SEED + 100 * (r + 1)  # image i of a batch uses seed + i, as the i-th single request does
        run("direct_batch", [direct(seed, 4)])
        run("direct_sequential", [direct(seed + i) for i in range(4)])
        batch = run("batch", [remote(seed, 4)])
        singles = run("sequential", [remote(seed + i) for i in range(4)])
        batch_same = min(psnr(a, b) for a, b in zip(batch, singles, strict=True))
        log(
            f"  sampleCount 4 vs 4 × 1, {r + 1}/{args.repeats}: direct {runs['direct_batch'][-1]:.2f} vs "
            f"{runs['direct_sequential'][-1]:.2f} s, genserve {runs['batch'][-1]:.2f} vs {runs['sequential'][-1]:.2f} s"
        )
    return {
        "runs": runs,
        "disturbed": disturbed,
        "parts": parts,
        "cpu": cpu,
        "same_picture": psnr(direct_image, server_image),
        "batch_same": batch_same,
        "direct_image": direct_image,
    }


def render(report: dict[str, Any], args: argparse.Namespace) -> str:
    runs = report["runs"]
    med = {key: statistics.median(values) for key, values in runs.items() if values}
    probe = report["probe"]

    def row(label: str, key: str) -> list[str]:
        flags = report["disturbed"][key]
        values = ", ".join(f"{v:.2f}" + ("*" if hit else "") for v, hit in zip(runs[key], flags, strict=True))
        return [f"| {label} | {med[key]:.2f} | {values} |"] if key in med else []

    def target(label: str, limit: float, top: str, bottom: str) -> list[str]:
        if top not in med:
            return [f"| {label} ≤ {limit} | not measured (--skip-batch) | |"]
        ratio = med[top] / med[bottom]
        result = "**PASS**" if ratio <= limit else "**FAIL**"
        return [f"| {label} ≤ {limit} | {med[top]:.2f} ÷ {med[bottom]:.2f} = **{ratio:.3f}** | {result} |"]

    busy = report["others_share"]
    quiet = "quiet" if busy < DISTURBED else "**busy: other processes competed for the CPUs; ratios unreliable**"
    batch_same = report["batch_same"]
    lines = [
        f"### Image generation, {dt.datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"Command: `{' '.join(['.venv/bin/python benchmarks/image_generation.py', *sys.argv[1:]])}`.",
        f"Model: {report['model']}; float32, {args.size}×{args.size}, {_n(args.steps, 'step')}, guidance "
        f"{report['guidance']} (the pipeline's default: 2 UNet rows per image), {args.threads} torch threads on both "
        f"sides, {_n(args.repeats, 'repeat')}, interleaved.",
        f"Machine: load average {report['load_before'][0]:.2f} before the run; other processes used {busy:.0%} of the "
        f"CPUs during the timed runs ({quiet}).",
        "",
        f"| measurement | median (s) | runs (s; * = other processes took over {DISTURBED:.0%} of the CPUs) |",
        "|---|---|---|",
        *row("diffusers pipeline called in-process, 1 image", "direct"),
        *row("genserve `:predict`, sampleCount 1 (HTTP, PNG, provenance)", "server"),
        *row("genserve `:predict`, sampleCount 4, one request", "batch"),
        *row("genserve `:predict`, 4 sequential requests of sampleCount 1", "sequential"),
        *row("control: diffusers in-process, 4 images in one call", "direct_batch"),
        *row("control: diffusers in-process, 4 sequential calls of 1 image", "direct_sequential"),
        "",
        "| target | measured | result |",
        "|---|---|---|",
        *target("genserve ÷ direct, 1 image", LATENCY_TARGET, "server", "direct"),
        *target("sampleCount 4 ÷ 4 × sampleCount 1", BATCH_TARGET, "batch", "sequential"),
        *target("(control, not a target) the same in-process", BATCH_TARGET, "direct_batch", "direct_sequential"),
        "",
        *parts_table(report["parts"], runs),
        f"- Same work on both sides: the server's image and the direct one (same seed) differ by PSNR "
        f"{report['same_picture']:.1f} dB (the watermark)"
        + ("." if batch_same is None else f"; batched vs single images (same seeds): ≥ {batch_same:.1f} dB."),
        *(
            f"- genserve's work per {size}×{size} image after the pipeline, timed alone: PNG encode "
            f"{p['png'] * 1000:.0f} ms; provenance stamp (watermark, PNG, C2PA signature) {p['stamp'] * 1000:.0f} ms; "
            f"base64 of the {p['kib']:.0f} KiB result {p['base64'] * 1000:.1f} ms."
            for size, p in probe.items()
        ),
        cores_line(report),
        f"- Peak RSS (VmHWM): genserve server {_gb(report['server_rss'])}, this process (direct pipeline) "
        f"{_gb(report['direct_rss'])}.",
    ]
    return "\n".join(lines)


def parts_table(parts: dict[str, list[dict[str, float]]], runs: dict[str, list[float]]) -> list[str]:
    """Where the in-process control spends its time: mean seconds per run in each component."""
    if not parts["direct_batch"]:
        return []
    names = list(parts["direct_batch"][0])
    lines = [
        f"| in-process, 4 images (mean s) | {' | '.join(names)} | rest (scheduler, tensors → PIL) |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for key, label in (("direct_batch", "one call"), ("direct_sequential", "4 calls")):
        mean = {name: statistics.mean(run[name] for run in parts[key]) for name in names}
        cells = [f"{mean[name]:.2f}" for name in names]
        lines.append(f"| {label} | {' | '.join(cells)} | {statistics.mean(runs[key]) - sum(mean.values()):.2f} |")
    return [*lines, ""]


def cores_line(report: dict[str, Any]) -> str:
    cpu, runs = report["cpu"], report["runs"]
    wall = {"direct": 0.0, "server": 0.0}
    for key, values in runs.items():
        wall["direct" if key.startswith("direct") else "server"] += sum(values)
    return (
        f"- Cores kept busy (CPU-s ÷ wall-s): direct calls {cpu['direct', 'self'] / wall['direct']:.2f}, genserve "
        f"requests {cpu['server', 'server'] / wall['server']:.2f} (server process). CPU the idle side used meanwhile: "
        f"server {cpu['direct', 'server']:.1f} s during the direct calls, this process {cpu['server', 'self']:.1f} s "
        "during the requests."
    )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _gb(size: int | None) -> str:
    return "–" if size is None else f"{size / 1e9:.2f} GB"


if __name__ == "__main__":
    sys.exit(main())
