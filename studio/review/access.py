"""Who may open the owner's pages of the dashboard.

On localhost the machine's user is the owner and no password is asked. Once the dashboard
listens on another address, anyone who can reach it could approve, reject or launch, so the
owner pages ask for ``STUDIO_DASHBOARD_TOKEN`` and the dashboard refuses to start without one.
Clients never use this: their signed link (see :mod:`studio.review.sharing`) opens their batch only.
"""

from __future__ import annotations

import hmac

from studio.errors import StudioError
from studio.settings import Settings

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class DashboardUnsafe(StudioError):
    """The dashboard was asked to listen beyond localhost without an owner token.

    Attributes:
        host: The address it was asked to listen on.
    """

    def __init__(self, host: str) -> None:
        super().__init__(
            f"the dashboard would listen on {host} without a password: set STUDIO_DASHBOARD_TOKEN "
            "(or keep STUDIO_DASHBOARD_HOST=127.0.0.1)"
        )
        self.host = host


def owner_login_required(settings: Settings) -> bool:
    """Whether owner pages ask for the dashboard token (the dashboard listens beyond localhost)."""
    return settings.dashboard_host not in LOCAL_HOSTS


def check_listen_safe(settings: Settings) -> None:
    """Refuse a dashboard reachable from other machines that has no owner token.

    Raises:
        DashboardUnsafe: Listening beyond localhost with no (or an empty) token.
    """
    if owner_login_required(settings):
        token = settings.dashboard_token.get_secret_value() if settings.dashboard_token else ""
        if not token:
            raise DashboardUnsafe(settings.dashboard_host)


def owner_token_ok(settings: Settings, given: str) -> bool:
    """Whether ``given`` is the owner token (constant-time; never true when no token is set)."""
    expected = settings.dashboard_token.get_secret_value() if settings.dashboard_token else ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
