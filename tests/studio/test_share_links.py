"""Recorded client links: a link id signed in the token, revoked or unknown links refused like forged
ones, old tokens still opening until they expire, and a link's last use written sparingly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.errors import NotFound
from studio.review.links import LinkState, issue_link, links_of, open_client_link, revoke_link
from studio.review.sharing import (
    LinkInvalid,
    make_share_token,
    read_token_claims,
    share_secret,
    share_url,
    verify_share_token,
)
from studio.settings import Settings

SECRET = "s3cret-for-tests"
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=72)


def token_of(url: str) -> str:
    return url.split("share=", 1)[1]


def add_batch(catalog: Catalog, batch_id: str = "alpha-000001") -> str:
    catalog.add_batch(
        Batch(
            id=batch_id,
            project_name="Alpha",
            project_slug=batch_id,
            project_source="-",
            project_key="-",
            seed=1,
            approval_required=True,
            output_dir="/tmp/unused",
        )
    )
    return batch_id


def test_a_link_id_travels_signed_inside_the_token() -> None:
    token = make_share_token("film-abc123", secret=SECRET, expires_at=LATER, link_id="Lx7-k2")
    claims = read_token_claims(token, secret=SECRET, now=NOW)
    assert (claims.batch_id, claims.expires_at, claims.link_id) == ("film-abc123", LATER, "Lx7-k2")
    assert verify_share_token(token, secret=SECRET, now=NOW) == "film-abc123"
    # Swapping in another link's id breaks the signature.
    other = make_share_token("film-abc123", secret="whatever", expires_at=LATER, link_id="other").split(".")[0]
    with pytest.raises(LinkInvalid) as err:
        read_token_claims(f"{other}.{token.split('.')[1]}", secret=SECRET, now=NOW)
    assert err.value.reason == "bad signature"


def test_a_token_without_a_link_id_reads_as_before() -> None:
    token = make_share_token("film-abc123", secret=SECRET, expires_at=LATER)
    assert read_token_claims(token, secret=SECRET, now=NOW).link_id is None


@pytest.mark.parametrize("link_id", ["", "two\nlines"])
def test_a_bad_link_id_is_not_signed(link_id: str) -> None:
    with pytest.raises(ValueError):
        make_share_token("film-abc123", secret=SECRET, expires_at=LATER, link_id=link_id)


def test_an_issued_link_opens_its_batch_and_is_listed(settings: Settings, catalog: Catalog) -> None:
    batch_id = add_batch(catalog)
    link = issue_link(settings, catalog, batch_id, hours=72, label="for Ana", now=NOW)
    assert link.url.startswith(f"{settings.dashboard_url}/?share=")
    opened = open_client_link(settings, catalog, token_of(link.url), now=NOW + timedelta(hours=1))
    assert (opened.batch_id, opened.link_id, opened.expires_at) == (batch_id, link.link_id, LATER)
    (view,) = links_of(catalog, batch_id, now=NOW + timedelta(hours=1))
    assert (view.link_id, view.label, view.state, view.expires_at) == (link.link_id, "for Ana", LinkState.ACTIVE, LATER)
    assert view.created_at == NOW and view.last_used_at == NOW + timedelta(hours=1)


def test_an_old_unrecorded_token_still_opens_until_it_expires(settings: Settings, catalog: Catalog) -> None:
    batch_id = add_batch(catalog)
    token = token_of(share_url(settings, batch_id, hours=2, now=NOW))
    opened = open_client_link(settings, catalog, token, now=NOW + timedelta(hours=1))
    assert (opened.batch_id, opened.link_id) == (batch_id, None)
    assert links_of(catalog, batch_id) == []  # nothing to list or revoke
    with pytest.raises(LinkInvalid) as err:
        open_client_link(settings, catalog, token, now=NOW + timedelta(hours=2))
    assert err.value.reason == "expired"


def test_a_revoked_link_is_refused_with_the_same_sentence(settings: Settings, catalog: Catalog) -> None:
    batch_id = add_batch(catalog)
    kept = issue_link(settings, catalog, batch_id, now=NOW)
    gone = issue_link(settings, catalog, batch_id, now=NOW)
    revoked = revoke_link(catalog, gone.link_id)
    assert revoked.revoked_at is not None
    with pytest.raises(LinkInvalid) as err:
        open_client_link(settings, catalog, token_of(gone.url), now=NOW)
    assert err.value.reason == "revoked" and str(err.value) == LinkInvalid.MESSAGE
    # Revoking one link leaves the others working.
    assert open_client_link(settings, catalog, token_of(kept.url), now=NOW).link_id == kept.link_id
    states = {v.link_id: v.state for v in links_of(catalog, batch_id, now=NOW)}
    assert states == {kept.link_id: LinkState.ACTIVE, gone.link_id: LinkState.REVOKED}


def test_a_link_id_the_catalog_never_wrote_is_refused(settings: Settings, catalog: Catalog) -> None:
    batch_id = add_batch(catalog)
    # Signed with this studio's own secret, so only the catalog can tell it was never handed out.
    token = make_share_token(batch_id, secret=share_secret(settings), expires_at=LATER, link_id="never-issued")
    with pytest.raises(LinkInvalid) as err:
        open_client_link(settings, catalog, token, now=NOW)
    assert err.value.reason == "unknown link" and str(err.value) == LinkInvalid.MESSAGE


def test_a_link_recorded_for_another_batch_does_not_open_this_one(settings: Settings, catalog: Catalog) -> None:
    add_batch(catalog, "alpha-000001")
    add_batch(catalog, "bravo-000002")
    link = issue_link(settings, catalog, "alpha-000001", now=NOW)
    token = make_share_token("bravo-000002", secret=share_secret(settings), expires_at=LATER, link_id=link.link_id)
    with pytest.raises(LinkInvalid) as err:
        open_client_link(settings, catalog, token, now=NOW)
    assert err.value.reason == "unknown link"


def test_last_use_is_written_at_most_once_a_minute(settings: Settings, catalog: Catalog) -> None:
    batch_id = add_batch(catalog)
    link = issue_link(settings, catalog, batch_id, now=NOW)
    token = token_of(link.url)
    assert links_of(catalog, batch_id, now=NOW)[0].last_used_at is None  # never opened yet

    def last_use_after_opening_at(moment: datetime) -> datetime | None:
        open_client_link(settings, catalog, token, now=moment)
        return links_of(catalog, batch_id, now=moment)[0].last_used_at

    first = NOW + timedelta(minutes=5)
    assert last_use_after_opening_at(first) == first
    assert last_use_after_opening_at(first + timedelta(seconds=30)) == first  # a live page polling
    later = first + timedelta(seconds=61)
    assert last_use_after_opening_at(later) == later


def test_states_and_order_of_the_list(settings: Settings, catalog: Catalog) -> None:
    add_batch(catalog, "alpha-000001")
    add_batch(catalog, "bravo-000002")
    short = issue_link(settings, catalog, "alpha-000001", hours=1, label="short", now=NOW)
    long = issue_link(settings, catalog, "alpha-000001", hours=48, label="long", now=NOW + timedelta(minutes=1))
    other = issue_link(settings, catalog, "bravo-000002", now=NOW + timedelta(minutes=2))
    revoke_link(catalog, short.link_id)
    revoke_link(catalog, short.link_id)  # again: still revoked, no error

    at = NOW + timedelta(hours=2)
    assert [(v.label, v.state) for v in links_of(catalog, "alpha-000001", now=at)] == [
        ("long", LinkState.ACTIVE),
        ("short", LinkState.REVOKED),  # revoked, though also expired by now
    ]
    assert [v.link_id for v in links_of(catalog, now=at)] == [other.link_id, long.link_id, short.link_id]
    assert links_of(catalog, "alpha-000001", now=NOW + timedelta(hours=49))[0].state == LinkState.EXPIRED
    assert links_of(catalog, "bravo-000002", now=at)[0].to_json()["state"] == "active"


def test_revoking_an_unknown_link_says_not_found(catalog: Catalog) -> None:
    with pytest.raises(NotFound):
        revoke_link(catalog, "no-such-link")


def test_a_link_id_never_starts_like_an_option(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.review import links

    drawn = iter(["-starts-with-dash", "Fine-id"])
    monkeypatch.setattr(links.secrets, "token_urlsafe", lambda _n: next(drawn))
    assert links.new_link_id() == "Fine-id"  # `studio share --revoke -x` would read as an option
