"""Tiny random video and audio pipelines (LTX-Video, Wan 2.1, Stable Audio) in the standard diffusers layout."""

from __future__ import annotations

from pathlib import Path

from genserve.demo_image import TEXT_WIDTH, _seeded, _t5_encoder, build_t5_tokenizer

LTX_DIR, WAN_DIR, AUDIO_DIR = "video-ltx", "video-wan", "audio-stable"
T5_MAX_TOKENS = 128  # as in LTX-Video's and Stable Audio Open's tokenizers: the pipelines pad prompts to it


def _t5_tokenizer():
    tokenizer = build_t5_tokenizer()
    tokenizer.model_max_length = T5_MAX_TOKENS  # saved in tokenizer_config.json
    return tokenizer


def build_ltx_pipeline(target: Path) -> None:
    """LTX-Video text-to-video; image-to-video comes from it with `from_pipe`.

    The VAE keeps the real compression (4x4 patches and three 2x stages: 32x in space, 8x in time), so sizes
    and frame counts follow the real model's rules, with 8 channels or fewer so that 8 s of video decode fast."""
    from diffusers import FlowMatchEulerDiscreteScheduler, LTXPipeline

    tokenizer = _t5_tokenizer()
    with _seeded(20):
        pipe = LTXPipeline(
            transformer=_ltx_transformer(),
            vae=_ltx_vae(),
            text_encoder=_t5_encoder(tokenizer),
            tokenizer=tokenizer,
            scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True),
        )
    pipe.save_pretrained(target)


LTX_LATENT = 8  # latent channels (real: 128)


def _ltx_transformer():
    from diffusers import LTXVideoTransformer3DModel

    return LTXVideoTransformer3DModel(
        in_channels=LTX_LATENT,
        out_channels=LTX_LATENT,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        num_layers=1,
        caption_channels=TEXT_WIDTH,
    )


def _ltx_vae():
    from diffusers import AutoencoderKLLTXVideo

    return AutoencoderKLLTXVideo(
        latent_channels=LTX_LATENT,
        block_out_channels=(4, 8, 8, 8),
        decoder_block_out_channels=(4, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        patch_size=4,
    )


def build_stable_audio_pipeline(target: Path) -> None:
    """Stable Audio Open: a DiT over Oobleck latents (hop 2048 at 44.1 kHz, stereo), a window of about 3 s here.

    The real checkpoint's cosine DPM-Solver scheduler needs `torchsde`; EDM DPM-Solver++ (same sigma range,
    no SDE noise) samples the same model without it."""
    from diffusers import EDMDPMSolverMultistepScheduler, StableAudioPipeline
    from diffusers.pipelines.stable_audio import StableAudioProjectionModel

    tokenizer = _t5_tokenizer()
    with _seeded(30):
        text_encoder = _t5_encoder(tokenizer)
        projection = StableAudioProjectionModel(
            text_encoder_dim=TEXT_WIDTH, conditioning_dim=TEXT_WIDTH, min_value=0, max_value=512
        )
        pipe = StableAudioPipeline(
            vae=_oobleck_vae(),
            text_encoder=text_encoder,
            projection_model=projection,
            tokenizer=tokenizer,
            transformer=_stable_audio_dit(),
            scheduler=EDMDPMSolverMultistepScheduler(
                sigma_min=0.3,
                sigma_max=500.0,
                sigma_data=1.0,
                sigma_schedule="exponential",
                prediction_type="v_prediction",
            ),
        )
    pipe.save_pretrained(target)


AUDIO_LATENT = 8  # Oobleck latent channels (real: 64)


def _oobleck_vae():
    from diffusers import AutoencoderOobleck

    # The real downsampling (2 * 4 * 4 * 8 * 8 = 2048 samples per latent step), with 2-channel convolutions.
    return AutoencoderOobleck(
        encoder_hidden_size=2,
        downsampling_ratios=[2, 4, 4, 8, 8],
        channel_multiples=[1, 2, 2, 2, 2],
        decoder_channels=2,
        decoder_input_channels=AUDIO_LATENT,
        audio_channels=2,
        sampling_rate=44100,
    )


def _stable_audio_dit():
    from diffusers import StableAudioDiTModel

    return StableAudioDiTModel(
        sample_size=64,  # latent steps per window: 64 * 2048 / 44100 = 2.97 s
        in_channels=AUDIO_LATENT,
        num_layers=1,
        attention_head_dim=8,
        num_attention_heads=2,
        num_key_value_attention_heads=1,
        out_channels=AUDIO_LATENT,
        cross_attention_dim=16,
        time_proj_dim=16,
        global_states_input_dim=2 * TEXT_WIDTH,  # the start and end seconds, one conditioning vector each
        cross_attention_input_dim=TEXT_WIDTH,
    )
