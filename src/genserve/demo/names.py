"""Google's model names that the default catalog answers to, by kind of model."""

from __future__ import annotations

# Google's documented names, so code copied from the docs runs unchanged against the demo.
CHAT_ALIASES = ["gemini-2.0-flash-lite", "gemini-1.5-flash", "gemini-1.5-pro"]
VISION_ALIASES = ["gemini-2.0-flash", "gemini-2.0-flash-001"]
THINKING_ALIASES = [
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-flash-latest",
    "gemini-flash-lite-latest",
    "gemini-3-flash-preview",
    # Every other name Gemini CLI 0.61 sends (docs/gemini-cli.md), so it runs against the demo as installed.
    "gemini-3.5-flash-lite",
    "gemini-3.8-flash",
    "gemini-3.5-flash",
    "gemini-3-flash",
    "gemini-3.1-flash-lite",
    "gemini-3.1-flash-lite-preview",
    "gemma-4-31b-it",
    "gemma-4-26b-a4b-it",
]
THINKING_PRO_ALIASES = [
    "gemini-2.5-pro",
    "gemini-pro-latest",
    "gemini-3-pro-preview",
    "gemini-3.1-pro-preview",
    "gemini-3.1-pro-preview-customtools",
]
EMBEDDING_ALIASES = ["gemini-embedding-001", "text-embedding-004", "embedding-001"]
IMAGEN_ALIASES = [
    "imagen-3.0-generate-002",
    "imagen-3.0-generate-001",
    "imagen-3.0-fast-generate-001",
    "imagen-4.0-generate-preview-06-06",
    "imagen-4.0-generate-001",
    "imagen-4.0-fast-generate-001",
    "imagen-3.0-capability-001",  # edit_image (Vertex)
    "imagen-4.0-upscale-preview",  # upscale_image (Vertex)
]
# Veo 2: silent, image-to-video (and a last frame), 16:9 or 9:16, 5 to 8 seconds.
VEO2_ALIASES = ["veo-2.0-generate-001", "veo-2.0-generate-exp"]
# Veo 3: audio always on, 16:9, 8 seconds, 720p or 1080p; 3.0 takes a prompt only, 3.1 an image too.
VEO3_ALIASES = ["veo-3.0-generate-preview", "veo-3.0-generate-001", "veo-3.0-fast-generate-001"]
VEO31_ALIASES = ["veo-3.1-generate-preview", "veo-3.1-fast-generate-preview"]
IMAGEN_ULTRA_ALIASES = ["imagen-4.0-ultra-generate-preview-06-06", "imagen-4.0-ultra-generate-001"]
# Gemini-native image output; the first model family cannot answer with images alone, the second can.
IMAGE_CHAT_ALIASES = ["gemini-2.0-flash-preview-image-generation", "gemini-2.0-flash-exp-image-generation"]
IMAGE_CHAT_ONLY_ALIASES = ["gemini-2.5-flash-image", "gemini-2.5-flash-image-preview", "gemini-3-pro-image-preview"]
