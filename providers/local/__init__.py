"""Offline providers drawn with Pillow: the procedural preview renderer (render, shot, scene, motifs,
card), a Lanczos upscaler and a heuristic reviewer (post); adapters names the three for the registry."""
