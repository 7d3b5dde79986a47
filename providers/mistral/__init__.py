"""Mistral: image generation through the Conversations API, and Pixtral review (adapter).
Its entry in the provider table is spec; factory builds its adapters for the worker."""
