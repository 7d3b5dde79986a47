"""Local, offline providers: a procedural preview renderer, a Lanczos upscaler, a heuristic reviewer.

They need no keys or network, so the studio runs end to end on a laptop and in CI. The renderer
lives in :mod:`providers.local.render` (reading the prompt in :mod:`providers.local.shot`,
drawing in :mod:`providers.local.scene` and :mod:`providers.local.motifs`, the caption card in
:mod:`providers.local.card`); the upscaler and reviewer in :mod:`providers.local.post`. Import
them from here.
"""

from __future__ import annotations

from providers.local.post import LocalReviewer, LocalUpscaler
from providers.local.render import LocalRenderer, derive_seed

__all__ = ["LocalRenderer", "LocalReviewer", "LocalUpscaler", "derive_seed"]
