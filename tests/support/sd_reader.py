"""The PyPI ``sd-parsers`` reader, called so that one image's metadata never answers for another's.

sd-parsers 0.6 caches the last JPEG UserComment (and PNG alpha payload) it extracted, keyed by
``id(image)`` of the PIL image it opened. Once that image is freed, CPython may give the next image the
same id, and the cache then hands back the previous file's recipe: a file with no infotext at all was
read as another shot's (a CI failure, about one run in fifteen). Every image passed here is kept alive
for the whole test session, so no id it was read under is ever reused.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sd_parsers import ParserManager
from sd_parsers.data import PromptInfo

_READ: list[Image.Image] = []  # never freed: see the module docstring


def sd_parse(source: Path | bytes) -> PromptInfo | None:
    """What sd-parsers reads from a file or from encoded image bytes."""
    image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    image.load()
    _READ.append(image)
    return ParserManager().parse(image)
