"""Gemini: image generation (2.5 Flash Image) and vision review via ``generateContent`` (adapter).
Its entry in the provider table is spec; factory builds its adapters for the worker."""
