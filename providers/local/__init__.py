"""Offline providers drawn with Pillow: the procedural preview renderer (render, shot, scene, motifs,
card), a Lanczos upscaler and a heuristic reviewer (post); adapters re-exports the three.
Its entry in the provider table is spec; factory builds its adapters for the worker."""
