"""The Shot page's "Content credentials" badge, drawn for a signed file, a changed one and a gone one."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from studio.credentials.signing import sign_published
from studio.images.metadata import embed_recipe
from tests.studio.credential_files import encode, signing_in, with_one_pixel_changed
from tests.ui.app_harness import texts

RECIPE = {"take_id": "b-1/s01/1", "provider": "local", "model": "local-procedural-v1", "seed": 4, "prompt": "a kite"}


def _badge_app(path: str) -> None:
    from ui.credentials_badge import credentials_badge

    credentials_badge(path)


def _draw(path: Path) -> str:
    at = AppTest.from_function(_badge_app, args=(str(path),), default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return texts(at)


def test_the_badge_shows_the_facts_of_a_signed_file_and_catches_a_change(tmp_path: Path) -> None:
    image = embed_recipe(encode((40, 80, 120), "PNG"), RECIPE).data
    signed = tmp_path / "s01.png"
    signed.write_bytes(sign_published(image, RECIPE, signing_in(tmp_path / "home"), title="s01.png"))
    changed = tmp_path / "changed.png"
    changed.write_bytes(with_one_pixel_changed(signed.read_bytes()))

    shown = _draw(signed)
    assert "content credentials]" in shown and "take b-1/s01/1 · local local-procedural-v1 · seed 4" in shown
    assert "unchanged since signing" in shown and "not on a C2PA trust list" in shown

    shown = _draw(changed)
    assert "changed after signing]" in shown and "CHANGED after signing" in shown

    shown = _draw(tmp_path / "gone.png")
    assert "`gone.png` is no longer on disk" in shown


def test_a_prompt_in_the_credentials_is_shown_literally(tmp_path: Path) -> None:
    recipe = {**RECIPE, "prompt": "a [kite](http://evil.example) **now**"}
    image = embed_recipe(encode((40, 80, 120), "PNG"), recipe).data
    signed = tmp_path / "s01.png"
    signed.write_bytes(sign_published(image, recipe, signing_in(tmp_path / "home"), title="s01.png"))
    shown = _draw(signed)
    assert r"a \[kite\]\(http\:" in shown and r"\*\*now\*\*" in shown  # no link, no bold
