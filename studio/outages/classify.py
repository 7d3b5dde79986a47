"""Weather, not verdicts: telling an outage of the studio's own infrastructure from a real failure.

A shot may only end for a business reason: a vendor refused it, a reviewer or a human turned it
down. The catalog restarting, the asset store answering 503, a full or read-only disk are
*weather*: the work waits and tries again, for hours if need be, and never counts against a
shot. The decisions here are plain functions over exceptions and attempt numbers, so the worker
(pipelines/runtime/outage_guard.py) and the tests share them.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import exc as sa_exc

from providers.base import ErrorKind, error_kind
from studio.errors import StudioError
from studio.storage.local import AssetStoreUnavailable

log = logging.getLogger("studio.outages")


class Resource(StrEnum):
    """What an outage is of; the value is the activity failure's type the workflow sees."""

    CATALOG = "CatalogUnavailable"
    ASSETS = "AssetStoreUnavailable"
    DISK = "DiskUnavailable"

    @property
    def label(self) -> str:
        """How a user is told what is being waited for."""
        return {
            "CatalogUnavailable": "the catalog",
            "AssetStoreUnavailable": "the asset store",
            "DiskUnavailable": "the disk",
        }[self.value]


# A failed activity of one of these types is retried for the whole outage window.
OUTAGE_TYPES = frozenset(r.value for r in Resource)

# SQLite says "OperationalError" for a locked database and for a missing table alike: only the
# first kind is weather. Postgres's OperationalError is always about the server or connection.
_SQLITE_WEATHER = ("locked", "busy", "unable to open", "disk i/o", "readonly", "read-only", "disk is full")
# A full, read-only or failing disk, and a network-mounted one that stopped answering.
_DISK_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EDQUOT,
        errno.EIO,
        errno.ESTALE,
        errno.ENOTCONN,
        errno.ETIMEDOUT,
        errno.EHOSTDOWN,
        errno.ENETUNREACH,
    }
)

# Attempts a stage gets for an error that is neither weather nor already final (a bug, a flaky
# notifier): what the retry policies allowed before outages were told apart.
OTHER_ATTEMPTS = 5
# Attempts on the same provider for its own trouble (5xx, rate limit, bad image) before the
# next provider in the chain is tried.
PROVIDER_ATTEMPTS = 3
# The kinds of a provider's own trouble (read from a failure type by providers.base.error_kind).
PROVIDER_TROUBLE = frozenset({ErrorKind.UNAVAILABLE, ErrorKind.RATE_LIMITED, ErrorKind.BAD_IMAGE})
# Tries of a *local* activity through an outage (about 11 s) before the workflow hands the stage
# to the server, which retries it without growing the workflow's history.
LOCAL_OUTAGE_ATTEMPTS = 6

DEFAULT_WINDOW = 6 * 3600.0
"""Seconds a stage keeps retrying through an outage of the studio's own infrastructure."""
RETRY_CAP = 4.0
"""Longest wait between two tries during an outage: the work resumes this soon after it ends."""


class OutageError(StudioError):
    """Work that must wait: a resource the studio depends on is unreachable.

    Attributes:
        resource: What is down.
        detail: The underlying error, one line.
    """

    def __init__(self, resource: Resource, detail: str) -> None:
        super().__init__(f"waiting for {resource.label}: {detail}")
        self.resource = resource
        self.detail = detail


def _chain(err: BaseException) -> list[BaseException]:
    """``err`` and the errors it was raised from or while handling, innermost last."""
    seen: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    # SQLAlchemy appends the statement and a link to its docs: neither helps the reader.
    text = text.split(" [SQL:")[0].split(" (Background on this error")[0]
    return text if len(text) <= 240 else text[:239] + "…"


def classify_outage(err: BaseException) -> OutageError | None:
    """The outage ``err`` is a symptom of, or ``None`` when it is not weather.

    Looks through the chain of causes, so an error wrapped by the studio's own code (a catalog
    call inside a publish step) is still recognised.
    """
    for link in _chain(err):
        if isinstance(link, OutageError):
            return link
        if isinstance(link, AssetStoreUnavailable):
            return OutageError(Resource.ASSETS, link.reason)
        if isinstance(link, sa_exc.DBAPIError):
            if link.connection_invalidated or isinstance(link, sa_exc.InterfaceError):
                return OutageError(Resource.CATALOG, _one_line(link.orig or link))
            if isinstance(link, sa_exc.OperationalError):
                text = str(link.orig or link).lower()
                if "sqlite" not in type(link.orig).__module__ or any(w in text for w in _SQLITE_WEATHER):
                    return OutageError(Resource.CATALOG, _one_line(link.orig or link))
        if isinstance(link, sa_exc.TimeoutError):  # no free connection in the pool for a while
            return OutageError(Resource.CATALOG, _one_line(link))
        if isinstance(link, OSError) and link.errno in _DISK_ERRNOS:
            where = f" ({link.filename})" if link.filename else ""
            return OutageError(Resource.DISK, f"{link.strerror or link}{where}")
    return None


def retry_allowed(error_type: str | None, attempt: int, *, local: bool = False) -> bool:
    """Whether a stage that failed on attempt ``attempt`` with ``error_type`` may run again.

    Outages retry for as long as the stage's window lasts (its schedule-to-close timeout), or
    :data:`LOCAL_OUTAGE_ATTEMPTS` times in a local activity; a provider's own trouble gets
    :data:`PROVIDER_ATTEMPTS` tries before failover; anything else :data:`OTHER_ATTEMPTS`.
    """
    if error_type in OUTAGE_TYPES:
        return not local or attempt < LOCAL_OUTAGE_ATTEMPTS
    if error_kind(error_type) in PROVIDER_TROUBLE:
        return attempt < PROVIDER_ATTEMPTS
    return attempt < OTHER_ATTEMPTS


def retry_delay(attempt: int, cap: float = RETRY_CAP) -> float:
    """Seconds before the next try after ``attempt`` failed for an outage: 0.5, 1, 2, then ``cap``."""
    return min(cap, 0.5 * 2.0 ** max(0, attempt - 1))


@dataclass
class _Spell:
    since: float
    last_failure: float
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    failures: int = 0
    last_error: str = ""
    noted: float = 0.0  # when the spell was last written down for readers (see due)


@dataclass
class OutageLog:
    """One log line when an outage starts and one when it ends, per resource, per process.

    Retries during an outage fail quietly (the SDK logs benign failures at DEBUG); this keeps the
    worker's log readable: what is down, since when, and when it came back.

    Args:
        quiet_for: Seconds without a failure after which a success means the outage is over
            (so a resource that flaps does not log a line per flap).
        provider_quiet_for: The same for a provider, whose errors come and go more often than a
            catalog's: a vendor's odd 500 between good calls is not an outage that ends each time.
        note_every: Seconds between two notes of a lasting outage for readers (see
            studio.outages.notes).
    """

    quiet_for: float = 0.0
    provider_quiet_for: float = 60.0
    note_every: float = 20.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    spells: dict[str, _Spell] = field(default_factory=dict)

    def _now(self) -> float:
        return self.clock()

    def failed(self, what: str, detail: str, extra: Mapping[str, Any] | None = None) -> None:
        """An attempt failed because ``what`` (``the catalog``, ``provider gemini``) is down.

        Args:
            extra: Log record extras of the attempt (which activity, workflow and try), so the
                one line an outage gets says where it was first seen.
        """
        now = self._now()
        spell = self.spells.get(what)
        if spell is None:
            spell = self.spells[what] = _Spell(since=now, last_failure=now)
            log.warning(
                "%s is unavailable; work waits and retries until it is back: %s", what, detail, extra=dict(extra or {})
            )
        spell.failures += 1
        spell.last_failure = now
        spell.last_error = detail

    def due_notes(self) -> list[str]:
        """Outages to write down for readers now: at their start, then every :attr:`note_every` s."""
        now, due = self._now(), []
        for what, spell in self.spells.items():
            if not spell.noted or now - spell.noted >= self.note_every:
                spell.noted = now
                due.append(what)
        return due

    def since(self, what: str) -> datetime:
        """When the outage of ``what`` began (wall clock, UTC)."""
        return self.spells[what].started

    def succeeded(self, touched: set[str]) -> list[str]:
        """An attempt that used ``touched`` succeeded: their outages, if quiet long enough, are over.

        Returns:
            The outages that ended.
        """
        if not self.spells:
            return []
        now, ended = self._now(), []
        for what, spell in list(self.spells.items()):
            quiet = self.provider_quiet_for if what.startswith("provider ") else self.quiet_for
            if what in touched and now - spell.last_failure >= quiet:
                del self.spells[what]
                ended.append(what)
                log.warning(
                    "%s is back after %.0f s (%d failed tries)", what, spell.last_failure - spell.since, spell.failures
                )
        return ended

    def current(self) -> dict[str, str]:
        """What is down now, with its last error."""
        return {what: s.last_error for what, s in self.spells.items()}
