"""Files API in-process: the upload protocol, resources, download ranges, limits and bad input."""

import base64
import hashlib

import pytest

from tests.api.files_helpers import chunk, start, upload, upload_path
from tests.conftest import app_client, make_settings


def assert_error(r, code, status=None):
    assert r.status_code == code, r.text
    if status:
        assert r.json()["error"]["status"] == status
    return r.json()["error"]["message"]


async def test_resumable_upload_in_chunks_gives_the_file_resource(client):
    data = bytes(range(256)) * 40
    file = await upload(client, data, "application/octet-stream", chunk_size=4096, display_name="Blob")
    assert file["name"].startswith("files/") and file["name"][6:].isalnum() and file["name"][6:].islower()
    assert file["sizeBytes"] == str(len(data)) and file["displayName"] == "Blob"
    assert base64.b64decode(file["sha256Hash"]).decode() == hashlib.sha256(data).hexdigest()
    assert file["state"] == "ACTIVE" and file["source"] == "UPLOADED" and "downloadUri" not in file
    assert file["uri"] == f"https://genserve.test/v1beta/{file['name']}"
    assert file["createTime"].endswith("Z") and file["expirationTime"] > file["createTime"]
    got = await client.get(f"/v1/{file['name']}")
    assert got.status_code == 200 and got.json() == file
    downloaded = await client.get(f"/v1/{file['name']}:download", params={"alt": "media"})
    assert downloaded.content == data and downloaded.headers["content-type"] == "application/octet-stream"


async def test_empty_file_and_query_command(client):
    started = await start(client, 0)
    path = upload_path(started)
    q = await client.post(path, headers={"X-Goog-Upload-Command": "query"})
    assert q.headers["x-goog-upload-status"] == "active" and q.headers["x-goog-upload-size-received"] == "0"
    r = await client.post(path, headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"})
    assert r.status_code == 200 and r.json()["file"]["sizeBytes"] == "0"


async def test_range_requests_return_partial_content(client):
    file = await upload(client, b"0123456789", "text/plain")
    r = await client.get(f"/v1beta/{file['name']}:download?alt=media", headers={"Range": "bytes=2-5"})
    assert r.status_code == 206 and r.content == b"2345"
    assert r.headers["content-range"] == "bytes 2-5/10"


async def test_list_is_empty_object_then_pages(client):
    assert (await client.get("/v1beta/files")).json() == {}
    names = {(await upload(client, bytes([i]), "text/plain"))["name"] for i in range(5)}
    seen, token = [], ""
    while True:
        page = (await client.get("/v1beta/files", params={"pageSize": 2, "pageToken": token})).json()
        assert len(page["files"]) <= 2
        seen += [f["name"] for f in page["files"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert sorted(seen) == sorted(names)


async def test_delete_then_everything_answers_like_a_missing_file(client):
    file = await upload(client, b"bye", "text/plain")
    r = await client.delete(f"/v1/{file['name']}")
    assert r.status_code == 200 and r.json() == {}
    for response in (
        await client.get(f"/v1/{file['name']}"),
        await client.get(f"/v1/{file['name']}:download?alt=media"),
        await client.delete(f"/v1/{file['name']}"),
    ):
        assert_error(response, 403, "PERMISSION_DENIED")


async def test_user_chosen_names_are_kept_validated_and_unique(client):
    file = await upload(client, b"x", "text/plain", name="files/my-pic-1")
    assert file["name"] == "files/my-pic-1"
    r = await start(client, 1, name="files/my-pic-1")
    assert_error(r, 409, "ALREADY_EXISTS")
    for bad in ("files/UPPER", "files/-dash", "files/../../etc", "files/a/b", "files/" + "a" * 41, "files/a_b"):
        r = await start(client, 1, name=bad)
        assert "invalid" in assert_error(r, 400, "INVALID_ARGUMENT")
        assert r.headers["x-goog-upload-status"] == "final"


async def test_display_name_is_sanitised_and_mime_type_validated(client):
    file = await upload(client, b"x", "Text/Plain; charset=utf-8", display_name="a\x00b\nc" + "d" * 600)
    assert file["displayName"] == "abc" + "d" * 509 and file["mimeType"] == "text/plain"
    r = await start(client, 1, mime="not a mime")
    assert "MIME" in assert_error(r, 400)


@pytest.mark.parametrize(
    ("case", "needle"),
    [("wrong_offset", "Offset"), ("short_finalize", "declared"), ("too_many_bytes", "larger than")],
)
async def test_protocol_violations_abandon_the_upload(client, case, needle):
    started = await start(client, 10)
    path = upload_path(started)
    assert (await chunk(client, path, b"12345", 0)).headers["x-goog-upload-status"] == "active"
    if case == "wrong_offset":
        r = await chunk(client, path, b"67890", 3, finalize=True)
    elif case == "short_finalize":
        r = await chunk(client, path, b"678", 5, finalize=True)
    else:
        r = await chunk(client, path, b"6789012345", 5, finalize=True)
    assert needle in assert_error(r, 400, "INVALID_ARGUMENT")
    assert r.headers["x-goog-upload-status"] == "final"
    again = await chunk(client, path, b"67890", 5, finalize=True)  # the upload is gone, nothing was kept
    assert_error(again, 404)
    assert (await client.get("/v1beta/files")).json() == {}
    assert not list((client.app.state.settings.data_dir / "files" / "uploads").iterdir())


async def test_chunk_after_finalize_and_bad_upload_id(client):
    started = await start(client, 2)
    path = upload_path(started)
    assert (await chunk(client, path, b"ab", 0, finalize=True)).status_code == 200
    r = await chunk(client, path, b"cd", 2)
    assert "already finalized" in assert_error(r, 400) and r.headers["x-goog-upload-status"] == "final"
    r = await chunk(client, "/upload/v1beta/files?upload_id=forged&upload_protocol=resumable", b"x", 0)
    assert_error(r, 404, "NOT_FOUND")
    assert r.headers["x-goog-upload-status"] == "final"
    r = await client.post("/upload/v1beta/files", headers={"X-Goog-Upload-Protocol": "resumable"})
    assert_error(r, 400) and r.headers["x-goog-upload-status"] == "final"


async def test_single_request_media_and_multipart_uploads(client):
    r = await client.post(
        "/upload/v1beta/files?uploadType=media", content=b"raw bytes", headers={"Content-Type": "text/csv"}
    )
    assert r.status_code == 200 and r.json()["file"]["mimeType"] == "text/csv"
    boundary = "xyzzy"
    media = bytes(range(256)) * 3 + b"\r\n--xyzz"  # bytes that look like a boundary start must survive
    body = (
        (
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
            '{"file": {"displayName": "multi", "mimeType": "image/png"}}\r\n'
            f"--{boundary}\r\nContent-Type: image/png\r\n\r\n"
        ).encode()
        + media
        + f"\r\n--{boundary}--\r\n".encode()
    )
    r = await client.post(
        "/upload/v1beta/files?uploadType=multipart",
        content=body,
        headers={"Content-Type": f"multipart/related; boundary={boundary}"},
    )
    assert r.status_code == 200, r.text
    file = r.json()["file"]
    assert (file["displayName"], file["mimeType"], file["sizeBytes"]) == ("multi", "image/png", str(len(media)))
    assert (await client.get(f"/v1/{file['name']}:download?alt=media")).content == media


async def test_size_and_quota_limits(catalog, tmp_path):
    settings = make_settings(tmp_path, files_max_bytes=100, files_quota_bytes=150, files_max_count=3)
    async with app_client(catalog, settings) as c:
        assert "exceeds the limit of 100" in assert_error(await start(c, 101), 400)
        r = await c.post(
            "/upload/v1/files?uploadType=media", content=b"x" * 101, headers={"Content-Type": "text/plain"}
        )
        assert "larger than" in assert_error(r, 400)
        await upload(c, b"x" * 100)
        assert "quota" in assert_error(await start(c, 60), 429, "RESOURCE_EXHAUSTED")
        await upload(c, b"x" * 10)
        await upload(c, b"x" * 10)
        assert "count" in assert_error(await start(c, 1), 429)


async def test_files_are_private_to_each_api_key(catalog, tmp_path):
    async with app_client(catalog, make_settings(tmp_path, api_keys=["alice", "bob"])) as c:
        alice, bob = {"x-goog-api-key": "alice"}, {"x-goog-api-key": "bob"}
        file = await upload(c, b"alice's secret", headers=alice)
        assert (await c.get(f"/v1/{file['name']}", headers=alice)).status_code == 200
        for r in (
            await c.get(f"/v1/{file['name']}", headers=bob),
            await c.get(f"/v1/{file['name']}:download?alt=media", headers=bob),
            await c.delete(f"/v1/{file['name']}", headers=bob),
        ):
            assert_error(r, 403)
        assert (await c.get("/v1/files", headers=bob)).json() == {}
        use = {
            "contents": [{"parts": [{"fileData": {"fileUri": file["uri"], "mimeType": "text/plain"}}]}],
            "generationConfig": {"maxOutputTokens": 1},
        }
        assert_error(await c.post("/v1/models/gemini-2.0-flash:generateContent", json=use, headers=bob), 403)
        assert (await c.post("/v1/models/gemini-2.0-flash:generateContent", json=use, headers=alice)).status_code == 200
        # An upload URL is bound to the key that started it; without any key it still works (Python SDK).
        started = await start(c, 3, headers=alice)
        r = await chunk(c, upload_path(started), b"abc", 0, finalize=True, headers=bob)
        assert_error(r, 404)
        started = await start(c, 3, headers=alice)
        assert (await chunk(c, upload_path(started), b"abc", 0, finalize=True)).status_code == 200
        assert_error(await start(c, 3), 403)  # starting needs a key


async def test_text_files_are_read_into_prompts_and_other_kinds_are_refused(client):
    small = await upload(client, b"hi", "text/plain")
    big = await upload(client, ("lorem ipsum dolor sit amet " * 40).encode(), "text/plain")
    image = await upload(client, b"\x89PNG....", "image/png")

    def body(file, mime=None):
        part = {"fileData": {"fileUri": file["uri"], **({"mimeType": mime} if mime else {})}}
        return {"contents": [{"parts": [part, {"text": "Summarise"}]}], "generationConfig": {"maxOutputTokens": 2}}

    url = "/v1beta/models/gemini-2.0-flash:generateContent"
    counts = []
    for file in (small, big):
        r = await client.post(url, json=body(file, "text/plain"))
        assert r.status_code == 200, r.text
        counts.append(r.json()["usageMetadata"]["promptTokenCount"])
    assert counts[1] > counts[0] + 100
    by_name = await client.post(url, json={"contents": [{"parts": [{"fileData": {"fileUri": big["name"]}}]}]})
    assert by_name.status_code == 200
    tokens = await client.post(url.replace("generateContent", "countTokens"), json=body(big))
    assert tokens.json()["totalTokens"] == counts[1]
    text_only = url.replace("gemini-2.0-flash", "gemini-2.0-flash-lite")
    assert "image input" in assert_error(await client.post(text_only, json=body(image)), 400)
    assert "image input" in assert_error(await client.post(text_only, json=body(image, "image/png")), 400)
    missing = {**small, "uri": "https://genserve.test/v1beta/files/doesnotexist"}
    assert_error(await client.post(url, json=body(missing)), 403)


async def test_pages_stay_consistent_when_files_change_between_requests(client):
    names = [(await upload(client, bytes([i]), "text/plain"))["name"] for i in range(4)]
    first = (await client.get("/v1beta/files", params={"pageSize": 2})).json()
    await client.delete(f"/v1beta/{first['files'][0]['name']}")  # deleting a seen file shifts no later file
    await upload(client, b"new", "text/plain")  # a newer file belongs before the pages already read
    second = (await client.get("/v1beta/files", params={"pageSize": 2, "pageToken": first["nextPageToken"]})).json()
    assert [f["name"] for f in first["files"] + second["files"]] == names[::-1]
    r = await client.get("/v1beta/files", params={"pageToken": "not-a-token"})
    assert r.status_code == 400
