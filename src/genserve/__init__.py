"""genserve: the Gemini API served from open-weight models on your own hardware."""

__version__ = "0.1.0"
