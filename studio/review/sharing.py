"""Signed client links: a token that opens one batch's review page until it expires.

A token is ``<body>.<signature>``, both urlsafe base64 without padding: the body is the batch id,
the expiry (Unix seconds) and, for links handed out since links were recorded, the link's id, one
per line; the signature is HMAC-SHA256 of the body under the studio's share secret. This module
only signs and reads tokens; :mod:`studio.review.links` records each link it hands out in the
catalog under its id, so one link can be listed, revoked and seen in use. A token without a link
id (made before links were recorded) still opens its batch until it expires, but it cannot be
listed or revoked one by one: rotating the secret (deleting ``HOME/share.secret`` or changing
``STUDIO_SHARE_SECRET``) voids every link at once, old and new.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from studio.errors import StudioError
from studio.settings import Settings

SECRET_FILE = "share.secret"
DEFAULT_HOURS = 72
# Domain separation: a signature made for something else with the same key never verifies here.
_CONTEXT = b"studio-share-v1\n"
_MAX_TOKEN = 512


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says.

    Attributes:
        batch_id: The batch it opens.
        expires_at: When it stops working (aware, UTC, whole seconds).
        link_id: The recorded link it belongs to, or ``None`` for a token made before links were
            recorded (such a token cannot be revoked one by one).
    """

    batch_id: str
    expires_at: datetime
    link_id: str | None = None


class LinkInvalid(StudioError):
    """A share token is forged, tampered with, malformed or expired.

    The message is the same for every cause, so a page can show it without telling a caller
    which part of a guessed token was wrong.

    Attributes:
        reason: Why the token was refused (for logs and tests, never for the client).
    """

    MESSAGE = "This link is not valid or has expired."

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGE)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(body: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), _CONTEXT + body, hashlib.sha256).digest()


def make_share_token(batch_id: str, *, secret: str, expires_at: datetime, link_id: str | None = None) -> str:
    """A token that opens ``batch_id``'s client page until ``expires_at``.

    Args:
        batch_id: The batch the link is for.
        secret: The share secret (see :func:`share_secret`).
        expires_at: When the link stops working (an aware datetime; naive is read as UTC).
        link_id: The recorded link this token belongs to (see :mod:`studio.review.links`), signed
            in so it cannot be swapped for another link's id.

    Returns:
        The token, safe to put in a URL query string.
    """
    if not batch_id or "\n" in batch_id:
        raise ValueError(f"not a batch id: {batch_id!r}")
    if link_id is not None and (not link_id or "\n" in link_id):
        raise ValueError(f"not a link id: {link_id!r}")
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    lines = [batch_id, str(int(expires_at.timestamp())), *([link_id] if link_id is not None else [])]
    body = "\n".join(lines).encode()
    return f"{_b64(body)}.{_b64(_sign(body, secret))}"


def verify_share_token(token: str, *, secret: str, now: datetime) -> str:
    """The batch id a token opens, if its signature holds and it has not expired.

    Args:
        token: The token from the link.
        secret: The share secret it must be signed with.
        now: The current time (an aware datetime; naive is read as UTC).

    Returns:
        The batch id.

    Raises:
        LinkInvalid: The token is malformed, forged, tampered with or expired.
    """
    return read_share_token(token, secret=secret, now=now)[0]


def read_share_token(token: str, *, secret: str, now: datetime) -> tuple[str, datetime]:
    """The batch id a token opens and when it stops working, if its signature holds and it has not expired.

    Raises:
        LinkInvalid: The token is malformed, forged, tampered with or expired.
    """
    claims = read_token_claims(token, secret=secret, now=now)
    return claims.batch_id, claims.expires_at


def read_token_claims(token: str, *, secret: str, now: datetime) -> TokenClaims:
    """Everything a token says (batch, expiry, link id), if its signature holds and it has not expired.

    Args:
        token: The token from the link.
        secret: The share secret it must be signed with.
        now: The current time (an aware datetime; naive is read as UTC).

    Returns:
        The token's claims.

    Raises:
        LinkInvalid: The token is malformed, forged, tampered with or expired.
    """
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN or token.count(".") != 1:
        raise LinkInvalid("malformed")
    body_text, signature_text = token.split(".")
    try:
        body, signature = _unb64(body_text), _unb64(signature_text)
    except (binascii.Error, ValueError):
        raise LinkInvalid("malformed") from None
    # Check the signature before reading anything out of the body.
    if not hmac.compare_digest(signature, _sign(body, secret)):
        raise LinkInvalid("bad signature")
    try:
        batch_id, expiry_text, *rest = body.decode().split("\n")
        expiry = int(expiry_text)
    except ValueError:
        raise LinkInvalid("malformed") from None
    if len(rest) > 1 or rest == [""]:
        raise LinkInvalid("malformed")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if now.timestamp() >= expiry:
        raise LinkInvalid("expired")
    return TokenClaims(batch_id, datetime.fromtimestamp(expiry, UTC), rest[0] if rest else None)


def share_secret(settings: Settings) -> str:
    """The share secret: ``STUDIO_SHARE_SECRET``, else ``HOME/share.secret`` (made once, mode 0600)."""
    if settings.share_secret is not None:
        return settings.share_secret.get_secret_value()
    path = settings.home / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-secret-")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
        # link() refuses to replace: when two processes race, the first file wins whole and
        # both read it back, so the dashboard and the CLI never sign with different secrets.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path.read_text().strip()


def share_url(settings: Settings, batch_id: str, *, hours: float = DEFAULT_HOURS, now: datetime | None = None) -> str:
    """A client review link for ``batch_id``, valid for ``hours``, that nothing records.

    Such a link cannot be listed or revoked one by one: hand links out with
    :func:`studio.review.links.issue_link`, which records them.
    """
    expires_at = (now or datetime.now(UTC)) + timedelta(hours=hours)
    token = make_share_token(batch_id, secret=share_secret(settings), expires_at=expires_at)
    return token_url(settings, token)


def token_url(settings: Settings, token: str) -> str:
    """The dashboard address that opens the client page for ``token``."""
    return f"{settings.dashboard_url}/?share={token}"


def open_share_link(settings: Settings, token: str, *, now: datetime | None = None) -> str:
    """The batch id a link's token opens under this studio's secret.

    Checks the signature and expiry only, never the catalog, so a revoked link still passes here:
    a page that lets a client in uses :func:`studio.review.links.open_client_link`.

    Raises:
        LinkInvalid: The token is not valid now.
    """
    return verify_share_token(token, secret=share_secret(settings), now=now or datetime.now(UTC))
