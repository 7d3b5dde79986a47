"""Targeted rework without Temporal: the pins' mask, the plan of a round of edits, how an edit is
sent to each kind of provider, the round written to the catalog, and an edit replayed."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from providers import table
from studio.batches.replay import Origin, ReplayRequest, replay_takes
from studio.catalog.models import Pin, Take
from studio.catalog.store import Catalog
from studio.images.masks import FEATHER, pin_mask
from studio.review.rework import (
    EDIT_STRENGTH,
    EditWay,
    edit_mask,
    edit_prompt,
    edit_way,
    pinned_takes,
    plan_rework,
    where_in_image,
)
from tests.studio.catalog_rows import add_batch


def _pin(take_id: str, number: int, x: float, y: float, text: str, radius: float = 0.12, **fields: Any) -> Pin:
    return Pin(
        take_id=take_id, shot_key="b-1/s", batch_id="b-1", number=number, x=x, y=y, radius=radius, text=text, **fields
    )


def _take(number: int, *, rendered: bool = True, **fields: Any) -> Take:
    values: dict[str, Any] = {"prompt": "a lighthouse at dusk", "width": 64, "height": 48, "round": 1}
    values.update(fields)
    return Take(
        id=f"b-1/s/{number}",
        batch_id="b-1",
        shot_key="b-1/s",
        number=number,
        asset_key=f"{number:02d}" * 32 + ".png" if rendered else None,
        **values,
    )


def _pixels(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


# -- the mask ----------------------------------------------------------------------------------


def test_the_mask_is_white_at_each_pin_soft_at_its_edge_and_exactly_zero_elsewhere() -> None:
    width, height = 200, 100
    pins = [_pin("t", 1, 0.25, 0.5, "sparks", radius=0.1), _pin("t", 2, 0.75, 0.3, "sky", radius=0.05)]
    mask = _pixels(pin_mask(pins, width, height))
    assert mask.mode == "L" and mask.size == (width, height)

    assert mask.getpixel((50, 50)) == 255 and mask.getpixel((150, 30)) == 255  # the pins' centres
    seen = set()
    for y in range(height):
        for x in range(width):
            value = mask.getpixel((x, y))
            # Distance from each pin's centre to this pixel's centre, in pin radii.
            near = min(math.hypot(x + 0.5 - p.x * width, y + 0.5 - p.y * height) / (p.radius * width) for p in pins)
            if near >= 1:
                assert value == 0, (x, y)  # a renderer compositing through it keeps this pixel exactly
            elif near <= 1 - FEATHER:
                assert value == 255, (x, y)
            else:
                seen.add(value)
    assert any(0 < v < 255 for v in seen)  # a fade, not a hard edge
    # Along a ray out of a pin the fade only ever goes down.
    ray = [mask.getpixel((50 + dx, 50)) for dx in range(0, 25)]
    assert ray == sorted(ray, reverse=True) and ray[0] == 255 and ray[-1] == 0


def test_the_same_pins_give_the_same_bytes_and_no_pins_change_nothing() -> None:
    pins = [_pin("t", 1, 0.3, 0.6, "a"), _pin("t", 2, 0.31, 0.62, "overlapping")]
    assert pin_mask(pins, 64, 48) == pin_mask(list(pins), 64, 48)
    assert pin_mask(pins, 64, 48) != pin_mask(pins[:1], 64, 48)
    assert _pixels(pin_mask([], 64, 48)).getextrema() == (0, 0)
    corner = _pixels(pin_mask([_pin("t", 1, 0.0, 0.0, "corner")], 64, 48))  # clipped at the image's edge
    assert corner.getpixel((0, 0)) == 255 and corner.getpixel((63, 47)) == 0
    with pytest.raises(ValueError, match="positive size"):
        pin_mask(pins, 0, 48)


# -- the plan ----------------------------------------------------------------------------------


def test_a_round_of_edits_spreads_over_the_pinned_takes_in_number_order() -> None:
    takes = [_take(3), _take(1), _take(2, prompt="a lighthouse at dusk, warmer")]
    pins = [
        _pin("b-1/s/3", 1, 0.5, 0.5, "a boat", who="ana"),
        _pin("b-1/s/2", 2, 0.5, 0.5, "darker sky", who="ana"),
        _pin("b-1/s/2", 1, 0.1, 0.1, "more sparks\n", who="ben"),
        _pin("b-1/s/1", 1, 0.5, 0.5, "removed", removed_at=datetime(2026, 1, 1, tzinfo=UTC)),
    ]
    parents = pinned_takes(takes, pins)
    assert [(p.take.number, [pin.number for pin in p.pins]) for p in parents] == [(2, [1, 2]), (3, [1])]

    masks = {"b-1/s/2": "m2.png", "b-1/s/3": "m3.png"}
    edits = plan_rework(parents, masks, " with fireworks ", 3)
    assert [e.parent_take_id for e in edits] == ["b-1/s/2", "b-1/s/3", "b-1/s/2"]
    first = edits[0]
    assert first.init_key == takes[2].asset_key and first.mask_key == "m2.png" and first.strength == EDIT_STRENGTH
    assert first.prompt == "a lighthouse at dusk, warmer, with fireworks, more sparks, darker sky"
    assert first.edit == {
        "parent": "b-1/s/2",
        "note": "with fireworks",
        "pins": [
            {"n": 1, "x": 0.1, "y": 0.1, "radius": 0.12, "text": "more sparks\n"},
            {"n": 2, "x": 0.5, "y": 0.5, "radius": 0.12, "text": "darker sky"},
        ],
        "words": (
            "Edit this image (with fireworks). Change only: near the top left (pin 1): more sparks; "
            "in the centre (pin 2): darker sky. Keep everything else exactly as it is."
        ),
    }
    assert edits[1].prompt == "a lighthouse at dusk, with fireworks, a boat" and edits[1].mask_key == "m3.png"
    assert first.fields()["edit"] == first.edit and first.fields()["parent_take_id"] == "b-1/s/2"


def test_without_pins_or_renders_the_round_is_planned_from_the_prompt() -> None:
    assert plan_rework(pinned_takes([_take(1), _take(2)], []), {}, "more sparks", 3) == []
    unrendered = pinned_takes([_take(1, rendered=False)], [_pin("b-1/s/1", 1, 0.5, 0.5, "x")])
    assert unrendered == []


def test_the_mask_is_drawn_at_the_size_the_parent_was_delivered() -> None:
    parent = pinned_takes([_take(1, params={"delivered_size": [80, 60]})], [_pin("b-1/s/1", 1, 0.5, 0.5, "x")])[0]
    assert _pixels(edit_mask(parent)).size == (80, 60)
    plain = pinned_takes([_take(1)], [_pin("b-1/s/1", 1, 0.5, 0.5, "x")])[0]
    assert _pixels(edit_mask(plain)).size == (64, 48)


@pytest.mark.parametrize(
    ("x", "y", "words"),
    [
        (0.1, 0.1, "near the top left"),
        (0.5, 0.9, "near the bottom"),
        (0.9, 0.5, "near the right"),
        (0.5, 0.4, "in the centre"),
    ],
)
def test_where_a_pin_is_in_words(x: float, y: float, words: str) -> None:
    assert where_in_image(x, y) == words


# -- how an edit reaches a provider ------------------------------------------------------------


def test_each_kind_of_provider_gets_the_edit_it_can_take() -> None:
    masked = next(iter(sorted(table.MASK_EDIT)))
    words_only = "gemini"  # edits from an image and text, takes no mask
    text_only = "mistral"  # renders from text alone
    assert words_only in table.IMAGE_INPUT - table.MASK_EDIT and text_only not in table.IMAGE_INPUT
    assert edit_way(masked, True) == EditWay.MASK
    assert edit_way(words_only, True) == EditWay.WORDS
    assert edit_way(text_only, True) == EditWay.TEXT
    assert edit_way(masked, False) is None  # not an edit: rendered as any take

    take = _take(4, prompt="a lighthouse, more sparks", edit={"words": "Edit this image. Change only: …"})
    assert edit_prompt(take, EditWay.WORDS) == "a lighthouse, more sparks. Edit this image. Change only: …"
    assert edit_prompt(take, EditWay.MASK) == edit_prompt(take, EditWay.TEXT) == "a lighthouse, more sparks"


# -- the round in the catalog, and replayed ----------------------------------------------------


def test_a_round_of_edits_is_written_once(catalog: Catalog) -> None:
    add_batch(catalog, 2)
    parents = pinned_takes(
        [t.model_copy(update={"asset_key": "aa" * 32 + ".png"}) for t in catalog.takes("b-1/s")],
        [_pin("b-1/s/2", 1, 0.2, 0.2, "sparks")],
    )
    edits = [e.fields() for e in plan_rework(parents, {"b-1/s/2": "mm.png"}, "note", 2)]
    ids = catalog.add_round("b-1/s", 2, "note", [11, 12], edits)
    assert ids == ["b-1/s/3", "b-1/s/4"]
    new = catalog.takes("b-1/s")[2:]
    assert {(t.parent_take_id, t.mask_key, t.init_key, t.round) for t in new} == {
        ("b-1/s/2", "mm.png", "aa" * 32 + ".png", 2)
    }
    assert [t.seed for t in new] == [11, 12] and new[0].prompt == "x, note, sparks" and new[0].edit is not None

    # Run again (a retried activity): the same ids, nothing added or changed.
    assert catalog.add_round("b-1/s", 2, "other", [98, 99], []) == ids
    assert [t.seed for t in catalog.takes("b-1/s")[2:]] == [11, 12]
    with pytest.raises(ValueError, match="one edit per take"):
        catalog.add_round("b-1/s", 3, "note", [1, 2], edits[:1])


def _origin(**fields: Any) -> Origin:
    values: dict[str, Any] = dict(
        take_id="b/s/4",
        batch_id="b",
        shot_id="s",
        provider="local",
        model="m",
        seed=11,
        reproducible=True,
        prompt="a lighthouse, more sparks",
        negative="",
        size=(64, 48),
        params={"renderer": "procedural", "edit": "mask", "strength": 0.85},
        upscale=1,
        image_key="out.png",
        init_key="parent.png",
        strength=0.85,
        mask_key="mask.png",
        edit={"parent": "b/s/2", "words": "Edit this image."},
    )
    values.update(fields)
    return Origin(**values)


def test_an_exact_replay_of_an_edit_sends_the_same_image_mask_and_prompt_and_a_vary_drops_the_mask() -> None:
    (exact,) = replay_takes(ReplayRequest("b/s/4"), _origin(), "local", 5)
    assert (exact["init_key"], exact["mask_key"], exact["strength"], exact["seed"]) == (
        "parent.png",
        "mask.png",
        0.85,
        11,
    )
    assert (
        exact["edit"] == {"parent": "b/s/2", "words": "Edit this image."}
        and exact["prompt"] == "a lighthouse, more sparks"
    )
    assert "edit" not in exact["params"]  # how it was sent is recorded again when it renders, never sent to a vendor

    (vary,) = replay_takes(ReplayRequest("b/s/4", mode="vary-subtle"), _origin(), "local", 5)
    assert (vary["init_key"], vary["mask_key"], vary["edit"]) == ("out.png", None, None)


def test_studio_show_names_the_edit_and_lists_the_pins_on_a_take(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from studio.cli import main
    from studio.settings import load_settings

    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path))
    for name in ("DATABASE_URL", "STUDIO_ASSETS", "STUDIO_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    catalog = Catalog.open(load_settings().catalog_url)
    add_batch(catalog, 2)
    catalog.update_take("b-1/s/2", asset_key="aa" * 32 + ".png", status="reviewed")
    catalog.add_pin("b-1/s/2", x=0.1, y=0.2, text="more sparks", who="ana")
    catalog.add_pin("b-1/s/2", x=0.5, y=0.5, radius=0.2, text="darker sky", who="ben")
    parents = pinned_takes(catalog.takes("b-1/s"), catalog.pins(shot_key="b-1/s"))
    edits = [e.fields() for e in plan_rework(parents, {"b-1/s/2": "mm.png"}, "warmer", 1)]
    (child,) = catalog.add_round("b-1/s", 2, "warmer", [5], edits)
    catalog.update_take(child, params={"edit": "words"}, provider="gemini", status="reviewed")

    assert main(["show", child]) == 0
    printed = " ".join(capsys.readouterr().out.split())  # rich folds long values
    assert "edit of take 2 inside pins 1, 2 (described in words: the provider takes no mask); note: warmer" in printed
    assert "mask mm.png" in printed and "b-1/s/2" in printed  # and its parent in the chain

    assert main(["show", "b-1/s/2"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "pins (2 placed on this take)" in printed
    assert "1. near the top left (x 0.10, y 0.20, radius 0.12): more sparks — ana," in printed
    assert "2. in the centre (x 0.50, y 0.50, radius 0.20): darker sky — ben," in printed

    assert main(["show", "b-1/s/2", "--json"]) == 0
    pins = json.loads(capsys.readouterr().out)["pins"]
    assert [(p["n"], p["x"], p["y"], p["radius"], p["text"], p["who"]) for p in pins] == [
        (1, 0.1, 0.2, 0.12, "more sparks", "ana"),
        (2, 0.5, 0.5, 0.2, "darker sky", "ben"),
    ]
    assert all(p["created_at"] for p in pins)
    assert main(["show", child, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["pins"] == [] and shown["recipe"]["mask_key"] == "mm.png"
    assert shown["recipe"]["edit"]["parent"] == "b-1/s/2" and shown["recipe"]["params"] == {"edit": "words"}
