"""How the procedural preview reads a prompt (framing, light) and lays out its caption card.

The pixels these plans produce are tested in test_local.py.
"""

from __future__ import annotations

import random

import pytest

from providers.local.card import font, plan_card
from providers.local.shot import Angle, Framing, Light, read_shot

LONG_PROMPT = (
    "A lone white lighthouse on a black basalt cliff above a grey sea, late afternoon, wide "
    "establishing shot, gulls circling, cinematic 35mm film still, muted teal and amber palette"
)


@pytest.mark.parametrize(
    ("prompt", "framing", "light"),
    [
        ("Extreme close-up of an old brass barometer, the needle falling", Framing.EXTREME, Light.DAY),
        ("Close-up of weathered hands writing in a logbook by oil lamp", Framing.CLOSE, Light.DAY),
        ("A lone lighthouse above a grey sea, wide establishing shot", Framing.WIDE, Light.DAY),
        ("An old keeper polishing the brass lens, medium shot, evening", Framing.MEDIUM, Light.DUSK),
        ("portrait of a sailor at sunset", Framing.CLOSE, Light.DUSK),
        ("macro photo of a dew drop at dawn", Framing.EXTREME, Light.DAWN),
        ("establishing shot of a harbour at night, then a close-up insert", Framing.WIDE, Light.NIGHT),
        ("the cabin has gone dark, close-up of a face", Framing.CLOSE, Light.NIGHT),
    ],
)
def test_shot_size_and_time_of_day_come_from_the_prompts_words(prompt: str, framing: Framing, light: Light) -> None:
    # The earliest shot-size phrase wins: a project style appended after the prompt cannot override it.
    shot = read_shot(prompt, "", random.Random(0))
    assert (shot.framing, shot.light) == (framing, light)


def test_a_negative_word_cancels_it_in_the_prompt_and_quotes_are_kept() -> None:
    shot = read_shot("a harbour at night, the sign says 'Closed', keeper's hut", "night", random.Random(0))
    assert shot.light is Light.DAY
    assert shot.quoted == ("Closed",)  # "keeper's" opens no quote
    assert read_shot("the hero from a low angle", "", random.Random(0)).angle is Angle.LOW


@pytest.mark.parametrize(("w", "h", "lines"), [(1344, 768, 2), (1024, 1024, 4), (768, 1344, 4), (1536, 640, 1)])
def test_the_caption_stays_readable_on_a_contact_sheet(w: int, h: int, lines: int) -> None:
    card = plan_card(LONG_PROMPT, w, h)
    # The contact sheet shrinks a frame's long side to 192px; letters must stay >= 8px there.
    assert card.size * 192 / max(w, h) >= 8
    assert len(card.lines) == lines and card.strip <= 0.3 * h  # words, but the picture still leads
    assert all(font(card.size).getlength(line) <= w for line in card.lines)
    assert card.lines[-1].endswith("...")  # the long prompt is cut, and says so
    assert " ".join(card.lines).startswith("A lone white lighthouse on a black")


def test_a_long_word_is_cut_to_fit_and_a_tiny_frame_gets_no_caption() -> None:
    card = plan_card("https://example.com/" + "x" * 300, 400, 300)
    assert card.lines and all(font(card.size).getlength(line) <= 400 for line in card.lines)
    assert plan_card("a cat", 64, 64).strip == 0  # no one reads 3px letters: all picture
