"""Contract tests: older official Python SDKs against a live genserve.

- google-genai 2.34 (the last 2.x; talks /v1beta by default, SSE streaming)
- google-generativeai 0.8.6, the legacy SDK, on its REST transport (protobuf-JSON: integer enums,
  `?$alt=json;enum-encoding=int`, streaming as one incrementally-read JSON array)

They cannot share the main environment with google-genai 3.x, so each scenario script in
tests/contract/oldsdk/ runs under .venv-oldsdk (made by ./scripts/test), prints one JSON object of
what it observed, and the assertions live here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.contract, pytest.mark.live]

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "oldsdk"
OLD_PYTHON = ROOT / ".venv-oldsdk" / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
SCRIPTED_TEXT = "Hello from genserve."


def run_script(script: str, base_url: str) -> dict[str, Any]:
    if not OLD_PYTHON.exists():
        pytest.fail(f"{OLD_PYTHON} is missing: the old-SDK environment is not installed; run ./scripts/test")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"GOOGLE_GEMINI_BASE_URL", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_CLOUD_PROJECT", "GOOGLE_API_KEY"}
    }
    env.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", "PYTHONWARNINGS": "ignore"})
    try:
        proc = subprocess.run(
            [str(OLD_PYTHON), str(SCRIPTS / script), base_url],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{script} did not finish in 120 s; stderr:\n{exc.stderr}")
    if proc.returncode != 0:
        pytest.fail(f"{script} exited {proc.returncode}; stderr:\n{proc.stderr[-4000:]}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        pytest.fail(f"{script} printed no JSON; stdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-2000:]}")


def observed(report: dict[str, Any], name: str) -> dict[str, Any]:
    """One scenario's observations, failing with the SDK's own exception when the scenario crashed."""
    assert name in report["checks"], f"{name}: scenario did not run"
    result = report["checks"][name]
    if "error" in result:
        pytest.fail(
            f"{name}: the SDK raised {result['error']}\nrequests: {result.get('paths')}\n{result.get('traceback', '')}"
        )
    return result


# ---------------------------------------------------------------------------------------------
# google-genai 2.34


@pytest.fixture(scope="module")
def genai_v2(live: Any) -> dict[str, Any]:
    return run_script("genai_v2.py", live.url)


def test_genai_v2_environment(genai_v2: dict[str, Any]) -> None:
    assert genai_v2["meta"]["version"] == "2.34.0", f"environment: expected google-genai 2.34.0, got {genai_v2['meta']}"


def test_genai_v2_talks_v1beta(genai_v2: dict[str, Any]) -> None:
    assert observed(genai_v2, "default_api_version")["api_version"] == "v1beta", "api version: 2.34 defaults to v1beta"
    paths = [p for p in genai_v2["paths"] if "/v1alpha/" not in p]
    assert paths, "api version: no requests recorded"
    assert all(p.split(" ", 1)[1].startswith("/v1beta/") for p in paths), f"api version: non-v1beta request in {paths}"
    alpha = observed(genai_v2, "v1alpha")
    assert alpha["text"] == SCRIPTED_TEXT, f"v1alpha: {alpha}"
    assert alpha["paths"] == ["POST /v1alpha/models/scripted:generateContent"], f"v1alpha: {alpha['paths']}"


def test_genai_v2_generate_scripted(genai_v2: dict[str, Any]) -> None:
    r = observed(genai_v2, "generate_scripted")
    assert r["text"] == SCRIPTED_TEXT, f"generate scripted text: {r}"
    assert r["finish_reason"] == "STOP", f"generate scripted finish_reason: {r}"
    assert r["role"] == "model", f"generate scripted role: {r}"
    assert r["candidates_token_count"] == 3, f"generate scripted usage: {r}"
    assert r["total_token_count"] == r["prompt_token_count"] + r["candidates_token_count"], f"usage sum: {r}"
    assert r["model_version"] and r["response_id"], f"generate scripted modelVersion/responseId: {r}"


def test_genai_v2_generate_config(genai_v2: dict[str, Any]) -> None:
    r = observed(genai_v2, "generate_demo")
    assert r["finish_reason"] == "MAX_TOKENS", f"max_output_tokens=5 finish_reason: {r}"
    assert r["candidates_token_count"] == 5, f"max_output_tokens=5 candidates_token_count: {r}"
    assert r["text"] is not None and r["text"] == r["text_again"], f"temperature=0 determinism: {r}"
    assert r["prompt_token_count"] > 0, f"prompt_token_count (system instruction + prompt): {r}"


def test_genai_v2_stream(genai_v2: dict[str, Any]) -> None:
    r = observed(genai_v2, "stream_scripted")
    assert r["chunks"] >= 3, f"stream chunk count: {r}"
    assert r["joined"] == SCRIPTED_TEXT, f"stream joined text: {r}"
    assert r["last_finish_reason"] == "STOP", f"stream last finish_reason: {r}"
    assert r["paths"] == ["POST /v1beta/models/scripted:streamGenerateContent?alt=sse"], f"stream wire: {r['paths']}"


def test_genai_v2_stream_failure(genai_v2: dict[str, Any]) -> None:
    r = observed(genai_v2, "stream_fails")
    assert r["raised"] == "ServerError" and r["is_server_error"], f"mid-stream error raises errors.ServerError: {r}"
    assert r["code"] == 500, f"mid-stream error code: {r}"
    assert r["received"] == ["a"], f"mid-stream error: chunks before the failure: {r}"


def test_genai_v2_chat(genai_v2: dict[str, Any]) -> None:
    r = observed(genai_v2, "chat")
    assert r["texts"] == [SCRIPTED_TEXT] * 4, f"chat replies: {r}"
    # Non-streamed turns add user + model. A streamed turn adds the user turn plus one model entry
    # per streamed chunk: the SDK (2.34 and 3.x alike) records chunks as they come, unmerged.
    n = r["stream_chunks"]
    assert n >= 3, f"chat send_message_stream chunks: {r}"
    assert r["history_lengths"] == [2, 4, 4 + 1 + n, 4 + 1 + n + 2], f"chat history growth: {r}"
    assert r["roles"][:5] == ["user", "model", "user", "model", "user"], f"chat roles: {r}"
    assert r["roles"][-2:] == ["user", "model"], f"chat roles: {r}"
    assert len(r["paths"]) == 4, f"chat requests: {r['paths']}"


def test_genai_v2_chat_real_model(genai_v2: dict[str, Any]) -> None:
    r = observed(genai_v2, "chat_demo")
    assert r["finish_reasons"] == ["MAX_TOKENS", "MAX_TOKENS"], f"chat on gemini-2.0-flash finish reasons: {r}"
    first, second = r["prompt_token_counts"]
    assert second > first, f"chat on gemini-2.0-flash: the second turn's prompt includes the first: {r}"
    assert r["history_length"] == 4, f"chat on gemini-2.0-flash history: {r}"


def test_genai_v2_count_tokens(genai_v2: dict[str, Any]) -> None:
    r = observed(genai_v2, "count_tokens")
    assert r["total_tokens"] > 0, f"count_tokens: {r}"
    assert r["total_tokens"] == r["generate_prompt_token_count"], f"count_tokens == generate promptTokenCount: {r}"


def test_genai_v2_embed(genai_v2: dict[str, Any]) -> None:
    r = observed(genai_v2, "embed")
    assert r["count"] == 2 and r["dims"] == [8, 8], f"embed 2 texts at output_dimensionality=8: {r}"
    assert all(abs(n - 1.0) < 1e-3 for n in r["norms"]), f"embed unit vectors: {r}"
    assert r["distinct"], f"embed: different texts, different vectors: {r}"
    single = observed(genai_v2, "embed_single")
    assert single["count"] == 1 and single["dims"] == [64], f"embed single text (64-dim model): {single}"


def test_genai_v2_models(genai_v2: dict[str, Any]) -> None:
    listed = observed(genai_v2, "models_list")
    assert "models/gemini-2.0-flash" in listed["names"], f"models.list: {listed['names']}"
    assert "models/gemini-embedding-001" in listed["names"], f"models.list: {listed['names']}"
    assert listed["unique"], f"models.list pagination repeats models: {listed['names']}"
    assert len(listed["paths"]) > 1 and any("pageToken=" in p for p in listed["paths"]), (
        f"models.list pagination (page_size=2) followed nextPageToken: {listed['paths']}"
    )
    got = observed(genai_v2, "models_get")
    assert got["name"] == "models/gemini-2.0-flash", f"models.get name: {got}"
    assert got["input_token_limit"] > 0 and got["output_token_limit"] > 0, f"models.get token limits: {got}"
    assert "generateContent" in (got["supported_actions"] or []), f"models.get supported_actions: {got}"


def test_genai_v2_errors(genai_v2: dict[str, Any]) -> None:
    missing = observed(genai_v2, "unknown_model")
    assert missing["raised"] == "ClientError" and missing["code"] == 404, f"unknown model -> ClientError 404: {missing}"
    assert missing["status"] == "NOT_FOUND", f"unknown model status: {missing}"
    zero = observed(genai_v2, "max_output_tokens_zero")
    assert zero["raised"] == "ClientError" and zero["code"] == 400, f"max_output_tokens=0 -> ClientError 400: {zero}"
    assert zero["status"] == "INVALID_ARGUMENT", f"max_output_tokens=0 status: {zero}"


def test_genai_v2_async(genai_v2: dict[str, Any]) -> None:
    r = observed(genai_v2, "async_generate")
    assert r["text"] == SCRIPTED_TEXT and r["finish_reason"] == "STOP", f"async generate_content: {r}"
    assert r["stream_joined"] == SCRIPTED_TEXT, f"async generate_content_stream: {r}"


# ---------------------------------------------------------------------------------------------
# google-generativeai 0.8.6 (legacy, REST transport)


@pytest.fixture(scope="module")
def legacy(live: Any) -> dict[str, Any]:
    return run_script("generativeai_legacy.py", live.url)


def test_legacy_environment(legacy: dict[str, Any]) -> None:
    assert legacy["meta"]["version"] == "0.8.6", (
        f"environment: expected google-generativeai 0.8.6, got {legacy['meta']}"
    )


def test_legacy_wire(legacy: dict[str, Any]) -> None:
    paths = legacy["paths"]
    assert paths and all(p.split(" ", 1)[1].startswith("/v1beta/") for p in paths), f"legacy talks /v1beta: {paths}"
    stream = observed(legacy, "stream_scripted")["paths"]
    assert stream == ["POST /v1beta/models/scripted:streamGenerateContent?$alt=json;enum-encoding=int"], (
        f"legacy streaming uses $alt=json (a JSON array, not SSE): {stream}"
    )


def test_legacy_generate(legacy: dict[str, Any]) -> None:
    r = observed(legacy, "generate_demo")
    assert r["finish_reason"] == "MAX_TOKENS" and r["finish_reason_int"] == 2, f"legacy finish reason: {r}"
    assert r["candidates_token_count"] == 5, f"legacy max_output_tokens=5: {r}"
    assert r["text"] == r["text_again"], f"legacy temperature=0 determinism: {r}"
    scripted = observed(legacy, "generate_scripted")
    assert scripted["text"] == SCRIPTED_TEXT and scripted["finish_reason"] == "STOP", f"legacy scripted: {scripted}"
    system = observed(legacy, "generate_system_instruction")
    assert system["finish_reason"] == "MAX_TOKENS", f"legacy system_instruction: {system}"
    assert system["bodies"][0].get("systemInstruction"), f"legacy system_instruction sent: {system['bodies']}"


def test_legacy_stream(legacy: dict[str, Any]) -> None:
    r = observed(legacy, "stream_scripted")
    assert r["chunks"] >= 3, f"legacy stream chunks: {r}"
    assert r["joined"] == SCRIPTED_TEXT, f"legacy stream joined text: {r}"
    assert r["resolved_text"] == SCRIPTED_TEXT, f"legacy stream merged response text: {r}"
    assert r["finish_reason"] == "STOP", f"legacy stream finish reason: {r}"
    demo = observed(legacy, "stream_demo")
    assert demo["finish_reason"] == "MAX_TOKENS", f"legacy stream on gemini-2.0-flash finish reason: {demo}"
    assert demo["candidates_token_count"] == 5, f"legacy stream usage: {demo}"


def test_legacy_stream_failure(legacy: dict[str, Any]) -> None:
    r = observed(legacy, "stream_fails")
    chunks = r["chunks"]
    # The failure must be visible: either an exception, or (api_core's REST stream parser ignores the
    # unknown "error" field) a chunk without candidates, whose .text the SDK refuses.
    assert chunks and chunks[0] == {"candidates": 1, "text": "a"}, f"legacy mid-stream error: first chunk: {r}"
    visible = r["raised"] is not None or any(c["candidates"] == 0 and "text_error" in c for c in chunks[1:])
    assert visible, f"legacy mid-stream error is visible to the caller: {r}"
    assert all(c.get("text") not in ("b", "c") for c in chunks), f"legacy mid-stream error: stream stopped: {r}"


def test_legacy_chat(legacy: dict[str, Any]) -> None:
    r = observed(legacy, "chat")
    assert r["texts"] == [SCRIPTED_TEXT] * 3, f"legacy chat replies: {r}"
    assert r["history_lengths"] == [2, 4, 6], f"legacy chat history growth: {r}"
    assert r["roles"] == ["user", "model"] * 3, f"legacy chat roles: {r}"
    last_body = r["bodies"][-1]
    assert len(last_body["contents"]) == 5, f"legacy chat resends history: {last_body}"


def test_legacy_count_tokens(legacy: dict[str, Any]) -> None:
    r = observed(legacy, "count_tokens")
    assert "generateContentRequest" in r["bodies"][0], f"legacy countTokens wire form: {r['bodies'][0]}"
    assert r["total_tokens"] > 0, f"legacy count_tokens: {r}"
    assert r["total_tokens"] == r["generate_prompt_token_count"], f"legacy count_tokens == promptTokenCount: {r}"


def test_legacy_embed(legacy: dict[str, Any]) -> None:
    single = observed(legacy, "embed_single")
    assert single["dim"] == 64 and abs(single["norm"] - 1) < 1e-3, f"legacy embed_content single: {single}"
    batch = observed(legacy, "embed_batch")
    assert batch["count"] == 2 and batch["dims"] == [64, 64], f"legacy embed_content batch: {batch}"
    assert all(abs(n - 1) < 1e-3 for n in batch["norms"]), f"legacy embed_content batch unit vectors: {batch}"
    assert batch["paths"][0].startswith("POST /v1beta/models/text-embedding-004:batchEmbedContents"), batch["paths"]
    shaped = observed(legacy, "embed_task_type_dimensionality")
    assert shaped["bodies"][0]["taskType"] == 1, f"legacy sends task_type as an integer: {shaped['bodies']}"
    assert shaped["dim"] == 8 and abs(shaped["norm"] - 1) < 1e-3, f"legacy output_dimensionality=8: {shaped}"


def test_legacy_models(legacy: dict[str, Any]) -> None:
    listed = observed(legacy, "list_models")
    assert "models/gemini-2.0-flash" in listed["names"], f"legacy list_models: {listed['names']}"
    assert listed["unique"], f"legacy list_models pagination repeats models: {listed['names']}"
    assert any("pageToken=" in p for p in listed["paths"]), f"legacy list_models paginates: {listed['paths']}"
    got = observed(legacy, "get_model")
    assert got["name"] == "models/gemini-2.0-flash", f"legacy get_model: {got}"
    assert "generateContent" in got["supported_generation_methods"], f"legacy get_model methods: {got}"
    assert got["input_token_limit"] > 0, f"legacy get_model limits: {got}"


def test_legacy_safety_settings_enums(legacy: dict[str, Any]) -> None:
    r = observed(legacy, "safety_settings_enums")
    sent = r["bodies"][0]["safetySettings"]
    assert all(isinstance(s["category"], int) and isinstance(s["threshold"], int) for s in sent), (
        f"legacy safety settings travel as integer enums: {sent}"
    )
    assert r["text"] == SCRIPTED_TEXT, f"legacy integer safety settings accepted: {r}"


def test_legacy_errors(legacy: dict[str, Any]) -> None:
    missing = observed(legacy, "unknown_model")
    assert missing["is_not_found"] and missing["code"] == 404, f"legacy unknown model -> NotFound: {missing}"
    zero = observed(legacy, "max_output_tokens_zero")
    assert zero["is_bad_request"] and zero["code"] == 400, f"legacy max_output_tokens=0 -> BadRequest 400: {zero}"
