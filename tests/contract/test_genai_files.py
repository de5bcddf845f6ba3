"""The Files API from the newest google-genai, against live servers."""

import base64
import hashlib
import io
import os
import time

import pytest
from google import genai
from google.genai import errors, types

from tests.conftest import LiveServer, make_settings
from tests.media import tiny_mp4

pytestmark = [pytest.mark.contract, pytest.mark.live]


def client_for(url, key="test-key"):
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=url))


@pytest.fixture(scope="module")
def sdk(live):
    return client_for(live.url)


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).hexdigest().encode()).decode()


def test_upload_from_a_path_a_stream_and_in_several_chunks(sdk, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("genserve keeps your files on your machine.\n")
    from_path = sdk.files.upload(file=str(path))
    assert from_path.mime_type == "text/plain" and from_path.size_bytes == path.stat().st_size
    assert from_path.state == types.FileState.ACTIVE and from_path.source == types.FileSource.UPLOADED

    stream = sdk.files.upload(file=io.BytesIO(b"\x00\x01\x02"), config={"mime_type": "application/octet-stream"})
    assert stream.size_bytes == 3

    big = os.urandom(17 * 1024 * 1024)  # three requests of the SDK's 8 MiB chunks
    file = sdk.files.upload(file=io.BytesIO(big), config={"mime_type": "application/zip", "display_name": "Big"})
    assert file.size_bytes == len(big) and file.display_name == "Big"
    assert file.sha256_hash == sha256_b64(big)
    assert sdk.files.download(file=file.name) == big  # by name: the SDK refuses File objects without downloadUri


def test_get_list_pagination_and_delete(sdk):
    uploaded = [
        sdk.files.upload(file=io.BytesIO(f"file {i}".encode()), config={"mime_type": "text/plain"}) for i in range(3)
    ]
    got = sdk.files.get(name=uploaded[0].name)
    assert (got.name, got.size_bytes, got.sha256_hash) == (uploaded[0].name, 6, sha256_b64(b"file 0"))
    assert got.expiration_time - got.create_time == __import__("datetime").timedelta(hours=48)
    listed = [f.name for f in sdk.files.list(config={"page_size": 2})]
    assert {f.name for f in uploaded} <= set(listed) and len(listed) == len(set(listed))
    sdk.files.delete(name=uploaded[1].name)
    with pytest.raises(errors.ClientError) as gone:
        sdk.files.get(name=uploaded[1].name)
    assert gone.value.code == 403
    assert uploaded[1].name not in [f.name for f in sdk.files.list()]


def test_video_is_processing_until_active_as_the_docs_poll_for_it(sdk, tmp_path):
    video = sdk.files.upload(file=str(tiny_mp4(tmp_path / "clip.mp4", seconds=2)))
    assert video.state == types.FileState.PROCESSING
    deadline = time.monotonic() + 30
    while video.state == types.FileState.PROCESSING:  # the loop from Google's documentation
        assert time.monotonic() < deadline, "never became ACTIVE"
        time.sleep(0.1)
        video = sdk.files.get(name=video.name)
    assert video.state == types.FileState.ACTIVE
    assert video.video_metadata == {"videoDuration": "2s"}


def test_an_uploaded_file_is_used_in_generate_content(sdk, tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text("The quick brown fox jumps over the lazy dog. " * 30)
    file = sdk.files.upload(file=str(doc))
    config = {"max_output_tokens": 2}
    with_file = sdk.models.generate_content(model="gemini-2.0-flash", contents=[file, "Summarise it"], config=config)
    without = sdk.models.generate_content(model="gemini-2.0-flash", contents=["Summarise it"], config=config)
    assert with_file.usage_metadata.prompt_token_count > without.usage_metadata.prompt_token_count + 100
    counted = sdk.models.count_tokens(model="gemini-2.0-flash", contents=[file, "Summarise it"])
    assert counted.total_tokens == with_file.usage_metadata.prompt_token_count
    image = sdk.files.upload(file=io.BytesIO(b"\x89PNG\r\n"), config={"mime_type": "image/png"})
    with pytest.raises(errors.ClientError) as refused:
        sdk.models.generate_content(model="gemini-2.0-flash-lite", contents=[image, "Describe"], config=config)
    assert refused.value.code == 400 and "image input" in refused.value.message


def test_two_keys_do_not_see_each_others_files(catalog, tmp_path):
    with LiveServer(make_settings(tmp_path, api_keys=["alice", "bob"]), catalog) as server:
        alice, bob = client_for(server.url, "alice"), client_for(server.url, "bob")
        file = alice.files.upload(file=io.BytesIO(b"private"), config={"mime_type": "text/plain"})
        assert alice.files.get(name=file.name).size_bytes == 7
        with pytest.raises(errors.ClientError) as denied:
            bob.files.get(name=file.name)
        assert denied.value.code == 403
        assert list(bob.files.list()) == []
        with pytest.raises(errors.ClientError):
            bob.models.generate_content(model="gemini-2.0-flash", contents=[file, "x"], config={"max_output_tokens": 1})
        mallory = client_for(server.url, "mallory")  # kept in a variable: see test_genai_sdk's quickstart test
        with pytest.raises(errors.ClientError) as bad_key:
            mallory.files.list()
        assert bad_key.value.code == 400


def test_files_survive_a_server_restart(catalog, tmp_path):
    settings = make_settings(tmp_path)
    with LiveServer(settings, catalog) as first:
        before = client_for(first.url)
        file = before.files.upload(file=io.BytesIO(b"durable"), config={"mime_type": "text/plain"})
    with LiveServer(settings, catalog) as second:
        after = client_for(second.url)
        again = after.files.get(name=file.name)
        assert (again.size_bytes, again.sha256_hash) == (7, file.sha256_hash)
        assert after.files.download(file=file.name) == b"durable"


async def test_async_upload_and_get(sdk):
    file = await sdk.aio.files.upload(file=io.BytesIO(b"async bytes"), config={"mime_type": "text/plain"})
    assert (await sdk.aio.files.get(name=file.name)).size_bytes == 11
    await sdk.aio.files.delete(name=file.name)
