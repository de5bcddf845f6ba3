"""The Files API through the official JavaScript SDK (`@google/genai`), three versions side by side.

`js/files.mjs` makes the calls a user makes (upload from a path and from a Blob, a 17 MiB chunked
upload, get, paged list, download, delete, user-chosen names, the video PROCESSING -> ACTIVE/FAILED
state machine, fileData parts in generateContent) and prints what it observed as one JSON object;
the assertions live here so a failure names the check and the SDK version. This test writes the
input files (a text file, a tiny text file and a real MP4).

The npm packages are installed by ./scripts/test. Without them these tests fail, never skip.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.contract.js_runner import SDKS, run_node
from tests.media import tiny_mp4

pytestmark = [pytest.mark.contract, pytest.mark.live]

NODE_TIMEOUT_S = 180

LARGE_SIZE = 17 * 1024 * 1024  # 17825792: three chunks of at most 8 MiB
CHUNK = 8 * 1024 * 1024
FILE_NAME = re.compile(r"^files/[a-z0-9]+$")
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

TEXT = (
    "Genserve is a self-hosted server that speaks Google's Gemini REST API on local models. "
    "This paragraph is long on purpose: when a generateContent request refers to it through a "
    "fileData part, the server reads the stored file and its text becomes part of the prompt, so "
    "the prompt token count must grow with it. "
) * 12
TINY_TEXT = "hi"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("js-files-inputs")
    (folder / "prompt.txt").write_text(TEXT, encoding="utf-8")
    (folder / "tiny.txt").write_text(TINY_TEXT, encoding="utf-8")
    tiny_mp4(folder / "tiny.mp4")
    manifest = folder / "inputs.json"
    manifest.write_text(
        json.dumps(
            {"text": str(folder / "prompt.txt"), "tinyText": str(folder / "tiny.txt"), "mp4": str(folder / "tiny.mp4")}
        )
    )
    return manifest


@pytest.fixture(scope="module", params=list(SDKS))
def js(request: pytest.FixtureRequest, live: Any, inputs: Path) -> dict[str, Any]:
    """Everything files.mjs observed for one SDK version (node runs once per version)."""
    return run_node("files.mjs", live.url, request.param, str(inputs), timeout_s=NODE_TIMEOUT_S)


def who(js: dict[str, Any]) -> str:
    return f"@google/genai {js['sdkVersion']} ({js['alias']})"


def check(js: dict[str, Any], name: str) -> dict[str, Any]:
    result = js["checks"][name]
    if "exception" in result:
        pytest.fail(f"{who(js)}, check {name!r} threw: {result['exception']}\n{result.get('stack', '')}")
    return result


def google_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).hexdigest().encode()).decode()


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_file_shape(file: dict[str, Any], where: str, *, api_version: str) -> None:
    """The fields Google returns for an uploaded file, as the SDK hands them to the user."""
    assert FILE_NAME.match(file.get("name", "")), f"{where}: name {file.get('name')!r}"
    file_id = file["name"].removeprefix("files/")
    assert isinstance(file.get("sizeBytes"), str) and file["sizeBytes"].isdigit(), (
        f"{where}: sizeBytes should be a decimal string: {file}"
    )
    for field in ("createTime", "updateTime", "expirationTime"):
        assert RFC3339_Z.match(file.get(field) or ""), f"{where}: {field} {file.get(field)!r}"
    assert parse_time(file["expirationTime"]) - parse_time(file["createTime"]) == timedelta(hours=48), (
        f"{where}: expirationTime should be createTime + 48 h: {file}"
    )
    assert re.match(rf"^https://[^/]+/{api_version}/files/{file_id}$", file.get("uri", "")), (
        f"{where}: uri {file.get('uri')!r} (want https://<host>/{api_version}/files/{file_id})"
    )
    assert file.get("source") == "UPLOADED", f"{where}: source {file.get('source')!r}"
    assert file.get("state") in ("ACTIVE", "PROCESSING", "FAILED"), f"{where}: state {file.get('state')!r}"


# --- the SDK itself ----------------------------------------------------------------------------


def test_sdk_version_and_paths(js: dict[str, Any]) -> None:
    version, api_version = SDKS[js["alias"]]
    assert js["sdkVersion"] == version, f"{js['alias']} resolved to @google/genai {js['sdkVersion']}, want {version}"
    paths = {r["path"] for name, c in js["checks"].items() if name != "download_fetch" for r in c.get("requests", [])}
    wrong = sorted(p for p in paths if not (p.startswith(f"/{api_version}/") or p == f"/upload/{api_version}/files"))
    assert not wrong, f"{who(js)} should call /{api_version}/ and /upload/{api_version}/files; it called {wrong}"


# --- uploads -----------------------------------------------------------------------------------


def test_upload_from_path(js: dict[str, Any], inputs: Path) -> None:
    r = check(js, "upload_path")
    file = r["file"]
    where = f"{who(js)} upload_path"
    assert_file_shape(file, where, api_version=SDKS[js["alias"]][1])
    assert file["displayName"] == "js path upload", f"{where}: {file}"
    assert file["mimeType"] == "text/plain", f"{where}: {file}"
    assert file["state"] == "ACTIVE", f"{where}: a text file is ACTIVE at once: {file}"
    data = Path(json.loads(inputs.read_text())["text"]).read_bytes()
    assert file["sizeBytes"] == str(len(data)) == str(r["size"]), f"{where}: {file}"
    assert file["sha256Hash"] == google_sha256(data) == r["sha256"], f"{where}: sha256Hash {file['sha256Hash']!r}"


def test_upload_from_blob(js: dict[str, Any]) -> None:
    r = check(js, "upload_blob")
    file = r["file"]
    where = f"{who(js)} upload_blob"
    assert_file_shape(file, where, api_version=SDKS[js["alias"]][1])
    assert file["displayName"] == "js blob upload", f"{where}: {file}"
    assert file["mimeType"] == "application/octet-stream", f"{where}: {file}"
    assert file["state"] == "ACTIVE", f"{where}: binary data is ACTIVE at once: {file}"
    assert file["sizeBytes"] == "1000", f"{where}: {file}"
    assert file["sha256Hash"] == r["sha256"], f"{where}: sha256Hash {file['sha256Hash']!r}, node says {r['sha256']!r}"
    # One start request, then the bytes in one "upload, finalize" chunk.
    assert [u["command"] for u in r["uploads"]] == ["start", "upload, finalize"], f"{where}: {r['uploads']}"
    assert [u["uploadStatus"] for u in r["uploads"]] == ["active", "final"], f"{where}: {r['uploads']}"


def test_upload_17_mib_in_chunks(js: dict[str, Any]) -> None:
    r = check(js, "upload_large")
    file = r["file"]
    where = f"{who(js)} upload_large"
    assert_file_shape(file, where, api_version=SDKS[js["alias"]][1])
    assert file["sizeBytes"] == str(LARGE_SIZE) == "17825792", f"{where}: sizeBytes {file['sizeBytes']}"
    assert file["sha256Hash"] == r["sha256"], f"{where}: sha256Hash {file['sha256Hash']!r}, node says {r['sha256']!r}"
    assert file["displayName"] == "js 17 MiB", f"{where}: {file}"
    assert file["mimeType"] == "application/octet-stream", f"{where}: the Blob's type should be used: {file}"
    chunks = [u for u in r["uploads"] if u["hasUploadId"]]
    assert [(c["command"], c["offset"], c["bodyBytes"]) for c in chunks] == [
        ("upload", "0", CHUNK),
        ("upload", str(CHUNK), CHUNK),
        ("upload, finalize", str(2 * CHUNK), LARGE_SIZE - 2 * CHUNK),
    ], f"{where}: chunk requests {chunks}"
    assert [c["uploadStatus"] for c in chunks] == ["active", "active", "final"], f"{where}: {chunks}"
    assert all(c["status"] == 200 for c in r["uploads"]), f"{where}: {r['uploads']}"


# --- get, list ---------------------------------------------------------------------------------


def test_get_returns_the_uploaded_fields(js: dict[str, Any]) -> None:
    r = check(js, "get")
    for key in ("path", "blob", "large"):
        uploaded, got = r[key]["uploaded"], r[key]["got"]
        assert got == uploaded, (
            f"{who(js)} files.get({uploaded['name']}) differs from the upload reply: {got} vs {uploaded}"
        )
    assert r["byBareId"] == r["blob"]["got"], f"{who(js)} files.get by bare id: {r['byBareId']}"
    assert r["byUri"] == r["blob"]["got"], f"{who(js)} files.get by uri: {r['byUri']}"


def test_list_pages_through_everything(js: dict[str, Any]) -> None:
    r = check(js, "list_paged")
    where = f"{who(js)} list_paged"
    names = r["names"]
    assert len(names) == len(set(names)), f"{where}: duplicates across pages: {names}"
    missing = sorted(set(r["expected"]) - set(names))
    assert not missing, f"{where}: uploaded in this run but not listed: {missing} (listed {names})"
    assert r["firstPageSize"] in (2, None), f"{where}: first page had {r['firstPageSize']} files, pageSize was 2"
    queries = r["listRequests"]
    assert len(queries) == -(-len(names) // 2), (
        f"{where}: {len(names)} files in {len(queries)} page requests: {queries}"
    )
    assert all("pageSize=2" in q for q in queries), f"{where}: {queries}"
    assert "pageToken" not in queries[0] and all("pageToken=" in q for q in queries[1:]), f"{where}: {queries}"


# --- download ----------------------------------------------------------------------------------


def test_download_round_trip(js: dict[str, Any]) -> None:
    fetched = check(js, "download_fetch")
    for api_version in ("v1beta", "v1"):
        got = fetched[api_version]
        where = f"{who(js)} GET /{api_version}/files/<id>:download?alt=media"
        assert got["status"] == 200, f"{where}: {got}"
        assert got["size"] == LARGE_SIZE and got["sha256Equal"], f"{where}: bytes differ: {got}"
        assert got["contentType"].startswith("application/octet-stream"), f"{where}: {got}"

    # files.download: every version builds GET files/<id>:download?alt=media and writes the body.
    sdk_dl = check(js, "download_sdk")
    for key, size in (("blobByFile", 1000), ("largeByName", LARGE_SIZE)):
        got = sdk_dl[key]
        where = f"{who(js)} files.download ({key})"
        assert not got["outcome"]["threw"], f"{where} refused: {got['outcome']}"
        assert got["written"] and got["size"] == size and got["sha256Equal"], f"{where}: {got}"
    queries = [(q["path"], q["query"]) for q in sdk_dl["requests"]]
    assert all(p.endswith(":download") and q == "?alt=media" for p, q in queries), f"{who(js)}: {queries}"


# --- delete, names -----------------------------------------------------------------------------


def test_delete_then_get_is_403(js: dict[str, Any]) -> None:
    r = check(js, "delete")
    where = f"{who(js)} delete"
    assert r["deleteResult"] in ({}, None) or set(r["deleteResult"]) <= {"sdkHttpResponse"}, f"{where}: {r}"
    for call in ("getAfter", "deleteAgain"):
        error = r[call]
        assert error["threw"], f"{where}: {call} of a deleted file resolved: {error}"
        assert error["isApiError"] and error["status"] == 403, f"{where}: {call}: {error}"
        assert "PERMISSION_DENIED" in error["message"], f"{where}: {call}: {error}"
    assert not r["listedAfter"], f"{where}: {r['name']} still listed after delete"


def test_user_chosen_name(js: dict[str, Any]) -> None:
    r = check(js, "user_name")
    where = f"{who(js)} user_name"
    assert r["file"]["name"] == r["requested"], f"{where}: asked for {r['requested']}, got {r['file']['name']}"
    assert r["file"]["uri"].endswith("/" + r["requested"]), f"{where}: {r['file']}"
    assert r["file"]["displayName"] == "js named" and r["file"]["state"] == "ACTIVE", f"{where}: {r['file']}"
    again = r["again"]
    assert again["threw"], f"{where}: a second upload under the same name resolved: {again}"
    assert again["isApiError"] and again["status"] == 409, f"{where}: {again}"
    assert "ALREADY_EXISTS" in again["message"], f"{where}: {again}"
    assert not r["got"]["threw"] and r["got"]["value"]["sha256Hash"] == r["file"]["sha256Hash"], (
        f"{where}: the first file must survive the rejected re-upload: {r['got']}"
    )
    # SDK behaviour, not the server's: files.get({name: uri}) keeps only the first [a-z0-9]+ run of
    # the id, so "files/js-..." is requested as files/js, which does not exist.
    assert r["byUriPath"] == [f"/{SDKS[js['alias']][1]}/files/js"], f"{where}: {r['byUriPath']}"
    assert r["byUri"]["threw"] and r["byUri"]["status"] == 403, f"{where}: {r['byUri']}"


# --- processing state --------------------------------------------------------------------------


def test_video_processing_then_active(js: dict[str, Any]) -> None:
    r = check(js, "video_processing")
    where = f"{who(js)} video_processing"
    uploaded, final = r["uploaded"], r["file"]
    assert uploaded["state"] == "PROCESSING", f"{where}: a video should start PROCESSING: {uploaded}"
    assert uploaded["mimeType"] == "video/mp4" and uploaded["displayName"] == "js tiny mp4", f"{where}: {uploaded}"
    assert "videoMetadata" not in uploaded, f"{where}: {uploaded}"
    assert final["state"] == "ACTIVE", f"{where}: still {final['state']} after {r['waitedMs']} ms: {final}"
    assert r["states"][-1] == "ACTIVE" and set(r["states"]) <= {"PROCESSING", "ACTIVE"}, f"{where}: {r['states']}"
    duration = (final.get("videoMetadata") or {}).get("videoDuration")
    assert duration == "1s", f"{where}: videoMetadata {final.get('videoMetadata')}"
    assert "error" not in final, f"{where}: {final}"
    assert parse_time(final["updateTime"]) >= parse_time(final["createTime"]), f"{where}: {final}"


def test_undecodable_video_fails(js: dict[str, Any]) -> None:
    r = check(js, "video_undecodable")
    where = f"{who(js)} video_undecodable"
    final = r["file"]
    assert r["uploaded"]["state"] == "PROCESSING", f"{where}: {r['uploaded']}"
    assert final["state"] == "FAILED", f"{where}: state {final['state']} after {r['waitedMs']} ms: {final}"
    error = final.get("error") or {}
    assert error.get("message") and isinstance(error.get("code"), int), f"{where}: error {final.get('error')}"
    assert "videoMetadata" not in final, f"{where}: {final}"


# --- generateContent with fileData -------------------------------------------------------------


def test_text_file_in_generate_counts_its_tokens(js: dict[str, Any]) -> None:
    r = check(js, "generate_with_text_file")
    where = f"{who(js)} generate_with_text_file"
    big, tiny = r["big"], r["tiny"]
    for which in (big, tiny):
        file = which["file"]
        assert which["sentParts"][0] == {"fileData": {"fileUri": file["uri"], "mimeType": "text/plain"}}, (
            f"{where}: createPartFromUri sent {which['sentParts']}"
        )
        assert which["finishReason"] == "MAX_TOKENS", f"{where}: {which}"
        usage = which["usageMetadata"]
        assert usage["candidatesTokenCount"] == 3, f"{where}: {usage}"
        assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"], (
            f"{where}: {usage}"
        )
    grew = big["usageMetadata"]["promptTokenCount"] - tiny["usageMetadata"]["promptTokenCount"]
    # The file of ~3700 characters costs many more tokens than the 2-character one.
    assert grew > 100, (
        f"{where}: promptTokenCount {big['usageMetadata']['promptTokenCount']} with a {r['bigSize']}-byte file "
        f"vs {tiny['usageMetadata']['promptTokenCount']} with a {r['tinySize']}-byte file: "
        "the file's text is not in the prompt"
    )


def test_image_file_on_text_model_is_400(js: dict[str, Any]) -> None:
    r = check(js, "generate_with_image_file")
    where = f"{who(js)} generate_with_image_file"
    assert r["file"]["state"] == "ACTIVE" and r["file"]["mimeType"] == "image/png", f"{where}: {r['file']}"
    error = r["error"]
    assert error["threw"], f"{where}: an image on a text-only model was accepted: {error}"
    assert error["isApiError"] and error["status"] == 400, f"{where}: {error}"
    assert "INVALID_ARGUMENT" in error["message"] and "image" in error["message"], f"{where}: {error}"


def test_failed_file_in_generate_is_failed_precondition(js: dict[str, Any]) -> None:
    r = check(js, "generate_with_failed_file")
    where = f"{who(js)} generate_with_failed_file"
    assert r["state"] == "FAILED", f"{where}: {r}"
    error = r["error"]
    assert error["threw"] and error["isApiError"] and error["status"] == 400, f"{where}: {error}"
    assert "FAILED_PRECONDITION" in error["message"] and "not in an ACTIVE state" in error["message"], (
        f"{where}: {error}"
    )


def test_processing_file_in_generate_is_400(js: dict[str, Any]) -> None:
    r = check(js, "generate_with_processing_file")
    where = f"{who(js)} generate_with_processing_file"
    assert r["uploadedState"] == "PROCESSING", f"{where}: {r}"
    error = r["error"]
    # Still PROCESSING, or already FAILED if the probe won the race: either way not ACTIVE.
    assert error["threw"] and error["isApiError"] and error["status"] == 400, f"{where}: {error}"
    assert "FAILED_PRECONDITION" in error["message"], f"{where}: {error}"
    declared = r["declaredVideo"]
    assert declared["threw"] and declared["status"] == 400, f"{where}: {declared}"
    assert "INVALID_ARGUMENT" in declared["message"] and "video" in declared["message"], f"{where}: {declared}"
