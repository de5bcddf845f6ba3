"""Long-running video operations across real server processes: kill -9 and restart, cancel, keys, listing.

Each server here is `python -m genserve.cli.main serve --config <toml> --data-dir <dir> --port <port>` as a
subprocess, so that it can be killed with SIGKILL mid-job, the way a crash or an OOM kill ends it, and started
again on the same data directory. The catalog points two video models at the demo LTX-Video checkpoint (the
`demo_dir` fixture) with more denoising steps than the demo's two, so that a job is still rendering when the test
acts on it:
- `veo-steady` (60 steps, 5 s clips): a few seconds of work, so an interrupted job can be seen to run again;
- `veo-endless` (5000 steps): never finishes within a test; it is only ever interrupted or cancelled.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.live

GENSERVE = [sys.executable, "-m", "genserve.cli.main", "serve"]
STEADY, ENDLESS = "veo-steady", "veo-endless"
PROMPT = {"instances": [{"prompt": "a lighthouse in a storm"}], "parameters": {"durationSeconds": 5}}
WAIT_S = 90  # generous: two CPU cores may be shared with other work


def catalog_toml(demo_dir: Path, *, workers: int = 4) -> str:
    """[[models]] entries as genserve.demo.demo_catalog writes the Veo 2 demo model, with more steps."""

    def model(name: str, steps: int) -> str:
        return f"""
[[models]]
name = "{name}"
engine = "diffusers-video"
path = "{demo_dir / "video"}"
input_token_limit = 1024
output_token_limit = 1
video_scale = 0.125
max_sample_count = 2
default_sample_count = 1
video_inputs = ["image", "lastFrame"]
input_modalities = ["text", "image"]
output_modalities = ["video"]
options = {{ steps = {steps}, dtype = "float32" }}
"""

    return f"[server]\noperation_workers = {workers}\n" + model(STEADY, 60) + model(ENDLESS, 5000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One genserve process on a data directory; `start` again after `kill` for a restart."""

    def __init__(self, root: Path, demo_dir: Path, *, keys: tuple[str, ...] = (), workers: int = 4) -> None:
        self.root = root
        self.config = root / "genserve.toml"
        self.config.write_text(catalog_toml(demo_dir, workers=workers))
        self.data_dir = root / "data"
        self.keys = keys
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.starts = 0

    def start(self) -> Server:
        port = free_port()
        self.starts += 1
        args = [*GENSERVE, "--config", str(self.config), "--data-dir", str(self.data_dir), "--port", str(port)]
        for key in self.keys:
            args += ["--api-key", key]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        with open(self.root / f"server-{self.starts}.log", "w") as log:  # the server keeps its own descriptor
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"the server did not start:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, exactly like a crash."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def log(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.root.glob("server-*.log")))

    def request(self, method: str, path: str, key: str = "k", **kwargs: Any) -> httpx.Response:
        headers = {"x-goog-api-key": key}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def submit(self, model: str, key: str = "k") -> str:
        r = self.request("POST", f"/v1beta/models/{model}:predictLongRunning", key, json=PROMPT)
        assert r.status_code == 200, r.text
        assert r.json()["name"].startswith(f"models/{model}/operations/"), r.json()
        return r.json()["name"]

    def poll(self, name: str, key: str = "k") -> dict[str, Any]:
        r = self.request("GET", f"/v1beta/{name}", key)
        assert r.status_code == 200, f"GET /v1beta/{name}: {r.status_code} {r.text}"
        return r.json()

    def wait_rendering(self, name: str, key: str = "k") -> dict[str, Any]:
        """Until the job is RUNNING and has finished a denoising step (the model is loaded and working)."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            operation = self.poll(name, key)
            assert not operation.get("done"), f"{name} ended before the test could act on it: {operation}"
            metadata = operation["metadata"]
            if metadata["state"] == "RUNNING" and metadata["stepsDone"] > 0:
                return operation
            time.sleep(0.1)
        raise AssertionError(f"{name} never started rendering\n{self.log()}")

    def wait_done(self, name: str, key: str = "k") -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Until done; also returns every not-done answer seen on the way."""
        seen = []
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            operation = self.poll(name, key)
            if operation.get("done"):
                return operation, seen
            seen.append(operation)
            time.sleep(0.2)
        last = seen[-1] if seen else None
        raise AssertionError(f"{name} is still not done after {WAIT_S} s (stuck?): {last}\n{self.log()}")


@pytest.fixture
def server(tmp_path: Path, demo_dir: Path) -> Iterator[Server]:
    s = Server(tmp_path, demo_dir)
    try:
        yield s
    finally:
        s.stop()


def download(server: Server, operation: dict[str, Any]) -> bytes:
    [sample] = operation["response"]["generateVideoResponse"]["generatedSamples"]
    uri = sample["video"]["uri"]
    match = re.search(r"/files/([a-z0-9]+):download", uri)
    assert match and uri.startswith("https://"), uri
    r = server.request("GET", f"/v1beta/files/{match.group(1)}:download?alt=media")
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4", (r.status_code, r.headers)
    return r.content


# ---------------------------------------------------------------------------------------------
# kill -9 and restart


def test_a_job_interrupted_by_a_crash_runs_again_after_the_restart(server: Server) -> None:
    server.start()
    name = server.submit(STEADY)
    before = server.wait_rendering(name)
    server.kill()

    server.start()  # same data directory, a new process
    operation, on_the_way = server.wait_done(name)
    assert "error" not in operation, f"the re-run failed: {operation['error']}\n{server.log()}"
    assert on_the_way, "the operation was reported done at once, yet its first run was killed mid-render"
    assert all(o["metadata"]["state"] in ("QUEUED", "RUNNING") for o in on_the_way), on_the_way
    from genserve.media.mp4 import read_mp4_info

    info = read_mp4_info(download(server, operation))
    assert (info["width"], info["height"], info["frames"], info["audio"]) == (160, 90, 120, None), info
    assert before["metadata"]["stepsTotal"] > 0


def test_a_job_interrupted_twice_ends_in_an_error_not_running_forever(server: Server) -> None:
    server.start()
    name = server.submit(ENDLESS)
    server.wait_rendering(name)
    server.kill()  # attempt 1 of 2

    server.start()
    rerun = server.wait_rendering(name)  # the server runs it again by itself
    assert rerun["metadata"]["state"] == "RUNNING", rerun
    server.kill()  # attempt 2 of 2: the last one

    server.start()
    operation, _ = server.wait_done(name)
    assert "response" not in operation, operation
    error = operation.get("error") or {}
    assert error.get("code") == 13, f"expected INTERNAL (13) for an interrupted job: {operation}"
    assert "interrupted by a server restart" in error.get("message", ""), error
    assert "2 attempts" in error["message"], error
    listed = server.request("GET", "/v1beta/operations").json()["operations"]
    assert [o["name"] for o in listed] == [name] and listed[0]["done"] is True, listed


# ---------------------------------------------------------------------------------------------
# cancel, keys and listing: one server with two API keys and one worker (so a job that does not really stop
# would hold the only slot, and the next job would never start)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("keyed"), demo_dir, keys=("a", "b"), workers=1)
    try:
        yield s.start()
    finally:
        s.stop()


def test_cancel_a_running_job(keyed: Server) -> None:
    name = keyed.submit(ENDLESS, key="a")
    keyed.wait_rendering(name, key="a")
    started = time.monotonic()
    r = keyed.request("POST", f"/v1beta/{name}:cancel", "a")
    took = time.monotonic() - started
    assert r.status_code == 200 and r.json() == {}, r.text
    assert took < 5, f"cancel took {took:.1f} s"
    operation = keyed.poll(name, key="a")
    assert operation.get("done") is True and operation["error"]["code"] == 1, operation  # google.rpc CANCELLED
    again = keyed.request("POST", f"/v1beta/{name}:cancel", "a")
    assert again.status_code == 400 and again.json()["error"]["status"] == "FAILED_PRECONDITION", again.text
    # The single worker slot is free again: a new job starts and finishes.
    follow_up = keyed.submit(STEADY, key="a")
    done, _ = keyed.wait_done(follow_up, key="a")
    assert "response" in done, f"the job after a cancel did not succeed: {done}"


def test_another_key_cannot_see_an_operation(keyed: Server) -> None:
    name = keyed.submit(STEADY, key="a")
    op_id = name.rpartition("/")[2]
    foreign = keyed.request("GET", f"/v1beta/{name}", "b")
    unknown = keyed.request("GET", f"/v1beta/models/{STEADY}/operations/0123456789ab", "b")
    assert foreign.status_code == unknown.status_code == 404, (foreign.text, unknown.text)
    # Indistinguishable from an id that does not exist: same status, the same message but for the id.
    assert foreign.json()["error"]["status"] == unknown.json()["error"]["status"] == "NOT_FOUND"
    assert foreign.json()["error"]["message"].replace(op_id, "ID") == unknown.json()["error"]["message"].replace(
        "0123456789ab", "ID"
    ), (foreign.json(), unknown.json())
    assert keyed.request("POST", f"/v1beta/{name}:cancel", "b").status_code == 404
    assert keyed.request("DELETE", f"/v1beta/{name}", "b").status_code == 404
    r = keyed.request("POST", f"/v1beta/models/{STEADY}:fetchPredictOperation", "b", json={"operationName": name})
    assert r.status_code == 404, r.text
    assert name not in [o["name"] for o in keyed.request("GET", "/v1beta/operations", "b").json().get("operations", [])]
    done, _ = keyed.wait_done(name, key="a")  # untouched by the other key's attempts
    assert "response" in done, done


def test_list_operations_newest_first_per_key(keyed: Server) -> None:
    first = keyed.submit(STEADY, key="b")
    second = keyed.submit(STEADY, key="b")
    r = keyed.request("GET", "/v1beta/operations", "b")
    assert r.status_code == 200, r.text
    names = [o["name"] for o in r.json()["operations"]]
    assert names[:2] == [second, first], names
    page = keyed.request("GET", "/v1beta/operations?pageSize=1", "b").json()
    assert [o["name"] for o in page["operations"]] == [second] and page["nextPageToken"], page
    rest = keyed.request("GET", f"/v1beta/operations?pageSize=1&pageToken={page['nextPageToken']}", "b").json()
    assert [o["name"] for o in rest["operations"]] == [first], rest
    for name in (first, second):
        keyed.wait_done(name, key="b")
    listed = {o["name"]: o for o in keyed.request("GET", "/v1beta/operations", "b").json()["operations"]}
    assert all(listed[n].get("done") is True and "response" in listed[n] for n in (first, second)), listed


# ---------------------------------------------------------------------------------------------
# the server keeps answering while a job gets going


def test_polls_are_not_held_up_while_a_fresh_server_loads_the_video_model(server: Server) -> None:
    """Polling an operation (and any other request) must not wait for a job's model to load: the README says
    polling reads only the database, and SDK loops poll on a timer."""
    server.start()
    slowest: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            started = time.monotonic()
            httpx.get(f"{server.url}/health", timeout=30)
            slowest.append(time.monotonic() - started)
            time.sleep(0.05)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    try:
        name = server.submit(STEADY)  # the first job: this process has not loaded the model yet
        server.wait_rendering(name)
    finally:
        stop.set()
        thread.join(timeout=40)
    assert max(slowest) < 1.0, (
        f"a request waited {max(slowest):.2f} s while the server loaded the video model for a job "
        f"({len(slowest)} probes, {sum(s > 1.0 for s in slowest)} over 1 s)"
    )


# ---------------------------------------------------------------------------------------------
# the operation worker process (operation_worker.py): jobs run beside the server, never without it


def worker_pids(server: Server) -> list[int]:
    return [int(pid) for pid in re.findall(r"operation worker started \(pid (\d+)\)", server.log())]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not reaped it yet


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_jobs_run_in_a_niced_worker_that_dies_with_the_server(server: Server) -> None:
    server.start()
    name = server.submit(ENDLESS)
    server.wait_rendering(name)
    [worker] = worker_pids(server)
    assert worker != server.proc.pid and alive(worker)
    assert os.getpriority(os.PRIO_PROCESS, worker) > os.getpriority(os.PRIO_PROCESS, server.proc.pid)
    server.kill()
    assert wait_until(lambda: not alive(worker), 5), "the worker outlived a server killed with SIGKILL"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_that_dies_is_replaced_and_its_job_runs_again(server: Server) -> None:
    server.start()
    name = server.submit(STEADY)
    server.wait_rendering(name)
    [first] = worker_pids(server)
    os.kill(first, signal.SIGKILL)  # e.g. the kernel's OOM killer
    assert wait_until(lambda: len(worker_pids(server)) == 2, 30), server.log()
    operation, _ = server.wait_done(name)
    assert "response" in operation, f"the job did not run again in the new worker: {operation}\n{server.log()}"
    assert server.proc.poll() is None, "the server itself kept running"
