"""Mistral: image generation through the Conversations API, and Pixtral review (adapter)."""
