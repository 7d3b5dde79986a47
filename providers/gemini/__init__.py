"""Gemini: image generation (2.5 Flash Image) and vision review via ``generateContent`` (adapter)."""
