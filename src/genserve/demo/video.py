"""Tiny random video and audio pipelines (LTX-Video, Wan 2.1, Stable Audio) in the standard diffusers layout."""

from __future__ import annotations

from pathlib import Path

from genserve.demo.image import TEXT_WIDTH, build_t5_tokenizer, seeded, t5_encoder

LTX_DIR, WAN_DIR, WAN_I2V_DIR, AUDIO_DIR = "video-ltx", "video-wan", "video-wan-i2v", "audio-stable"
T5_MAX_TOKENS = 128  # as in LTX-Video's and Stable Audio Open's tokenizers: the pipelines pad prompts to it
LTX_LATENT = 8  # latent channels (real: 128)
WAN_LATENT = 16  # the Wan 2.1 VAE's latent channels, whose normalisation constants come with the class
AUDIO_LATENT = 8  # Oobleck latent channels (real: 64)

# mypy reads `from diffusers import SomePipeline` as the placeholder class diffusers declares for installs
# without torch, which has no save_pretrained: hence the `type: ignore` where a pipeline is saved.


def _t5_tokenizer():
    tokenizer = build_t5_tokenizer()
    tokenizer.model_max_length = T5_MAX_TOKENS  # saved in tokenizer_config.json
    return tokenizer


def build_ltx_pipeline(target: Path) -> None:
    """LTX-Video text-to-video; the engine derives image-to-video and first-and-last-frame pipelines from it.

    The VAE keeps the real compression (4x4 patches and three 2x stages: 32x in space, 8x in time), so sizes
    and frame counts follow the real model's rules, with 8 channels or fewer so that 8 s of video decode fast."""
    from diffusers import LTXPipeline

    tokenizer = _t5_tokenizer()
    with seeded(20):
        pipe = LTXPipeline(
            transformer=_ltx_transformer(),
            vae=_ltx_vae(),
            text_encoder=t5_encoder(tokenizer),
            tokenizer=tokenizer,
            scheduler=ltx_scheduler(),
        )
    pipe.save_pretrained(target)  # type: ignore[attr-defined]


def ltx_scheduler():
    """LTX-Video 0.9's schedule: the shift grows with the number of latent tokens."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    return FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True,
        base_image_seq_len=1024,
        max_image_seq_len=4096,
        base_shift=0.95,
        max_shift=2.05,
        shift_terminal=0.1,
    )


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
    with seeded(30):
        text_encoder = t5_encoder(tokenizer)
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
    pipe.save_pretrained(target)  # type: ignore[attr-defined]


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


def build_wan_pipeline(target: Path) -> None:
    """Wan 2.1 text-to-video: a UMT5 text encoder, a flow-matching DiT over 2x2 patches and the Wan VAE
    (8x in space, 4x in time), so sizes are multiples of 16 and frame counts 4k+1, as in the real model."""
    from diffusers import UniPCMultistepScheduler, WanPipeline

    tokenizer = _t5_tokenizer()
    with seeded(40):
        pipe = WanPipeline(
            tokenizer=tokenizer,
            text_encoder=_umt5_encoder(tokenizer),
            vae=_wan_vae(),
            transformer=_wan_transformer(),
            # Wan's own sampler: UniPC over flow-matching sigmas.
            scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0),
        )
    pipe.save_pretrained(target)  # type: ignore[attr-defined]


def build_wan_i2v_pipeline(target: Path) -> None:
    """Wan 2.1 image-to-video: the transformer also reads the first frame's latents and a frame mask (36
    channels), and attends to CLIP vision features of the image; it cannot draw from text alone."""
    from diffusers import UniPCMultistepScheduler, WanImageToVideoPipeline
    from transformers import CLIPImageProcessorPil, CLIPVisionConfig, CLIPVisionModel

    tokenizer = _t5_tokenizer()
    vision = CLIPVisionConfig(
        hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=8
    )
    with seeded(41):
        pipe = WanImageToVideoPipeline(
            tokenizer=tokenizer,
            text_encoder=_umt5_encoder(tokenizer),
            vae=_wan_vae(),
            # The PIL processor: the default one needs torchvision, which CPU-only installs lack.
            image_processor=CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
            image_encoder=CLIPVisionModel(vision).eval(),
            transformer=_wan_transformer(in_channels=2 * WAN_LATENT + 4, image_dim=vision.hidden_size),
            scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0),
        )
    pipe.save_pretrained(target)  # type: ignore[attr-defined]


def _umt5_encoder(tokenizer):
    from transformers import UMT5Config, UMT5EncoderModel

    config = UMT5Config(vocab_size=len(tokenizer), d_model=TEXT_WIDTH, d_kv=8, d_ff=64, num_layers=2, num_heads=4)
    return UMT5EncoderModel(config).eval()


def _wan_vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=4, z_dim=WAN_LATENT, dim_mult=[1, 1, 1, 1], num_res_blocks=1)


def _wan_transformer(in_channels: int = WAN_LATENT, image_dim: int | None = None):
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=in_channels,
        out_channels=WAN_LATENT,
        text_dim=TEXT_WIDTH,
        freq_dim=32,
        ffn_dim=32,
        num_layers=1,
        rope_max_seq_len=1024,  # the real value: rotary tables must cover the patch grid of the largest video
        image_dim=image_dim,
        added_kv_proj_dim=None if image_dim is None else 24,  # the image keys and values, at the inner width
    )
