"""Client links the studio hands out, recorded so each can be listed, revoked and seen in use.

Every link made here has a random id signed inside its token (see :mod:`studio.review.sharing`)
and a :class:`~studio.catalog.models.ShareLink` row under that id. Opening a link checks the
signature and expiry first, then the row: a revoked link, or an id the catalog never wrote, is
refused with the same sentence as a forged one. Tokens made before links were recorded carry no
id; they open their batch until they expire and cannot be revoked one by one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from studio.catalog.models import ShareLink
from studio.catalog.store import Catalog
from studio.errors import NotFound
from studio.review.sharing import (
    DEFAULT_HOURS,
    LinkInvalid,
    make_share_token,
    read_token_claims,
    share_secret,
    token_url,
)
from studio.settings import Settings

# 9 random bytes make 12 urlsafe characters: short enough to type after --revoke, far too many to guess.
_ID_BYTES = 9


class LinkState(StrEnum):
    """Whether a recorded link still opens its batch."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class IssuedLink:
    """A link just handed out.

    Attributes:
        link_id: Its id (what ``studio share --revoke`` takes).
        batch_id: The batch it opens.
        url: The address to send the client.
        expires_at: When it stops working (aware UTC).
    """

    link_id: str
    batch_id: str
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class OpenLink:
    """A link that opened: what the client page may show.

    Attributes:
        batch_id: The batch the link opens (from the verified token only).
        link_id: The recorded link, or ``None`` for a token made before links were recorded.
        expires_at: When the link stops working (aware UTC).
    """

    batch_id: str
    link_id: str | None
    expires_at: datetime


@dataclass(frozen=True)
class LinkView:
    """One recorded link as the CLI and the dashboard list it.

    Attributes:
        link_id: The link's id.
        batch_id: The batch it opens.
        label: What the owner called it (``"notice"`` for links sent in notices), or ``""``.
        state: Active, expired or revoked (revoked wins over expired).
        created_at: When it was handed out (aware UTC).
        expires_at: When it stops or stopped working (aware UTC).
        last_used_at: When a client last opened it (to the minute), or ``None`` if never.
        revoked_at: When it was revoked, or ``None``.
    """

    link_id: str
    batch_id: str
    label: str
    state: LinkState
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def to_json(self) -> dict[str, str | None]:
        """Stable keys for ``studio share --list --json``; times as ISO 8601 UTC."""
        return {
            "id": self.link_id,
            "batch": self.batch_id,
            "label": self.label,
            "state": self.state.value,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _utc(moment: datetime) -> datetime:
    # SQLite gives datetimes back naive; the catalog writes them in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def new_link_id() -> str:
    """A random link id that never starts with ``-`` (``studio share --revoke -x`` would read as an option)."""
    while (link_id := secrets.token_urlsafe(_ID_BYTES)).startswith("-"):
        pass
    return link_id


def issue_link(
    settings: Settings,
    catalog: Catalog,
    batch_id: str,
    *,
    hours: float = DEFAULT_HOURS,
    label: str = "",
    now: datetime | None = None,
    link_id: str | None = None,
) -> IssuedLink:
    """Hand out a client link for ``batch_id``, recorded so it can be listed and revoked.

    Args:
        settings: The studio's settings (the share secret, the dashboard's address).
        catalog: Where the link is recorded.
        batch_id: The batch the link opens (not checked here: callers check it exists first).
        hours: How long the link works.
        label: A note for the owner's list ("for Ana", "notice").
        now: The current time (tests pass it).
        link_id: A fixed id instead of a random one, for a caller that may run again (a notice's
            retry): a link already recorded under it is handed out again, the same token, and
            not a second time.

    Returns:
        The link, its id and its URL.
    """
    if link_id is not None:
        try:
            known = catalog.share_link(link_id)
        except NotFound:
            pass
        else:
            expiry = _utc(known.expires_at)
            token = make_share_token(known.batch_id, secret=share_secret(settings), expires_at=expiry, link_id=link_id)
            return IssuedLink(link_id, known.batch_id, token_url(settings, token), expiry)
    now = _utc(now or datetime.now(UTC))
    # The token holds whole seconds; the row says the same moment the token does.
    expires_at = (now + timedelta(hours=hours)).replace(microsecond=0)
    link_id = link_id or new_link_id()
    token = make_share_token(batch_id, secret=share_secret(settings), expires_at=expires_at, link_id=link_id)
    catalog.add_share_link(
        ShareLink(id=link_id, batch_id=batch_id, label=label.strip(), created_at=now, expires_at=expires_at)
    )
    return IssuedLink(link_id, batch_id, token_url(settings, token), expires_at)


def open_client_link(settings: Settings, catalog: Catalog, token: str, *, now: datetime | None = None) -> OpenLink:
    """The batch a client's link opens, if it is signed, unexpired and not revoked; notes the use.

    Args:
        settings: The studio's settings (the share secret).
        catalog: Where links are recorded.
        token: The token from the link.
        now: The current time (tests pass it).

    Returns:
        What the link opens and until when.

    Raises:
        LinkInvalid: Forged, tampered, malformed, expired, revoked, or an id the catalog does not
            know (every cause with the same message; ``reason`` tells them apart).
    """
    now = _utc(now or datetime.now(UTC))
    claims = read_token_claims(token, secret=share_secret(settings), now=now)
    if claims.link_id is None:
        return OpenLink(claims.batch_id, None, claims.expires_at)
    try:
        row = catalog.share_link(claims.link_id)
    except NotFound:
        # Signed by this studio, yet never recorded (or its catalog was replaced): not a link we know.
        raise LinkInvalid("unknown link") from None
    if row.batch_id != claims.batch_id:
        raise LinkInvalid("unknown link")
    if row.revoked_at is not None:
        raise LinkInvalid("revoked")
    catalog.touch_share_link(claims.link_id, now)
    return OpenLink(claims.batch_id, claims.link_id, claims.expires_at)


def revoke_link(catalog: Catalog, link_id: str) -> ShareLink:
    """Stop the link ``link_id`` from working (revoking it again changes nothing).

    Raises:
        NotFound: No link has that id.
    """
    return catalog.revoke_share_link(link_id.strip())


def link_state(link: ShareLink, now: datetime) -> LinkState:
    """Whether ``link`` still works at ``now`` (a revoked link says revoked even once expired)."""
    if link.revoked_at is not None:
        return LinkState.REVOKED
    return LinkState.EXPIRED if _utc(link.expires_at) <= _utc(now) else LinkState.ACTIVE


def links_of(catalog: Catalog, batch_id: str | None = None, *, now: datetime | None = None) -> list[LinkView]:
    """Recorded links, newest first: one batch's, or every batch's when ``batch_id`` is ``None``."""
    now = _utc(now or datetime.now(UTC))
    return [
        LinkView(
            link_id=row.id,
            batch_id=row.batch_id,
            label=row.label,
            state=link_state(row, now),
            created_at=_utc(row.created_at),
            expires_at=_utc(row.expires_at),
            last_used_at=_utc(row.last_used_at) if row.last_used_at else None,
            revoked_at=_utc(row.revoked_at) if row.revoked_at else None,
        )
        for row in catalog.share_links(batch_id=batch_id)
    ]
