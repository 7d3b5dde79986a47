"""Signed client links: what verifies, what is refused, and that a link opens only its batch."""

from __future__ import annotations

import asyncio
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from studio.catalog.models import Batch
from studio.review.sharing import (
    LinkInvalid,
    make_share_token,
    open_share_link,
    read_share_token,
    share_secret,
    share_url,
    verify_share_token,
)
from studio.settings import Settings
from tests.ui.app_harness import new_app, texts

SECRET = "s3cret-for-tests"
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=72)


def test_good_token_verifies() -> None:
    token = make_share_token("film-abc123", secret=SECRET, expires_at=LATER)
    assert verify_share_token(token, secret=SECRET, now=NOW) == "film-abc123"
    assert "=" not in token and "/" not in token and "+" not in token  # urlsafe, no padding


def test_forged_signature_is_refused() -> None:
    token = make_share_token("film-abc123", secret="another-studio", expires_at=LATER)
    with pytest.raises(LinkInvalid) as err:
        verify_share_token(token, secret=SECRET, now=NOW)
    assert err.value.reason == "bad signature"
    body, signature = make_share_token("film-abc123", secret=SECRET, expires_at=LATER).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(LinkInvalid):
        verify_share_token(f"{body}.{flipped}", secret=SECRET, now=NOW)


def test_tampered_batch_id_is_refused() -> None:
    good = make_share_token("film-abc123", secret=SECRET, expires_at=LATER)
    other_body = make_share_token("film-zzz999", secret="whatever", expires_at=LATER).split(".")[0]
    tampered = f"{other_body}.{good.split('.')[1]}"
    with pytest.raises(LinkInvalid) as err:
        verify_share_token(tampered, secret=SECRET, now=NOW)
    assert err.value.reason == "bad signature"


def test_expired_token_is_refused() -> None:
    token = make_share_token("film-abc123", secret=SECRET, expires_at=NOW)
    with pytest.raises(LinkInvalid) as err:
        verify_share_token(token, secret=SECRET, now=NOW)
    assert err.value.reason == "expired"
    assert verify_share_token(token, secret=SECRET, now=NOW - timedelta(seconds=1)) == "film-abc123"


@pytest.mark.parametrize("garbage", ["", "nodot", "a.b.c", "!!!.???", "ab.c", "x" * 600, "....", "Zm9v."])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(LinkInvalid) as err:
        verify_share_token(garbage, secret=SECRET, now=NOW)
    assert str(err.value) == LinkInvalid.MESSAGE  # the same words whatever went wrong


def test_secret_is_made_once_with_private_permissions(settings: Settings) -> None:
    first = share_secret(settings)
    assert len(first) >= 32 and share_secret(settings) == first
    mode = stat.S_IMODE(os.stat(settings.home / "share.secret").st_mode)
    assert mode == 0o600
    env_secret = settings.model_copy(update={"share_secret": SecretStr("from-env")})
    assert share_secret(env_secret).startswith("from-env")


def test_share_url_opens_its_batch(settings: Settings) -> None:
    url = share_url(settings, "film-abc123", hours=1)
    assert url.startswith("http://127.0.0.1:8501/?share=")
    assert open_share_link(settings, url.split("share=", 1)[1]) == "film-abc123"
    with pytest.raises(LinkInvalid):
        open_share_link(settings, url.split("share=", 1)[1], now=datetime.now(UTC) + timedelta(hours=2))


def test_a_link_says_when_it_stops_working(settings: Settings) -> None:
    now = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    token = share_url(settings, "film-abc123", hours=72, now=now).split("share=", 1)[1]
    assert read_share_token(token, secret=share_secret(settings), now=now)[1] == datetime(
        2026, 12, 4, 9, 30, tzinfo=UTC
    )
    with pytest.raises(LinkInvalid):
        read_share_token(token, secret=share_secret(settings), now=now + timedelta(hours=72))


def _batch(batch_id: str, name: str) -> Batch:
    return Batch(
        id=batch_id,
        project_name=name,
        project_slug=batch_id,
        project_source="-",
        project_key="-",
        seed=1,
        approval_required=True,
        output_dir="/tmp/unused",
    )


async def test_token_for_one_batch_cannot_open_another(app_env: Settings, catalog) -> None:
    catalog.add_batch(_batch("alpha-000001", "Alpha Secret Project"))
    catalog.add_batch(_batch("bravo-000002", "Bravo Secret Project"))
    token_a = share_url(app_env, "alpha-000001").split("share=", 1)[1]

    at = new_app(share=token_a)
    await asyncio.to_thread(at.run)
    assert "Alpha Secret Project" in texts(at) and not at.exception

    # Batch A's token, pointed at batch B: refused, and nothing of either batch is shown.
    at = new_app(share=token_a, batch="bravo-000002")
    await asyncio.to_thread(at.run)
    shown = texts(at)
    assert LinkInvalid.MESSAGE in shown
    assert "Bravo" not in shown and "Alpha" not in shown and not at.button

    # A token signed for B with another key (a forgery) does not open B either.
    forged = make_share_token("bravo-000002", secret="guessed", expires_at=datetime.now(UTC) + timedelta(hours=1))
    at = new_app(share=forged)
    await asyncio.to_thread(at.run)
    assert LinkInvalid.MESSAGE in texts(at) and "Bravo" not in texts(at)
    assert not at.sidebar.children or not any("Batches" in str(n) for n in at.sidebar)


def test_cli_share_prints_a_link_that_opens_the_batch(app_env: Settings, catalog, capsys) -> None:
    from studio.cli import main

    catalog.add_batch(_batch("alpha-000001", "Alpha"))
    assert main(["share", "alpha-000001", "--hours", "2"]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("http://127.0.0.1:8501/?share=")
    assert open_share_link(app_env, url.split("share=", 1)[1]) == "alpha-000001"
    assert main(["share", "no-such-batch"]) == 2
    assert "no batch 'no-such-batch'" in capsys.readouterr().err
