"""Local, offline providers: a procedural preview renderer, a Lanczos upscaler, a heuristic reviewer.

They need no keys or network, so the studio runs end to end on a laptop and in CI. The code
lives in :mod:`providers.local_render` and :mod:`providers.local_post`; import it from here.
"""

from __future__ import annotations

from .local_post import LocalReviewer, LocalUpscaler
from .local_render import LocalRenderer, derive_seed

__all__ = ["LocalRenderer", "LocalReviewer", "LocalUpscaler", "derive_seed"]
