"""Gemini CLI (`@google/gemini-cli` from npm, pinned in tests/contract/cli/package.json) run headless against genserve.

The CLI is a real agent: every prompt is a `streamGenerateContent?alt=sse` call carrying its own tools (read_file,
list_directory, ...), a 23-30k-character system instruction and a `thinkingConfig`; with no `--model` it first asks a
flash-lite model (JSON mode) how hard the prompt is and then picks a pro or flash model. The catalog here serves two
scripted models under every name the CLI 0.61.0 uses (see docs/gemini-cli.md), and an ASGI wrapper around the app
records what the CLI sent, so a test can check the `functionResponse` the CLI returned after running a tool.

How the CLI is run (each item read in the CLI's bundle and checked against a logging fake server):
- `GOOGLE_GEMINI_BASE_URL` + `GEMINI_API_KEY` point it at the server. With only those, headless runs stop with
  "Invalid auth method selected." (exit 41): the env selects auth type `gateway`, which the headless auth check does
  not accept. `security.auth.selectedType = "gemini-api-key"` in `$HOME/.gemini/settings.json` fixes that; the base
  URL still applies.
- `--skip-trust`: otherwise headless runs in an untrusted folder exit 55.
- `privacy.usageStatisticsEnabled = false`: otherwise it resolves play.googleapis.com (Clearcut) on every run.
- An isolated HOME, TMPDIR (error reports land there) and system-settings path; no proxy variables.

The npm package is installed by ./scripts/test. Without it these tests fail, never skip.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from genserve.core.catalog import Catalog, ModelEntry
from tests.conftest import LiveServer, make_settings

pytestmark = [pytest.mark.live, pytest.mark.contract]

CLI_DIR = Path(__file__).resolve().parents[1] / "contract" / "cli"
CLI_PACKAGE = CLI_DIR / "node_modules" / "@google" / "gemini-cli"
CLI_VERSION = "0.61.0"
TIMEOUT_S = 120

# Every model name gemini-cli 0.61.0 can send with gemini-api-key auth (config/models.js + modelConfigs in the bundle).
# The classifier ("How complex is this prompt?", JSON mode) goes to flash-lite; everything else to the agent.
ROUTER_NAMES = [
    "gemini-3.5-flash-lite",
    "gemini-3.1-flash-lite",
    "gemini-3.1-flash-lite-preview",
    "gemini-2.5-flash-lite",
]
AGENT_NAMES = [
    "gemini-3.1-pro-preview",
    "gemini-3.1-pro-preview-customtools",
    "gemini-3-pro-preview",
    "gemini-3.8-flash",
    "gemini-3.5-flash",
    "gemini-3-flash-preview",
    "gemini-3-flash",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemma-4-31b-it",
    "gemma-4-26b-a4b-it",
]

# $HOME/.gemini/settings.json for every run.
SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
    "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
    "ide": {"enabled": False},
}


def cli_catalog(agent_replies: list[list[str]]) -> Catalog:
    """A scripted agent under the CLI's main model names and a scripted router that scores every prompt simple.

    The CLI needs all three capabilities: tools on every chat turn, JSON mode (responseJsonSchema) for routing, and
    thinkingConfig (includeThoughts, with thinkingBudget 8192 or thinkingLevel HIGH) on every request. Its own
    prompt is long, hence the large input limit."""
    common: dict[str, Any] = {
        "engine": "scripted",
        "path": "-",
        "function_calling": True,
        "structured_output": True,
        "thinking": True,
        "input_token_limit": 1_048_576,
    }
    return Catalog(
        [
            ModelEntry(name="cli-agent", aliases=AGENT_NAMES, options={"replies": agent_replies}, **common),
            ModelEntry(
                name="cli-router",
                aliases=ROUTER_NAMES,
                options={"chunks": ['{"complexity_reasoning": "A greeting.", "complexity_score": 5}']},
                **common,
            ),
        ]
    )


class Recorder:
    """ASGI wrapper: keeps each request's method, path, query and body, and the response's status and body (capped)."""

    CAP = 1 << 20

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        entry: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "body": b"",
            "status": None,
            "response": b"",
        }
        self.requests.append(entry)

        async def recording_receive() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request" and len(entry["body"]) < self.CAP:
                entry["body"] += message.get("body", b"")
            return message

        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            elif message["type"] == "http.response.body" and len(entry["response"]) < self.CAP:
                entry["response"] += message.get("body", b"")
            await send(message)

        await self.app(scope, recording_receive, recording_send)

    def calls(self, method: str) -> list[dict[str, Any]]:
        """The recorded `:method` calls (generateContent, streamGenerateContent, ...), bodies parsed."""
        found = []
        for r in self.requests:
            if r["path"].endswith(f":{method}"):
                found.append({**r, "json": json.loads(r["body"]) if r["body"] else None})
        return found


class RecordingServer(LiveServer):
    """LiveServer with the Recorder around its app (swapped in before uvicorn loads the app)."""

    def __init__(self, tmp_path: Path, catalog: Catalog) -> None:
        data = tmp_path / "server-data"
        data.mkdir()
        super().__init__(make_settings(data), catalog)
        self.recorder = Recorder(self.server.config.app)
        self.server.config.app = self.recorder


class CliRun:
    def __init__(self, proc: subprocess.CompletedProcess[str], recorder: Recorder, tmp: Path) -> None:
        self.returncode, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr
        self.recorder, self.tmp = recorder, tmp

    def report(self) -> str:
        """What a failure message needs: exit code, output tails, and every request with genserve's answer."""
        lines = [
            f"gemini exited {self.returncode}",
            f"stdout:\n{self.stdout[-3000:]}",
            f"stderr:\n{self.stderr[-3000:]}",
            "requests genserve received:",
        ]
        for r in self.recorder.requests:
            lines.append(f"  {r['method']} {r['path']}{'?' + r['query'] if r['query'] else ''} -> {r['status']}")
            if r["status"] != 200:
                lines.append(f"    answer: {r['response'][:1500].decode(errors='replace')}")
        reports = sorted(p.name for p in self.tmp.glob("gemini-client-error-*.json"))
        if reports:
            lines.append(f"CLI error reports (full requests) in {self.tmp}: {reports}")
        return "\n".join(lines)


def run_gemini(
    server: RecordingServer, tmp_path: Path, *args: str, settings: dict[str, Any] = SETTINGS, timeout: int = TIMEOUT_S
) -> CliRun:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js 20+, then run ./scripts/test (npm install)")
    manifest = CLI_PACKAGE / "package.json"
    if not manifest.is_file():
        pytest.fail(
            f"{CLI_PACKAGE} is missing: run ./scripts/test (npm install), "
            "or: (cd tests/contract/cli && npm install --no-audit --no-fund)"
        )
    version = json.loads(manifest.read_text())["version"]
    if version != CLI_VERSION:
        pytest.fail(f"tests/contract/cli has @google/gemini-cli {version}, want {CLI_VERSION}: run npm install there")

    home, work, tmp = tmp_path / "home", tmp_path / "work", tmp_path / "tmp"
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    work.mkdir(exist_ok=True)
    tmp.mkdir(exist_ok=True)
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings))
    env = {
        "PATH": os.pathsep.join([str(Path(node).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "GEMINI_API_KEY": "genserve-test-key",
        "GOOGLE_GEMINI_BASE_URL": server.url,
        "GEMINI_CLI_SYSTEM_SETTINGS_PATH": str(tmp_path / "no-system-settings.json"),
    }
    cmd = [node, str(CLI_PACKAGE / "bundle" / "gemini.js"), "--skip-trust", *args]
    # Its own session: the CLI relaunches itself as a child node process, and a timeout must end both.
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        run = CliRun(subprocess.CompletedProcess(cmd, -9, stdout, stderr), server.recorder, tmp)
        pytest.fail(f"gemini did not finish in {timeout} s\n{run.report()}")
    return CliRun(subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), server.recorder, tmp)


def parts_of(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [p[key] for c in body.get("contents", []) for p in c.get("parts", []) if key in p]


def test_plain_prompt_with_the_default_model_routing(tmp_path: Path) -> None:
    """`gemini -p "Say hi"` as a user types it: the CLI routes (flash-lite, JSON mode), then streams from the model
    it chose. The agent thinks first (Hermes `<think>`): the thought goes back as a thought part, never printed."""
    reply = ["<think>", "The user greets me.", "</think>", "Hi", " from", " genserve!"]
    with RecordingServer(tmp_path, cli_catalog([reply])) as server:
        run = run_gemini(server, tmp_path, "-p", "Say hi")
    assert run.returncode == 0, run.report()
    assert "Hi from genserve!" in run.stdout, run.report()
    assert "greets" not in run.stdout and "<think>" not in run.stdout, run.report()

    # Routing: the CLI asks flash-lite for {"complexity_reasoning", "complexity_score"} under a responseJsonSchema
    # written with Gemini's Type names ("OBJECT", "STRING", "INTEGER"). The router scores 5, so the CLI picks
    # flash. If that call fails the CLI still answers, from its pro model, after an error on stderr.
    routing = server.recorder.calls("generateContent")
    assert len(routing) == 1 and routing[0]["path"] == "/v1beta/models/gemini-3.5-flash-lite:generateContent", (
        run.report()
    )
    assert "responseJsonSchema" in routing[0]["json"]["generationConfig"], routing[0]["json"]["generationConfig"]
    assert routing[0]["status"] == 200, f"the routing call (JSON mode) failed:\n{run.report()}"

    streams = server.recorder.calls("streamGenerateContent")
    assert [(s["path"], s["query"], s["status"]) for s in streams] == [
        ("/v1beta/models/gemini-3.8-flash:streamGenerateContent", "alt=sse", 200)
    ], run.report()
    body = streams[0]["json"]
    declared = {d["name"] for t in body.get("tools", []) for d in t.get("functionDeclarations", [])}
    assert "read_file" in declared, f"the CLI's tools should reach the model: {sorted(declared)}"


def test_tool_turn_reads_a_file_and_returns_its_content(tmp_path: Path) -> None:
    """The scripted model calls the CLI's read_file; the CLI runs it, sends the functionResponse, prints the answer."""
    token = f"zebra-{secrets.randbelow(10**6):06d}"
    notes = tmp_path / "work" / "notes.txt"
    notes.parent.mkdir(parents=True)
    notes.write_text(f"{token}\n")
    call = json.dumps({"name": "read_file", "arguments": {"file_path": str(notes)}})
    replies = [
        ["Let me read the file.", f"<tool_call>\n{call}\n</tool_call>"],  # reply 0: no function results yet
        ["The file says: ", token, "."],  # reply 1: after one functionResponse
    ]
    with RecordingServer(tmp_path, cli_catalog(replies)) as server:
        # A pinned model: no routing call, one model name on every request.
        run = run_gemini(server, tmp_path, "--model", "gemini-2.5-flash", "-p", "What does notes.txt say?")
    assert run.returncode == 0, run.report()
    assert f"The file says: {token}." in run.stdout, run.report()
    assert "<tool_call>" not in run.stdout, f"the raw tool call reached the user:\n{run.report()}"

    requests = server.recorder.requests
    assert {r["path"] for r in requests} == {"/v1beta/models/gemini-2.5-flash:streamGenerateContent"}, run.report()
    streams = server.recorder.calls("streamGenerateContent")
    assert [s["status"] for s in streams] == [200, 200], run.report()
    first, second = streams[0]["json"], streams[1]["json"]
    assert not parts_of(first, "functionResponse"), first["contents"]

    calls = parts_of(second, "functionCall")  # the CLI sends back the model turn it received
    assert [(c["name"], c["args"]) for c in calls] == [("read_file", {"file_path": str(notes)})], calls
    results = parts_of(second, "functionResponse")
    assert [r["name"] for r in results] == ["read_file"], results
    assert token in json.dumps(results[0]["response"]), f"the CLI did not return the file's content: {results}"
    assert results[0].get("id") == calls[0].get("id"), (calls, results)


# The CLI's own setting for its requests' generationConfig (settings.json `modelConfigs.customOverrides`; the
# "core" scope matches every request it makes): greedy, so the small model's answer is the one measured.
GREEDY_SETTINGS = {
    **SETTINGS,
    "modelConfigs": {
        "customOverrides": [
            {"match": {"overrideScope": "core"}, "modelConfig": {"generateContentConfig": {"temperature": 0}}}
        ]
    },
}


def test_the_default_catalog_answers_for_real(tmp_path: Path, default_catalog_: Catalog) -> None:
    """`gemini -p` with no model options against what `genserve serve` serves with none: the router (JSON mode) and
    the agent name are SmolLM2-135M-Instruct, and the agent's prompt, the CLI's own instructions and tools, is longer
    than the 8,192 positions SmolLM2 was trained on (dynamic NTK RoPE serves it; demo/smollm2.py)."""
    with RecordingServer(tmp_path, default_catalog_) as server:
        run = run_gemini(server, tmp_path, "-p", "What is the capital of Japan?", settings=GREEDY_SETTINGS, timeout=600)
    assert run.returncode == 0, run.report()
    assert "Tokyo" in run.stdout, run.report()
    routing, streams = server.recorder.calls("generateContent"), server.recorder.calls("streamGenerateContent")
    assert [r["status"] for r in routing] == [200] and [s["status"] for s in streams] == [200], run.report()
    assert streams[0]["json"]["generationConfig"]["temperature"] == 0, streams[0]["json"]["generationConfig"]
    usage = [
        json.loads(line[5:]).get("usageMetadata")
        for line in streams[0]["response"].decode().splitlines()
        if line.startswith("data:")
    ]
    prompt_tokens = usage[-1]["promptTokenCount"]
    assert prompt_tokens > 8192, f"the CLI's prompt was {prompt_tokens} tokens"
