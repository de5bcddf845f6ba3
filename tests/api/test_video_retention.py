"""Generated videos expire after GENSERVE_GENERATED_FILES_TTL_HOURS; the operation that made them outlives its file
until the operations sweep, then it is gone too. A FakeClock stands in for the hours; the file sweeper runs for real
(files_sweep_interval_s is tiny), the operations sweep is called directly as its timer is a minute of real time."""

from __future__ import annotations

import asyncio
import re

from tests.conftest import FakeClock, app_client, make_settings

VEO2 = "/v1beta/models/veo-2.0-generate-001"
VERTEX_VEO2 = "/v1beta1/publishers/google/models/veo-2.0-generate-001"
BODY = {"instances": [{"prompt": "a kite over the dunes"}], "parameters": {"durationSeconds": 5}}


async def wait_done(client, poll) -> dict:
    for _ in range(1200):
        r = await poll()
        assert r.status_code == 200, r.text
        if r.json().get("done"):
            return r.json()
        await asyncio.sleep(0.05)
    raise AssertionError("the operation did not finish")


async def wait_until(predicate, what: str) -> None:
    for _ in range(200):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(what)


async def test_the_video_expires_and_is_swept_while_the_operation_still_answers(catalog, tmp_path):
    clock = FakeClock()
    settings = make_settings(tmp_path, generated_files_ttl_hours=1, files_sweep_interval_s=0.05)
    async with app_client(catalog, settings, clock=clock) as c:
        r = await c.post(f"{VEO2}:predictLongRunning", json=BODY)
        assert r.status_code == 200, r.text
        name = r.json()["name"]
        operation = await wait_done(c, lambda: c.get(f"/v1beta/{name}"))
        [sample] = operation["response"]["generateVideoResponse"]["generatedSamples"]
        file_id = re.search(r"/files/([a-z0-9]+):download", sample["video"]["uri"]).group(1)
        blobs = c.app.state.services.files.blobs
        assert len(blobs.keys()) == 1

        clock.advance(minutes=59)
        file = (await c.get(f"/v1beta/files/{file_id}")).json()
        assert file["source"] == "GENERATED" and file["expirationTime"].startswith("2026-01-01T01:00:00"), file
        download = await c.get(f"/v1beta/files/{file_id}:download?alt=media")
        assert download.status_code == 200 and download.headers["content-type"] == "video/mp4"
        assert c.app.state.services.operations.expire() == 0, "an operation went before its retention ended"

        clock.advance(minutes=2)  # past the 1 h TTL
        download = await c.get(f"/v1beta/files/{file_id}:download?alt=media")
        assert download.status_code in (403, 404), f"an expired video still downloads: {download.status_code}"
        assert (await c.get(f"/v1beta/files/{file_id}")).status_code in (403, 404)
        await wait_until(lambda: blobs.keys() == [], "the file sweep did not delete the expired video's bytes")

        # The operation still answers (done, no error) until the operations sweep runs.
        operation = (await c.get(f"/v1beta/{name}")).json()
        assert operation.get("done") is True and "error" not in operation, operation
        assert "generateVideoResponse" in operation["response"], operation

        assert c.app.state.services.operations.expire() == 1
        r = await c.get(f"/v1beta/{name}")
        assert r.status_code == 404 and r.json()["error"]["status"] == "NOT_FOUND", r.text


async def test_an_expired_vertex_video_does_not_break_fetch_predict_operation(catalog, tmp_path):
    # The Vertex answer inlines the bytes: once they are swept, the fetch must still answer, not fail reading them.
    clock = FakeClock()
    settings = make_settings(tmp_path, generated_files_ttl_hours=1, files_sweep_interval_s=0.05)
    async with app_client(catalog, settings, clock=clock) as c:
        r = await c.post(f"{VERTEX_VEO2}:predictLongRunning", json=BODY)
        assert r.status_code == 200, r.text
        name = r.json()["name"]
        fetch = {"operationName": name}
        operation = await wait_done(c, lambda: c.post(f"{VERTEX_VEO2}:fetchPredictOperation", json=fetch))
        assert len(operation["response"]["videos"]) == 1, operation
        blobs = c.app.state.services.files.blobs
        clock.advance(hours=1, minutes=1)
        await wait_until(lambda: blobs.keys() == [], "the file sweep did not delete the expired video's bytes")
        r = await c.post(f"{VERTEX_VEO2}:fetchPredictOperation", json=fetch)
        assert r.status_code == 200, r.text
        assert r.json().get("done") is True and "error" not in r.json(), r.json()
        assert all(v.get("bytesBase64Encoded") for v in r.json()["response"]["videos"]), "an empty video was inlined"
