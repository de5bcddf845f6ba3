"""Server memory and refusal time under hostile prompts (issue 14): `python benchmarks/memory_burst.py`.

Starts `genserve serve --demo` on a free port, warms the text and embedding models with one small request each, then
sends N requests whose prompt is 19 MB of text (generateContent, countTokens and embedContent in turn), and prints the
server's RSS (VmRSS) before and after, its high-water mark, and how long a 19 MB prompt takes to be refused next to a
one-word request on the same server. With --veo N it also runs N Veo jobs one after another and prints the worker
process's RSS before and after each (the first one loads the video model, which the worker keeps for the next)."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _http import Server, free_port  # noqa: E402

HUGE = "word " * 4_000_000  # 19 MB: just under the 20 MB body limit


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def operation_worker(pid: int) -> int:
    """The server's spawned job process (multiprocessing also starts a resource tracker beside it)."""
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if "resource_tracker" not in Path(f"/proc/{child}/cmdline").read_text():
            return int(child)
    raise RuntimeError("no operation worker process")


def mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--veo", type=int, default=0, help="also run this many Veo jobs, measuring the worker process")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="gs-mem-"))
    port = free_port()
    argv = [
        str(Path(sys.executable).parent / "genserve"),
        "serve",
        "--demo",
        "--port",
        str(port),
        "--data-dir",
        str(data),
    ]
    server = Server("genserve", argv, {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}, data / "server.log", port=port)
    server.start()
    pid = server.proc.pid
    base = f"{server.base}/v1beta/models"
    routes = [
        (f"{base}/gemini-2.0-flash-lite:generateContent", lambda text: {"contents": text}),
        (f"{base}/gemini-2.0-flash-lite:countTokens", lambda text: {"contents": text}),
        (f"{base}/text-embedding-004:embedContent", lambda text: {"content": {"parts": [{"text": text}]}}),
    ]
    try:
        with httpx.Client(timeout=300) as client:
            for url, body in routes:  # load both models before the baseline
                client.post(url, json=body("hello")).raise_for_status()
            before = status_kb(pid, "VmRSS")
            small, huge, codes = [], [], {}
            for i in range(args.requests):
                url, body = routes[i % len(routes)]
                start = time.perf_counter()
                client.post(url, json=body("hello"))
                small.append(time.perf_counter() - start)
                start = time.perf_counter()
                r = client.post(url, json=body(HUGE))
                huge.append(time.perf_counter() - start)
                codes[r.status_code] = codes.get(r.status_code, 0) + 1
            after = status_kb(pid, "VmRSS")
            print(f"{args.requests} requests with a 19 MB prompt: statuses {codes}")
            peak = status_kb(pid, "VmHWM")
            print(f"server RSS before {mb(before)}, after {mb(after)} ({mb(after - before)} more), peak {mb(peak)}")
            slow, quick = statistics.median(huge), statistics.median(small)
            print(
                f"19 MB prompt answered in {slow * 1000:.0f} ms (median; max {max(huge) * 1000:.0f}) vs "
                f"{quick * 1000:.0f} ms for one word: {slow / quick:.1f}x"
            )
            if args.veo:
                worker = operation_worker(pid)
                print(f"operation worker RSS before any Veo job {mb(status_kb(worker, 'VmRSS'))}")
            for job in range(args.veo):
                body = {"instances": [{"prompt": "a cat"}]}
                name = client.post(f"{base}/veo-2.0-generate-001:predictLongRunning", json=body).json()["name"]
                while not (op := client.get(f"{server.base}/v1beta/{name}").json()).get("done"):
                    time.sleep(1)
                outcome = "ok" if "response" in op else op.get("error")
                print(f"Veo job {job + 1}: {outcome}; worker RSS after it {mb(status_kb(worker, 'VmRSS'))}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
