"""What the vision reviewers (Pixtral, Gemini) share: the question, the thumbnail, the parsing.

The vendor only judges content. The size check is local and exact: a take at the wrong size
fails whatever the vendor thinks, with a note saying so.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from PIL import Image

from providers._http.errors import check_image
from providers.base import Review, Unavailable

REVIEW_MAX_SIDE = 1024
"""Longest side sent for review: vendors cap image size and bill by pixels; detail beyond
this does not change a publish/no-publish judgement."""

PASS_THRESHOLD = 0.6
"""Score at or above which a review passes when the vendor omits ``passed``."""


def review_instructions(prompt: str) -> str:
    """The question put to a vision model about one take."""
    return (
        "You review generated images for a render studio. Judge how well the image matches "
        "the shot description below and whether it is fit to publish: composition, subject, "
        "style, visible artefacts (extra limbs, garbled text, blur, blank areas).\n"
        f"Shot description: {prompt}\n"
        'Answer with JSON only, exactly: {"score": <number 0..1>, "passed": <true|false>, '
        '"notes": "<one or two short sentences>"}'
    )


def prepare_image(image: bytes, provider: str) -> tuple[bytes, str, int, int]:
    """Decode ``image`` and shrink it for review.

    Returns:
        ``(bytes_to_send, mime_type, original_width, original_height)``.

    Raises:
        BadImage: ``image`` cannot be decoded.
    """
    mime, width, height = check_image(image, provider)
    if max(width, height) <= REVIEW_MAX_SIDE:
        return image, mime, width, height
    with Image.open(io.BytesIO(image)) as opened:
        im = opened.convert("RGB")
        im.thumbnail((REVIEW_MAX_SIDE, REVIEW_MAX_SIDE))
        out = io.BytesIO()
        im.save(out, format="PNG")
    return out.getvalue(), "image/png", width, height


def _as_score(value: Any) -> float:
    score = float(value)
    # Models sometimes answer on a 0..10 or 0..100 scale despite being asked for 0..1.
    if 1.0 < score <= 10.0:
        score /= 10.0
    elif 10.0 < score <= 100.0:
        score /= 100.0
    if not 0.0 <= score <= 1.0:
        raise ValueError("score out of range")
    return score


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "pass", "passed"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "fail", "failed"):
        return False
    raise ValueError("not a boolean")


def parse_review(text: str, *, provider: str, model: str) -> Review:
    """Turn a vendor's JSON answer into a :class:`Review`.

    Tolerates a Markdown code fence and 0..10 / 0..100 scores; anything else malformed is
    :class:`Unavailable` with detail ``"unparseable review"`` so the caller falls back to the
    next reviewer instead of trusting a guess.
    """
    cleaned = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", text or "")
    try:
        data = json.loads(cleaned)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        score = _as_score(data["score"])
        passed = _as_bool(data["passed"]) if "passed" in data else score >= PASS_THRESHOLD
        notes = data.get("notes", "")
        notes = notes if isinstance(notes, str) else json.dumps(notes, ensure_ascii=False)
    except (ValueError, KeyError, TypeError):
        raise Unavailable(
            f"{provider} gave an unparseable review", provider=provider, detail="unparseable review"
        ) from None
    return Review(score=score, passed=passed, notes=notes.strip(), model=model)


def apply_size_check(review: Review, actual: tuple[int, int], expected: tuple[int, int]) -> Review:
    """Fail ``review`` with a note when the decoded size differs from the expected one."""
    if tuple(actual) == tuple(expected):
        return review
    note = f"wrong size: {actual[0]}x{actual[1]}, expected {expected[0]}x{expected[1]}"
    notes = f"{review.notes} ({note})" if review.notes else note
    return Review(score=review.score, passed=False, notes=notes, model=review.model)
