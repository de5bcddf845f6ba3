"""The diffusers video and audio engines on tiny random LTX-Video, Wan 2.1 and Stable Audio pipelines built here,
offline, and the MP4 writer they feed."""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genserve.core.video_types import AudioRequest, VideoRequest
from genserve.demo.video import (
    AUDIO_DIR,
    LTX_DIR,
    WAN_DIR,
    WAN_I2V_DIR,
    build_ltx_pipeline,
    build_stable_audio_pipeline,
    build_wan_i2v_pipeline,
    build_wan_pipeline,
)
from genserve.engines.hf_audio import DiffusersAudioEngine, join_pieces
from genserve.engines.hf_diffusers_video import DiffusersVideoEngine, family_of
from genserve.errors import InvalidArgument
from genserve.media.mp4 import encode_mp4, read_mp4_info

STEPS = 2
W, H = 160, 96  # 16:9 at the demo's size, snapped to LTX's multiple of 32


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("video-models")
    started = time.monotonic()
    build_ltx_pipeline(target / LTX_DIR)
    build_stable_audio_pipeline(target / AUDIO_DIR)
    assert time.monotonic() - started < 30  # about 1.5 s; the bound only catches something gone badly wrong
    return target


@pytest.fixture(scope="module")
def ltx(model_dir: Path) -> Iterator[DiffusersVideoEngine]:
    engine = DiffusersVideoEngine(str(model_dir / LTX_DIR), {"dtype": "float32", "steps": STEPS})
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def audio(model_dir: Path) -> Iterator[DiffusersAudioEngine]:
    engine = DiffusersAudioEngine(str(model_dir / AUDIO_DIR), {"dtype": "float32", "steps": STEPS})
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def wan(model_dir: Path) -> Iterator[DiffusersVideoEngine]:
    build_wan_pipeline(model_dir / WAN_DIR)
    engine = DiffusersVideoEngine(str(model_dir / WAN_DIR), {"dtype": "float32", "steps": STEPS})
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def wan_i2v(model_dir: Path) -> Iterator[DiffusersVideoEngine]:
    build_wan_i2v_pipeline(model_dir / WAN_I2V_DIR)
    engine = DiffusersVideoEngine(str(model_dir / WAN_I2V_DIR), {"dtype": "float32", "steps": STEPS})
    yield engine
    engine.close()


def pixels(video: list[Image.Image]) -> np.ndarray:
    return np.stack([np.asarray(frame, dtype=np.int16) for frame in video])


def picture(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> Image.Image:
    return Image.new("RGB", size, colour)


def test_checkpoints_are_standard_diffusers_layouts(model_dir: Path) -> None:
    ltx_index = json.loads((model_dir / LTX_DIR / "model_index.json").read_text())
    assert ltx_index["_class_name"] == "LTXPipeline"
    assert {"transformer", "vae", "text_encoder", "tokenizer", "scheduler"} <= set(ltx_index)
    audio_index = json.loads((model_dir / AUDIO_DIR / "model_index.json").read_text())
    assert audio_index["_class_name"] == "StableAudioPipeline"
    assert audio_index["scheduler"][1] == "EDMDPMSolverMultistepScheduler"  # the cosine one needs torchsde


def test_ltx_sizes_and_frame_counts_follow_the_real_model(ltx: DiffusersVideoEngine) -> None:
    assert family_of(ltx.pipe).name == "LTX-Video"
    assert ltx.size_multiple == 32  # 4x4 patches and three 2x stages, as in the real VAE
    assert ltx.image_to_video and ltx.last_frame
    counts = {frames: ltx.frame_count(frames) for frames in (1, 2, 9, 10, 24, 25, 120, 192, 193)}
    assert counts == {1: 1, 2: 9, 9: 9, 10: 17, 24: 25, 25: 25, 120: 121, 192: 193, 193: 193}


async def test_text_to_video_has_exact_frames_size_and_count(ltx: DiffusersVideoEngine) -> None:
    videos = await ltx.generate(VideoRequest("a red kite over a beach", W, H, num_frames=25, count=2, seed=1))
    assert len(videos) == 2
    for video in videos:
        assert len(video) == 25
        assert {frame.size for frame in video} == {(W, H)} and {frame.mode for frame in video} == {"RGB"}
    assert np.abs(pixels(videos[0]) - pixels(videos[1])).mean() > 0  # seed + i: each video differs


async def test_eight_seconds_at_the_demo_size_render_in_seconds(ltx: DiffusersVideoEngine) -> None:
    began = time.monotonic()
    (video,) = await ltx.generate(VideoRequest("waves", W, H, num_frames=ltx.frame_count(8 * 24), seed=2))
    assert len(video) == 193 and video[-1].size == (W, H)
    assert time.monotonic() - began < 30  # about 0.3 s warm on 2 cores; the bound only catches a regression


async def test_same_seed_same_video_and_video_i_is_seed_plus_i(ltx: DiffusersVideoEngine) -> None:
    first = await ltx.generate(VideoRequest("fog", W, H, num_frames=9, count=2, seed=7))
    again = await ltx.generate(VideoRequest("fog", W, H, num_frames=9, count=2, seed=7))
    (alone,) = await ltx.generate(VideoRequest("fog", W, H, num_frames=9, seed=8))
    assert np.array_equal(pixels(first[0]), pixels(again[0])) and np.array_equal(pixels(first[1]), pixels(again[1]))
    # Batched kernels round differently from single ones: the same noise gives the same video, to a pixel level.
    assert np.abs(pixels(first[1]) - pixels(alone)).max() <= 2
    (other,) = await ltx.generate(VideoRequest("fog", W, H, num_frames=9, seed=9))
    assert np.abs(pixels(alone) - pixels(other)).mean() > 1


async def test_first_frame_conditions_the_video(ltx: DiffusersVideoEngine) -> None:
    common = {"prompt": "a lighthouse", "width": W, "height": H, "num_frames": 17, "seed": 3}
    (text,) = await ltx.generate(VideoRequest(**common))
    red, blue = await asyncio.gather(
        ltx.generate(VideoRequest(**common, count=2, image=picture((255, 0, 0)))),
        ltx.generate(VideoRequest(**common, image=picture((0, 0, 255), size=(300, 200)))),  # any size is fitted
    )
    assert len(red) == 2 and all(len(v) == 17 and v[0].size == (W, H) for v in [*red, *blue])
    assert not np.array_equal(pixels(red[0]), pixels(text))
    assert not np.array_equal(pixels(red[0]), pixels(blue[0]))


async def test_first_and_last_frame(ltx: DiffusersVideoEngine) -> None:
    request = VideoRequest(
        "dusk", W, H, num_frames=17, count=2, seed=4, image=picture((255, 0, 0)), last_frame=picture((0, 0, 255))
    )
    videos = await ltx.generate(request)
    assert [len(v) for v in videos] == [17, 17] and videos[0][-1].size == (W, H)
    (first_only,) = await ltx.generate(VideoRequest("dusk", W, H, num_frames=17, seed=4, image=picture((255, 0, 0))))
    assert not np.array_equal(pixels(videos[0]), pixels(first_only))


async def test_client_errors_are_invalid_argument(ltx: DiffusersVideoEngine) -> None:
    with pytest.raises(InvalidArgument, match="first frame"):
        await ltx.generate(VideoRequest("x", W, H, num_frames=9, last_frame=picture((0, 0, 0))))
    with pytest.raises(InvalidArgument, match="multiples of 32"):
        await ltx.generate(VideoRequest("x", 100, H, num_frames=9))
    with pytest.raises(InvalidArgument, match="8k\\+1"):
        await ltx.generate(VideoRequest("x", W, H, num_frames=24))


async def test_cancelling_stops_the_pipeline_and_frees_the_engine(ltx: DiffusersVideoEngine) -> None:
    loop = asyncio.get_running_loop()
    started = asyncio.Event()
    seen: list[tuple[int, int]] = []

    def on_step(done: int, total: int) -> None:
        seen.append((done, total))
        loop.call_soon_threadsafe(started.set)

    task = asyncio.create_task(ltx.generate(VideoRequest("long", W, H, num_frames=9, steps=2000), on_step))
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    began = time.monotonic()
    after: list[tuple[int, int]] = []
    (video,) = await ltx.generate(VideoRequest("next", W, H, num_frames=9), lambda *s: after.append(s))
    assert time.monotonic() - began < 10  # the cancelled call left the engine's thread at its next step
    assert len(video) == 9 and after == [(1, STEPS), (2, STEPS)]
    assert seen[-1][1] == 2000 and len(seen) < 2000


async def test_count_tokens_is_untruncated(ltx: DiffusersVideoEngine) -> None:
    assert 0 < await ltx.count_tokens("a cat") < 10
    long_prompt = "a slow aerial shot over a misty pine forest at sunrise " * 20
    assert await ltx.count_tokens(long_prompt) > 128 * 3  # the pipeline itself keeps 128
    (video,) = await ltx.generate(VideoRequest(long_prompt, W, H, num_frames=9))
    assert len(video) == 9


def test_memory_counts_every_weight_once(ltx: DiffusersVideoEngine) -> None:
    import torch

    modules = [m for m in ltx.pipe.components.values() if isinstance(m, torch.nn.Module)]
    expected = sum(p.numel() * 4 for m in modules for p in m.parameters())
    assert expected <= ltx.memory_bytes() < expected * 1.1  # the image-to-video variants share every weight


async def test_bfloat16_weights_generate(model_dir: Path) -> None:
    import torch

    # One step: LTX-Video's schedule (shift_terminal) cannot make a single step, so the engine makes two.
    engine = DiffusersVideoEngine(str(model_dir / LTX_DIR), {"dtype": "bfloat16", "steps": 1})
    try:
        assert engine.pipe.transformer.dtype == torch.bfloat16
        (video,) = await engine.generate(VideoRequest("bf16", W, H, num_frames=9, seed=0))
        assert len(video) == 9 and video[0].size == (W, H) and video[0].mode == "RGB"
    finally:
        engine.close()


async def test_wan_text_to_video_follows_its_rules(wan: DiffusersVideoEngine) -> None:
    assert family_of(wan.pipe).name == "Wan" and wan.size_multiple == 16  # 8x VAE, 2x2 patches
    assert {n: wan.frame_count(n) for n in (1, 2, 5, 6, 24, 192)} == {1: 1, 2: 5, 5: 5, 6: 9, 24: 25, 192: 193}
    assert not wan.image_to_video and not wan.last_frame  # a text-to-video checkpoint
    videos = await wan.generate(VideoRequest("a kite", 64, 48, num_frames=9, count=2, seed=1))
    assert [len(v) for v in videos] == [9, 9] and {f.size for v in videos for f in v} == {(64, 48)}
    with pytest.raises(InvalidArgument, match="cannot animate an image"):
        await wan.generate(VideoRequest("a kite", 64, 48, num_frames=9, image=picture((255, 0, 0))))


async def test_wan_image_to_video_checkpoint_needs_the_image(wan_i2v: DiffusersVideoEngine) -> None:
    assert wan_i2v.image_to_video and not wan_i2v.last_frame  # I2V, not first-and-last (FLF2V) weights
    videos = await wan_i2v.generate(VideoRequest("a kite", 64, 48, num_frames=9, count=2, image=picture((9, 9, 9))))
    assert [len(v) for v in videos] == [9, 9] and videos[1][8].size == (64, 48)  # more than one video per prompt
    with pytest.raises(InvalidArgument, match="cannot generate video from text"):
        await wan_i2v.generate(VideoRequest("a kite", 64, 48, num_frames=9))
    with pytest.raises(InvalidArgument, match="first and a last frame"):
        image, last = picture((0, 0, 0)), picture((255, 255, 255))
        await wan_i2v.generate(VideoRequest("a kite", 64, 48, num_frames=9, image=image, last_frame=last))


async def test_audio_has_the_exact_length_channels_and_range(audio: DiffusersAudioEngine) -> None:
    assert (audio.sample_rate, audio.channels) == (44100, 2)
    track = await audio.generate(AudioRequest("rain on a tin roof", seconds=2.5, seed=1))
    assert track.dtype == np.float32 and track.shape == (2, round(2.5 * 44100))
    assert -1.0 <= track.min() < track.max() <= 1.0
    same = await audio.generate(AudioRequest("rain on a tin roof", seconds=2.5, seed=1))
    assert np.array_equal(track, same)


async def test_long_audio_is_joined_from_pieces(audio: DiffusersAudioEngine) -> None:
    assert audio.window / audio.sample_rate < 3.0  # the tiny model's window: 8 s needs three pieces
    track = await audio.generate(AudioRequest("a busy street", seconds=8.0, seed=5))
    assert track.shape == (2, 8 * 44100) and np.abs(track[:, -1000:]).max() > 0  # no silent padding at the end
    shorter = await audio.generate(AudioRequest("a busy street", seconds=1.01, seed=5))
    assert shorter.shape == (2, round(1.01 * 44100))


def test_pieces_are_crossfaded() -> None:
    ones, zeros = np.ones((2, 100), np.float32), np.zeros((2, 100), np.float32)
    joined = join_pieces([ones, zeros, ones], fade=10)
    assert joined.shape == (2, 280)
    assert np.all(joined[:, :90] == 1) and np.all(joined[:, 100:180] == 0) and np.all(joined[:, 190:] == 1)
    assert np.all(np.diff(joined[0, 89:101]) <= 1e-6)  # a smooth fall, no click


async def test_audio_cancel_leaves_the_engine_usable(audio: DiffusersAudioEngine) -> None:
    task = asyncio.create_task(audio.generate(AudioRequest("long", seconds=2.0, steps=5000)))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    began = time.monotonic()
    track = await audio.generate(AudioRequest("next", seconds=1.0))
    assert track.shape == (2, 44100) and time.monotonic() - began < 10


def mp4_boxes(data: bytes) -> list[str]:
    """Top-level box types, read here independently of the module under test."""
    kinds, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        kinds.append(kind.decode())
        offset += struct.unpack(">Q", data[offset + 8 : offset + 16])[0] if size == 1 else size
    return kinds


async def test_mp4_round_trip_with_soundtrack(ltx: DiffusersVideoEngine, audio: DiffusersAudioEngine) -> None:
    (video,) = await ltx.generate(VideoRequest("harbour", W, H, num_frames=ltx.frame_count(2 * 24), seed=6))
    track = await audio.generate(AudioRequest("gulls", seconds=len(video) / 24, seed=6))
    info = read_mp4_info(encode_mp4(video, 24, track, audio.sample_rate))
    assert (info["codec"], info["pix_fmt"], info["width"], info["height"]) == ("h264", "yuv420p", W, H)
    assert info["fps"] == 24.0 and info["frames"] == 49
    assert info["duration_s"] == pytest.approx(49 / 24, abs=1e-3)
    sound = info["audio"]
    assert (sound["codec"], sound["sample_rate"], sound["channels"]) == ("aac", 44100, 2)
    assert sound["duration_s"] == pytest.approx(49 / 24, abs=1024 / 44100)  # within one AAC frame


def test_mp4_is_faststart_and_audio_is_fitted_to_the_video() -> None:
    frames = [Image.new("RGB", (64, 36), (i * 20, 0, 0)) for i in range(12)]
    mono = np.zeros((1, 44100 * 3), np.float32)  # three seconds of mono for half a second of video
    data = encode_mp4(frames, 24, mono, 44100)
    boxes = mp4_boxes(data)
    assert boxes.index("moov") < boxes.index("mdat")  # playable while downloading
    info = read_mp4_info(data)
    assert info["faststart"] and info["frames"] == 12
    assert info["audio"]["channels"] == 2 and info["audio"]["duration_s"] == pytest.approx(0.5, abs=1024 / 44100)
    silent = read_mp4_info(encode_mp4(frames, 24, None, None))
    assert silent["audio"] is None and silent["frames"] == 12


def test_mp4_needs_an_even_size() -> None:
    with pytest.raises(ValueError, match="even"):
        encode_mp4([Image.new("RGB", (65, 36))] * 3, 24, None, None)
    with pytest.raises(ValueError, match="even"):
        encode_mp4([Image.new("RGB", (64, 35))] * 3, 24, None, None)
