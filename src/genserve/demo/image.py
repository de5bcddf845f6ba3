"""Tiny random diffusers pipelines in the standard `model_index.json` layout, built offline in about a second.

Like the demo text models, nothing is downloaded: the CLIP tokenizer's byte-level vocabulary and merges are
generated here, every network is randomly initialised from a fixed seed, and the pipeline is written with
`save_pretrained`, so the server loads it through `DiffusionPipeline.from_pretrained` like a real checkpoint.
The images are noise-like; what is real is every code path and every shape."""

from __future__ import annotations

import string
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SD_DIR, PIX2PIX_DIR, KONTEXT_DIR = "image-sd", "image-pix2pix", "image-kontext"
TEXT_WIDTH = 32  # the text encoders' hidden size, which is the UNet's cross-attention width
CLIP_MAX_TOKENS = 77  # as in every Stable Diffusion checkpoint: long prompts are truncated for conditioning

# mypy reads `from diffusers import SomePipeline` as the placeholder class diffusers declares for installs
# without torch, which has no save_pretrained: hence the `type: ignore` where a pipeline is saved.


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """The same weights on every build, without disturbing the caller's random state."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _byte_alphabet() -> list[str]:
    """The 256 printable stand-ins for bytes that byte-level BPE (GPT-2, CLIP) uses."""
    from tokenizers import pre_tokenizers

    return sorted(pre_tokenizers.ByteLevel.alphabet())


def build_clip_tokenizer():
    """A CLIP tokenizer over every byte, with merges for the lowercase letter pairs so words take fewer tokens."""
    from transformers import CLIPTokenizer

    alphabet = _byte_alphabet()
    tokens = ["<|startoftext|>", "<|endoftext|>", *alphabet, *(c + "</w>" for c in alphabet)]
    pairs = [(a, b) for a in string.ascii_lowercase for b in string.ascii_lowercase]
    tokens += [a + b for a, b in pairs]
    vocab = {token: i for i, token in enumerate(tokens)}
    return CLIPTokenizer(vocab=vocab, merges=pairs, model_max_length=CLIP_MAX_TOKENS)


def _clip_text_model(tokenizer):
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=TEXT_WIDTH,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=CLIP_MAX_TOKENS,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return CLIPTextModel(config).eval()


def _sd_unet(in_channels: int):
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=16,  # 128 px at the VAE's factor 8: only a default, the engine always passes a size
        in_channels=in_channels,
        out_channels=4,
        block_out_channels=(16, 32),
        layers_per_block=1,
        norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_WIDTH,
        attention_head_dim=4,
    )


def _sd_vae():
    from diffusers import AutoencoderKL

    # Four levels, as in real Stable Diffusion: vae_scale_factor 2 ** (4 - 1) = 8.
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(8, 16, 16, 16),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1,
        norm_num_groups=8,
        sample_size=128,
    )


def _sd_components(unet_in_channels: int, seed: int) -> dict:
    from diffusers import EulerDiscreteScheduler

    tokenizer = build_clip_tokenizer()
    with seeded(seed):
        unet, vae, text_encoder = _sd_unet(unet_in_channels), _sd_vae(), _clip_text_model(tokenizer)
    return {
        "unet": unet,
        "vae": vae,
        "text_encoder": text_encoder,
        "tokenizer": tokenizer,
        "scheduler": EulerDiscreteScheduler(
            beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
        ),
    }


def build_sd_pipeline(target: Path) -> None:
    """A Stable Diffusion 1.x layout; image-to-image and inpainting come from it with `from_pipe`."""
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline(
        **_sd_components(unet_in_channels=4, seed=10),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(target)  # type: ignore[attr-defined]


def build_instruct_pix2pix_pipeline(target: Path) -> None:
    """InstructPix2Pix: the UNet reads 8 channels, the noisy latents and the latents of the image to edit."""
    from diffusers import StableDiffusionInstructPix2PixPipeline

    pipe = StableDiffusionInstructPix2PixPipeline(
        **_sd_components(unet_in_channels=8, seed=11),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(target)  # type: ignore[attr-defined]


def build_t5_tokenizer():
    """A T5 (Unigram) tokenizer over printable ASCII, with word-initial pieces and lowercase letter pairs."""
    from transformers import T5Tokenizer

    chars = [c for c in string.printable if not c.isspace()]
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    pieces += [(c, -5.0) for c in chars] + [("▁" + c, -4.0) for c in chars]
    pieces += [(a + b, -6.0) for a in string.ascii_lowercase for b in string.ascii_lowercase]
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def build_flux_kontext_pipeline(target: Path) -> None:
    """FLUX.1 Kontext: a rectified-flow transformer that edits by instruction (and draws without an image).

    Its latents are packed in 2x2 patches, so sizes are multiples of 16, not 8."""
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxKontextPipeline

    clip_tokenizer, t5_tokenizer = build_clip_tokenizer(), build_t5_tokenizer()
    with seeded(12):
        transformer, vae = _flux_transformer(), _flux_vae()
        text_encoder, text_encoder_2 = _clip_text_model(clip_tokenizer), t5_encoder(t5_tokenizer)
    pipe = FluxKontextPipeline(
        transformer=transformer,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=clip_tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=t5_tokenizer,
        scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True),
    )
    pipe.save_pretrained(target)  # type: ignore[attr-defined]


def t5_encoder(tokenizer):
    from transformers import T5Config, T5EncoderModel

    config = T5Config(vocab_size=len(tokenizer), d_model=TEXT_WIDTH, d_kv=8, d_ff=64, num_layers=2, num_heads=4)
    return T5EncoderModel(config).eval()


def _flux_transformer():
    from diffusers import FluxTransformer2DModel

    return FluxTransformer2DModel(
        patch_size=1,
        in_channels=64,  # 16 latent channels x a 2x2 patch
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=TEXT_WIDTH,  # the T5 width
        pooled_projection_dim=TEXT_WIDTH,  # the CLIP width
        guidance_embeds=True,  # guidance-distilled, as FLUX.1-dev and Kontext are
        axes_dims_rope=(4, 6, 6),  # sums to attention_head_dim
    )


def _flux_vae():
    from diffusers import AutoencoderKL

    # 16 latent channels and no quant convs, with FLUX's latent shift and scale; still factor 8.
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=16,
        block_out_channels=(8, 16, 16, 16),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1,
        norm_num_groups=8,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.0609,
        scaling_factor=1.5035,
    )
