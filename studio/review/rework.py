"""Targeted rework: a round of changes planned as edits of the takes a client pinned.

Plain decisions, no I/O. When changes are asked for and the client placed pins on takes of the round
just decided, each new take is an edit of one pinned take (its parent): it starts from the parent's
raw render, changes only inside the pins' soft circles (the mask, :mod:`studio.images.masks`), and
carries the note and the pins' texts. Without pins the round is planned as it always was (the note
appended to the prompt, fresh seeds): :func:`plan_rework` returns nothing to change.

How an edit reaches a provider depends on what the provider can take (:func:`edit_way`): the mask
itself, or the same edit described in words, or only the take's prompt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from providers import table
from studio.catalog.models import Pin, Take
from studio.images.masks import pin_mask

# High, so the pinned region visibly follows the note rather than only tinting toward it; the mask,
# not the strength, is what keeps the rest of the image: outside it nothing moves at any strength.
EDIT_STRENGTH = 0.85


class EditWay(StrEnum):
    """How an edit of a take was rendered (recorded in the take's params under ``"edit"``)."""

    MASK = "mask"  # the provider changed only inside the mask
    WORDS = "words"  # the provider edited the parent image from a plain-English description of the pins
    TEXT = "text"  # the provider takes no input image: it rendered the take's prompt from scratch


@dataclass(frozen=True)
class PinnedTake:
    """A take of the decided round with the pins a client placed on it (a parent of the new round).

    Attributes:
        take: The take.
        pins: Its pins still in place, by number.
    """

    take: Take
    pins: tuple[Pin, ...]

    @property
    def size(self) -> tuple[int, int]:
        """The pixel size of its raw render (what the mask must match): as delivered, else as asked."""
        delivered = (self.take.params or {}).get("delivered_size")
        if isinstance(delivered, list | tuple) and len(delivered) == 2:
            return int(delivered[0]), int(delivered[1])
        return self.take.width, self.take.height


@dataclass(frozen=True)
class TakeEdit:
    """One new take of a targeted round: what it differs in from a take planned from the prompt.

    Attributes:
        parent_take_id: The pinned take it edits.
        init_key: Asset key of the parent's raw render (same size as the take).
        mask_key: Asset key of the mask PNG drawn from the parent's pins.
        strength: How far the masked region may move from the parent.
        prompt: The parent's prompt, the note and the pins' texts.
        edit: ``{"parent", "note", "pins": [{"n", "x", "y", "radius", "text"}], "words"}``.
    """

    parent_take_id: str
    init_key: str
    mask_key: str
    strength: float
    prompt: str
    edit: dict[str, Any]

    def fields(self) -> dict[str, Any]:
        """The take's columns this edit sets (what :meth:`Catalog.add_round` takes per new take)."""
        return {
            "parent_take_id": self.parent_take_id,
            "init_key": self.init_key,
            "mask_key": self.mask_key,
            "strength": self.strength,
            "prompt": self.prompt,
            "edit": self.edit,
        }


def pinned_takes(takes: Iterable[Take], pins: Iterable[Pin]) -> list[PinnedTake]:
    """The takes among ``takes`` that carry pins and have a render to edit, in take-number order."""
    by_take: dict[str, list[Pin]] = {}
    for pin in pins:
        if pin.removed_at is None:
            by_take.setdefault(pin.take_id, []).append(pin)
    return [
        PinnedTake(take, tuple(sorted(by_take[take.id], key=lambda p: p.number)))
        for take in sorted(takes, key=lambda t: t.number)
        if take.id in by_take and take.asset_key is not None
    ]


def edit_mask(parent: PinnedTake) -> bytes:
    """The mask PNG of a pinned take: its pins' soft circles at its render's size."""
    width, height = parent.size
    return pin_mask(parent.pins, width, height)


def where_in_image(x: float, y: float) -> str:
    """Where a point is, in words a person would use: ``near the top left``, ``in the centre``…"""
    across = "left" if x < 1 / 3 else "right" if x > 2 / 3 else ""
    down = "top" if y < 1 / 3 else "bottom" if y > 2 / 3 else ""
    if not across and not down:
        return "in the centre"
    return "near the " + " ".join(part for part in (down, across) if part)


def _flat(text: str) -> str:
    return " ".join(text.split()).rstrip(".;")


def edit_words(pins: Sequence[Pin], note: str) -> str:
    """The edit in plain English, for providers that edit from an image and text but take no mask.

    e.g. ``Edit this image. Change only: near the top left (pin 1): more sparks; in the centre
    (pin 2): darker sky. Keep everything else exactly as it is.``
    """
    changes = "; ".join(f"{where_in_image(p.x, p.y)} (pin {p.number}): {_flat(p.text)}" for p in pins)
    opening = f"Edit this image ({_flat(note)})" if note.strip() else "Edit this image"
    return f"{opening}. Change only: {changes}. Keep everything else exactly as it is."


def _edit_of(parent: PinnedTake, mask_key: str, note: str) -> TakeEdit:
    texts = [_flat(p.text) for p in parent.pins if p.text.strip()]
    prompt = ", ".join([parent.take.prompt, *([_flat(note)] if note.strip() else []), *texts])
    # No names: the recipe travels inside delivered files, and a client's name has no business there
    # (who placed each pin stays in the catalog's pin rows).
    pins = [{"n": p.number, "x": p.x, "y": p.y, "radius": p.radius, "text": p.text} for p in parent.pins]
    edit = {"parent": parent.take.id, "note": note.strip(), "pins": pins, "words": edit_words(parent.pins, note)}
    assert parent.take.asset_key is not None  # pinned_takes keeps only rendered takes
    return TakeEdit(parent.take.id, parent.take.asset_key, mask_key, EDIT_STRENGTH, prompt, edit)


def plan_rework(parents: Sequence[PinnedTake], mask_keys: Mapping[str, str], note: str, count: int) -> list[TakeEdit]:
    """The edits of a new round of ``count`` takes, spread round-robin over the pinned takes.

    Args:
        parents: The pinned takes of the round just decided (:func:`pinned_takes`), in number order.
        mask_keys: Asset key of each parent's mask (:func:`edit_mask`), by take id.
        note: The note the changes were asked with.
        count: How many new takes the round makes (the shot's variants).

    Returns:
        One :class:`TakeEdit` per new take, in order; empty when nothing was pinned (the round is
        then planned from the prompt, as without pins).
    """
    if not parents:
        return []
    edits = {p.take.id: _edit_of(p, mask_keys[p.take.id], note) for p in parents}
    return [edits[parents[i % len(parents)].take.id] for i in range(count)]


def edit_way(provider: str, masked: bool) -> EditWay | None:
    """How ``provider`` renders a take: by mask, by words or from text; ``None`` for a take that is no edit."""
    if not masked:
        return None
    name = table.canonical(provider)
    if name in table.MASK_EDIT:
        return EditWay.MASK
    if name in table.IMAGE_INPUT:
        return EditWay.WORDS
    return EditWay.TEXT


def edit_prompt(take: Take, way: EditWay | None) -> str:
    """The prompt to send for ``take``: with the edit described in words when that is the way."""
    words = (take.edit or {}).get("words")
    if way == EditWay.WORDS and isinstance(words, str) and words:
        return f"{take.prompt}. {words}"
    return take.prompt
