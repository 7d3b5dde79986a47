"""The Batch page's client links: share one with a label, see each link's state and last use, revoke
one, and the revoked link's client page refusing like a forged one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from studio.catalog.store import Catalog
from studio.review.links import issue_link, links_of
from studio.review.sharing import LinkInvalid, read_token_claims, share_secret
from studio.settings import Settings
from tests.studio.test_share_links import add_batch, token_of
from tests.ui.app_harness import new_app, run, texts


def markdown_with(at, needle: str) -> str:
    (line,) = [m.value for m in at.markdown if needle in m.value and "-badge[" in m.value]
    return line


async def test_share_then_revoke_from_the_batch_page(app_env: Settings, catalog: Catalog) -> None:
    batch_id = add_batch(catalog)
    old = issue_link(
        app_env, catalog, batch_id, hours=1, label="sent last week", now=datetime.now(UTC) - timedelta(days=7)
    )
    at = await run(new_app("app_pages/batch.py", batch=batch_id))
    assert "0 active of 1 handed out, newest first." in texts(at)
    assert ":gray-badge[expired]" in markdown_with(at, old.link_id)
    assert not [b for b in at.button if b.key == f"revoke-{old.link_id}"]  # nothing to revoke on an expired link

    at.text_input(key="share-label").set_value("for Ana")
    at.button(key="share-button").click()
    await run(at)
    (url,) = [c.value for c in at.code if "?share=" in c.value]
    new = next(v for v in links_of(catalog, batch_id) if v.label == "for Ana")
    assert url.startswith(f"{app_env.dashboard_url}/?share=")
    claims = read_token_claims(token_of(url), secret=share_secret(app_env), now=datetime.now(UTC))
    assert (claims.batch_id, claims.link_id) == (batch_id, new.link_id)  # the link shown is the one listed
    assert ":green-badge[active]" in markdown_with(at, new.link_id)
    assert "1 active of 2 handed out, newest first." in texts(at)
    assert texts(at).count("never opened") == 2  # the old link and the new one

    # The client opens it: the owner sees when.
    client = await run(new_app(share=token_of(url)))
    assert "Alpha" in texts(client)
    at = await run(at)
    assert texts(at).count("never opened") == 1 and "last used " in texts(at)

    at.button(key=f"revoke-{new.link_id}").click()
    await run(at)
    assert f"Link {new.link_id} is revoked: it no longer opens this batch." in texts(at)
    assert ":red-badge[revoked]" in markdown_with(at, new.link_id)
    assert not [b for b in at.button if b.key == f"revoke-{new.link_id}"]  # nothing left to revoke
    assert "0 active of 2 handed out, newest first." in texts(at)
    assert links_of(catalog, batch_id)[0].revoked_at is not None

    # A client page opened with the revoked link refuses it like a forged one.
    client = await run(new_app(share=token_of(url)))
    shown = texts(client)
    assert LinkInvalid.MESSAGE in shown and "Alpha" not in shown and not client.button
