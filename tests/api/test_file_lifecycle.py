"""Files over time: PROCESSING until probed, expiry and the sweeper, and restarts that lose nothing."""

import asyncio
import os
import time

from tests.api.files_helpers import chunk, start, upload, upload_path
from tests.conftest import FakeClock, app_client, make_settings
from tests.media import tiny_mp4


async def wait_for_state(client, name, timeout=20.0):
    for _ in range(int(timeout / 0.05)):
        file = (await client.get(f"/v1beta/{name}")).json()
        if file["state"] != "PROCESSING":
            return file
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} stayed PROCESSING")


async def test_video_is_processing_until_probed_then_active_with_its_duration(client, tmp_path):
    video = tiny_mp4(tmp_path / "v.mp4", seconds=1.5).read_bytes()
    file = await upload(client, video, "video/mp4")
    assert file["state"] == "PROCESSING"
    done = await wait_for_state(client, file["name"])
    assert done["state"] == "ACTIVE" and done["videoMetadata"] == {"videoDuration": "1.5s"}
    assert done["updateTime"] >= done["createTime"]


async def test_undecodable_media_ends_failed_with_an_error(client):
    file = await upload(client, b"definitely not a video" * 50, "video/mp4")
    done = await wait_for_state(client, file["name"])
    assert done["state"] == "FAILED" and done["error"]["code"] == 400 and done["error"]["message"]
    assert str(client.app.state.settings.data_dir) not in done["error"]["message"]  # no server paths leak
    r = await client.post(
        "/v1/models/gemini-2.0-flash:countTokens",
        json={"contents": [{"parts": [{"fileData": {"fileUri": file["uri"]}}]}]},
    )
    assert r.status_code == 400 and r.json()["error"]["status"] == "FAILED_PRECONDITION"


async def test_files_expire_after_48_hours_and_the_sweeper_deletes_their_bytes(catalog, tmp_path):
    clock = FakeClock()
    async with app_client(catalog, make_settings(tmp_path), clock=clock) as c:
        file = await upload(c, b"short-lived", "text/plain")
        blobs = c.app.state.services.files.blobs
        assert len(blobs.keys()) == 1
        clock.advance(hours=47, minutes=59)
        assert (await c.get(f"/v1/{file['name']}")).status_code == 200
        clock.advance(minutes=2)
        assert (await c.get(f"/v1/{file['name']}")).status_code == 403
        assert (await c.get(f"/v1/{file['name']}:download?alt=media")).status_code == 403
        assert (await c.get("/v1/files")).json() == {}
        assert len(blobs.keys()) == 1  # invisible at once, deleted by the next sweep
        assert await c.app.state.services.file_lifecycle.sweep() == 1
        assert blobs.keys() == []


async def test_ttl_is_configurable(catalog, tmp_path):
    clock = FakeClock()
    async with app_client(catalog, make_settings(tmp_path, files_ttl_hours=1), clock=clock) as c:
        file = await upload(c, b"x")
        clock.advance(hours=1, seconds=1)
        assert (await c.get(f"/v1/{file['name']}")).status_code == 403


async def test_files_and_half_done_uploads_survive_a_restart(catalog, tmp_path):
    settings = make_settings(tmp_path)
    async with app_client(catalog, settings) as c:
        kept = await upload(c, b"kept across restarts", "text/plain")
        started = await start(c, 10)
        path = upload_path(started)
        assert (await chunk(c, path, b"01234", 0)).status_code == 200
    async with app_client(catalog, settings) as c:  # a new process on the same data directory
        assert (await c.get(f"/v1/{kept['name']}")).json() == kept
        assert (await c.get(f"/v1/{kept['name']}:download?alt=media")).content == b"kept across restarts"
        q = await c.post(path, headers={"X-Goog-Upload-Command": "query"})
        assert q.headers["x-goog-upload-size-received"] == "5"
        r = await chunk(c, path, b"56789", 5, finalize=True)
        assert r.status_code == 200
        name = r.json()["file"]["name"]
        assert (await c.get(f"/v1/{name}:download?alt=media")).content == b"0123456789"


async def test_a_file_left_processing_by_a_restart_is_probed_again(catalog, tmp_path):
    settings = make_settings(tmp_path)
    async with app_client(catalog, settings) as c:
        c.app.state.services.files.on_processing = lambda record: None  # the process "dies" before probing
        file = await upload(c, tiny_mp4(tmp_path / "v.mp4").read_bytes(), "video/mp4")
        assert (await c.get(f"/v1/{file['name']}")).json()["state"] == "PROCESSING"
    async with app_client(catalog, settings) as c:
        assert (await wait_for_state(c, file["name"]))["state"] == "ACTIVE"


async def test_orphaned_blobs_and_stale_uploads_are_swept(catalog, tmp_path):
    clock = FakeClock()
    async with app_client(catalog, make_settings(tmp_path), clock=clock) as c:
        files = c.app.state.services.files
        await files.blobs.put("orphan", b"bytes nobody owns")
        await files.blobs.put("fresh", b"an upload whose record is being written right now")
        old = time.time() - 2 * 3600
        os.utime(files.blobs.path("orphan"), (old, old))
        started = await start(c, 10)
        await chunk(c, upload_path(started), b"01", 0)
        clock.advance(hours=49)
        await c.app.state.services.file_lifecycle.sweep()
        assert files.blobs.keys() == ["fresh"]
        assert not list(files.blobs.staging.iterdir())
