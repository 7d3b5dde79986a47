"""Local, offline providers: a procedural preview renderer, a Lanczos upscaler, a heuristic reviewer.

They need no keys or network, so the studio runs end to end on a laptop and in CI. The renderer
lives in :mod:`providers.local_render` (reading the prompt in :mod:`providers.local_shot`,
drawing in :mod:`providers.local_scene` and :mod:`providers.local_motifs`, the caption card in
:mod:`providers.local_card`); the upscaler and reviewer in :mod:`providers.local_post`. Import
them from here.
"""

from __future__ import annotations

from .local_post import LocalReviewer, LocalUpscaler
from .local_render import LocalRenderer, derive_seed

__all__ = ["LocalRenderer", "LocalReviewer", "LocalUpscaler", "derive_seed"]
