"""The polling fast path (api/operation_polls.py): a repeated poll of an unchanged operation is answered from its
last rendering, and anything that changes the answer (the row, the caller, the host) is seen at once."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.test_videos import VEO2, submit, wait
from tests.conftest import app_client, make_settings


class CountingGets:
    """Counts the full route's reads of an operation: a poll the fast path answers does not reach it."""

    def __init__(self, operations) -> None:
        self.calls = 0
        self._get = operations.get
        operations.get = self

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self._get(*args, **kwargs)


@pytest.fixture
async def keyed(catalog, tmp_path):
    async with app_client(catalog, make_settings(tmp_path, api_keys=["key-a", "key-b"])) as c:
        c.headers["x-goog-api-key"] = "key-a"
        yield c


async def test_an_unchanged_operation_is_answered_without_rendering_it_again(client):
    name = await submit(client, VEO2, {"prompt": "a wave"}, durationSeconds=5)
    done = await wait(client, name)
    gets = CountingGets(client.app.state.services.operations)
    first = await client.get(f"/v1beta/{name}")
    again = [await client.get(f"/v1beta/{name}") for _ in range(5)]
    model_path = await client.get(f"/v1beta/operations/{name.rpartition('/')[2]}")
    assert first.json() == done
    assert all(r.status_code == 200 and r.content == first.content for r in again + [model_path])
    assert again[-1].headers["content-type"] == "application/json"
    assert gets.calls <= 1  # the first may have been rendered by wait() already


async def test_a_changed_row_is_rendered_again(client):
    name = await submit(client, VEO2, {"prompt": "a wave"}, durationSeconds=5)
    seen = []
    while not seen or not seen[-1].get("done"):
        r = await client.get(f"/v1beta/{name}")  # polled while queued, running and done: each state shows
        assert r.status_code == 200
        if not seen or r.json() != seen[-1]:
            seen.append(r.json())
        await asyncio.sleep(0.01)
    assert "done" not in seen[0] and seen[-1]["done"] is True
    steps = [s.get("metadata", {}).get("stepsDone", 0) for s in seen[:-1]]
    assert steps == sorted(steps) and len(seen) >= 3  # queued or running, some progress, done
    # Deleted: the next poll is a 404 from the app, not the kept answer.
    assert (await client.delete(f"/v1beta/{name}")).status_code == 200
    r = await client.get(f"/v1beta/{name}")
    assert r.status_code == 404 and r.json()["error"]["status"] == "NOT_FOUND"


async def test_the_kept_answer_names_this_server_whatever_host_was_sent(client):
    name = await submit(client, VEO2, {"prompt": "a wave"}, durationSeconds=5)
    await wait(client, name)
    for host in ("genserve.test", "evil.example:9000", "genserve.test", "evil.example:9000"):
        r = await client.get(f"/v1beta/{name}", headers={"host": host})
        uri = r.json()["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
        assert uri.startswith("https://genserve.test/v1beta/files/") and "evil" not in r.text


async def test_keys_are_checked_and_operations_stay_private(keyed):
    name = await submit(keyed, VEO2, {"prompt": "a wave"}, durationSeconds=5)
    await wait(keyed, name)
    assert (await keyed.get(f"/v1beta/{name}")).status_code == 200  # kept now
    other = await keyed.get(f"/v1beta/{name}", headers={"x-goog-api-key": "key-b"})
    assert other.status_code == 404
    missing = await keyed.get(f"/v1beta/{name}", headers={"x-goog-api-key": ""})
    assert missing.status_code == 403 and missing.json()["error"]["status"] == "PERMISSION_DENIED"
    wrong = await keyed.get(f"/v1beta/{name}", headers={"x-goog-api-key": "nope"})
    assert wrong.status_code == 400 and wrong.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    bearer = await keyed.get(f"/v1beta/{name}", headers={"x-goog-api-key": "", "authorization": "Bearer key-a"})
    query = await keyed.get(f"/v1beta/{name}", params={"key": "key-a"}, headers={"x-goog-api-key": ""})
    assert bearer.status_code == query.status_code == 200 and bearer.json() == query.json()


async def test_unknown_and_malformed_operations_get_the_apps_errors(client):
    assert (await client.get("/v1beta/operations/abc123")).status_code == 404
    r = await client.get("/v1beta/operations/NOT-AN-ID")
    assert r.status_code == 404 and r.json()["error"]["status"] == "NOT_FOUND"
