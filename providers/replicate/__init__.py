"""Flux and Real-ESRGAN on Replicate, through the ``replicate`` client: one shared prediction module
(jobs), one adapter per model family (flux, upscale).
Its entry in the provider table is spec; factory builds its adapters for the worker."""
