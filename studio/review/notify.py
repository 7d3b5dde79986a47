"""Telling people about gates: a webhook POST and/or an email, to the client or to the creator.

The client's channels (``STUDIO_NOTIFY_WEBHOOK`` / ``STUDIO_NOTIFY_EMAIL``) hear that a gate waits
for them (with the link) and, a day before its deadline, a reminder. The creator's channels
(``STUDIO_CREATOR_WEBHOOK`` / ``STUDIO_CREATOR_EMAIL``) hear of every decision at once and get a
daily digest of a batch's decisions. Plain I/O, no Temporal: activities call
:meth:`GateNotifier.notify` and :meth:`GateNotifier.notify_creator`. Delivery is at least once (a
re-run activity may notify twice); a receiver can dedupe on (event, batch, shot, round).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import httpx

from studio.errors import StudioError
from studio.settings import Settings
from studio.states import GateAction


class NotifyFailed(StudioError):
    """A notification could not be delivered.

    Attributes:
        channel: ``webhook`` or ``email``.
    """

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(f"{channel} notification failed: {reason}")
        self.channel = channel


@dataclass(frozen=True)
class GateNotice:
    """A gate that opened: which batch and shot, and the link that answers it."""

    batch_id: str
    shot_id: str
    project: str
    link: str

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON body (stable keys)."""
        return {
            "event": "gate_opened",
            "batch": self.batch_id,
            "shot": self.shot_id,
            "project": self.project,
            "link": self.link,
        }

    def subject(self) -> str:
        """The email's subject."""
        return f"{self.project}: shot {self.shot_id} is waiting for your approval"

    def body(self) -> str:
        """The email's text."""
        return (
            f"Shot {self.shot_id} of {self.project} (batch {self.batch_id}) is ready for review.\n\n"
            f"Open this link to approve a take or ask for changes:\n{self.link}\n"
        )


@dataclass(frozen=True)
class ProviderNotice:
    """Shots of a batch have waited on their providers (all down or throttling) for a while."""

    batch_id: str
    project: str
    shots: int
    seconds: int
    link: str

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON body (stable keys)."""
        return {
            "event": "waiting_for_providers",
            "batch": self.batch_id,
            "project": self.project,
            "shots": self.shots,
            "seconds": self.seconds,
            "link": self.link,
        }

    def subject(self) -> str:
        """The email's subject."""
        return f"{self.project}: {self.shots} shot(s) waiting for the image providers"

    def body(self) -> str:
        """The email's text."""
        return (
            f"Every provider in the chain of {self.shots} shot(s) of {self.project} (batch {self.batch_id}) "
            f"has been down or rate-limiting for over {self.seconds // 60} minutes. The shots wait and try "
            f"again by themselves; nothing is lost. Check the providers' status pages or your keys' quotas.\n\n"
            f"Batch: {self.link}\n"
        )


def _utc(moment: datetime) -> datetime:
    # The catalog gives SQLite's naive values; every time here is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _when(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class ReminderNotice:
    """A gate still waits and its deadline is near: the client is reminded, with the link."""

    batch_id: str
    shot_id: str
    project: str
    link: str
    due_at: datetime

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON body (stable keys)."""
        return {
            "event": "gate_reminder",
            "batch": self.batch_id,
            "shot": self.shot_id,
            "project": self.project,
            "link": self.link,
            "due_at": _utc(self.due_at).isoformat(),
        }

    def subject(self) -> str:
        """The email's subject."""
        return f"{self.project}: shot {self.shot_id} needs your answer by {_when(self.due_at)}"

    def body(self) -> str:
        """The email's text."""
        return (
            f"Shot {self.shot_id} of {self.project} (batch {self.batch_id}) is still waiting for your review. "
            f"Its deadline is {_when(self.due_at)}.\n\n"
            f"Open this link to approve a take or ask for changes:\n{self.link}\n"
        )


@dataclass(frozen=True)
class DecisionNotice:
    """A gate was decided (by a client, the creator, or its deadline): the creator hears at once.

    Attributes:
        take: The take number approved, if any.
        who: The name of who decided (``deadline`` when the deadline decided).
        email: The guest's email when a client decided through a link, else empty.
        round: The gate's round (1, then +1 each time changes were asked for).
        link: The batch's page on the dashboard.
    """

    batch_id: str
    shot_id: str
    project: str
    action: str
    take: int | None
    who: str
    email: str
    note: str
    round: int
    link: str

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON body (stable keys)."""
        return {
            "event": "gate_decided",
            "batch": self.batch_id,
            "shot": self.shot_id,
            "project": self.project,
            "action": self.action,
            "take": self.take,
            "who": self.who,
            "email": self.email,
            "note": self.note,
            "round": self.round,
            "link": self.link,
        }

    def subject(self) -> str:
        """The email's subject."""
        return f"{self.project}: {self.who} chose {_verb(self.action, self.take)} for shot {self.shot_id}"

    def body(self) -> str:
        """The email's text."""
        by = f"{self.who} <{self.email}>" if self.email else self.who
        note = f"\nNote: {self.note}\n" if self.note else ""
        return (
            f"Shot {self.shot_id} of {self.project} (batch {self.batch_id}), round {self.round}: "
            f"{_verb(self.action, self.take)}, by {by}.\n{note}\nBatch: {self.link}\n"
        )


def _verb(action: str, take: int | None) -> str:
    """``approve take #3``, ``changes``, ``reject``: a decision in a few words."""
    return f"approve take #{take}" if action == GateAction.APPROVE else str(action)


@dataclass(frozen=True)
class DigestEntry:
    """One decision in a digest."""

    shot_id: str
    action: str
    take: int | None
    who: str
    email: str
    note: str
    round: int
    decided_at: datetime

    def payload(self) -> dict[str, Any]:
        """This decision as the digest's JSON lists it."""
        return {
            "shot": self.shot_id,
            "action": self.action,
            "take": self.take,
            "who": self.who,
            "email": self.email,
            "note": self.note,
            "round": self.round,
            "decided_at": _utc(self.decided_at).isoformat(),
        }


@dataclass(frozen=True)
class DigestNotice:
    """The decisions made on a batch since the last digest (sent once a day while gates are open)."""

    batch_id: str
    project: str
    decisions: tuple[DigestEntry, ...]
    link: str

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON body (stable keys)."""
        return {
            "event": "digest",
            "batch": self.batch_id,
            "project": self.project,
            "decisions": [d.payload() for d in self.decisions],
            "link": self.link,
        }

    def subject(self) -> str:
        """The email's subject."""
        return f"{self.project}: {len(self.decisions)} decision(s) today"

    def body(self) -> str:
        """The email's text."""
        lines = [
            f"- {_when(d.decided_at)} shot {d.shot_id} (round {d.round}): {_verb(d.action, d.take)} by {d.who}"
            + (f" <{d.email}>" if d.email else "")
            + (f": {d.note}" if d.note else "")
            for d in self.decisions
        ]
        return (
            f"Decisions on {self.project} (batch {self.batch_id}):\n\n" + "\n".join(lines) + f"\n\nBatch: {self.link}\n"
        )


Notice = GateNotice | ProviderNotice | ReminderNotice | DecisionNotice | DigestNotice


class GateNotifier:
    """Sends notices through whatever settings configure (nothing, webhook, email, both).

    Gate, reminder and provider notices go to the client's channels (``notify_*``); decisions and
    digests go to the creator's (``creator_*``).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def enabled(self) -> bool:
        """Whether any of the client's channels is configured."""
        return bool(self.settings.notify_webhook or self.settings.notify_email)

    @property
    def creator_enabled(self) -> bool:
        """Whether any of the creator's channels is configured."""
        return bool(self.settings.creator_webhook or self.settings.creator_email)

    def notify(self, notice: Notice) -> list[str]:
        """Deliver ``notice`` on every configured client channel; returns the channels used.

        Raises:
            NotifyFailed: A channel failed (the caller retries, then gives up without blocking).
        """
        return self._send(notice, self.settings.notify_webhook, self.settings.notify_email)

    def notify_creator(self, notice: Notice) -> list[str]:
        """Deliver ``notice`` on every configured creator channel; returns the channels used.

        Raises:
            NotifyFailed: A channel failed (the caller retries, then gives up without blocking).
        """
        return self._send(notice, self.settings.creator_webhook, self.settings.creator_email)

    def _send(self, notice: Notice, webhook: str | None, email: str | None) -> list[str]:
        sent = []
        if webhook:
            self._webhook(webhook, notice)
            sent.append("webhook")
        if email:
            self._email(notice, email)
            sent.append("email")
        return sent

    def _webhook(self, url: str, notice: Notice) -> None:
        try:
            httpx.post(url, json=notice.payload(), timeout=10).raise_for_status()
        except httpx.HTTPError as err:
            raise NotifyFailed("webhook", str(err)) from None

    def _email(self, notice: Notice, to: str) -> None:
        s = self.settings
        message = EmailMessage()
        message["From"] = s.smtp_from
        message["To"] = to
        message["Subject"] = notice.subject()
        message.set_content(notice.body())
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=10) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user and s.smtp_password:
                    smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as err:
            raise NotifyFailed("email", str(err)) from None
