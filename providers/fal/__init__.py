"""Flux and the upscalers on fal, through ``fal_client.AsyncClient``: one shared queue-job module
(jobs), one adapter per model family (flux, upscale).
Its entry in the provider table is spec; factory builds its adapters for the worker."""
