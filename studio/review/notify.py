"""Telling people a gate waits for them: a webhook POST and/or an email with the client link.

Plain I/O, no Temporal: the `notify_gate` activity calls :meth:`GateNotifier.notify`. Delivery is
at least once (a re-run activity may notify twice); a receiver can dedupe on (batch, shot).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from studio.errors import StudioError
from studio.settings import Settings


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


Notice = GateNotice | ProviderNotice


class GateNotifier:
    """Sends gate notices through whatever settings configure (nothing, webhook, email, both)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def enabled(self) -> bool:
        """Whether any channel is configured."""
        return bool(self.settings.notify_webhook or self.settings.notify_email)

    def notify(self, notice: Notice) -> list[str]:
        """Deliver ``notice`` on every configured channel; returns the channels used.

        Raises:
            NotifyFailed: A channel failed (the caller retries, then gives up without blocking).
        """
        sent = []
        if self.settings.notify_webhook:
            self._webhook(self.settings.notify_webhook, notice)
            sent.append("webhook")
        if self.settings.notify_email:
            self._email(notice)
            sent.append("email")
        return sent

    def _webhook(self, url: str, notice: Notice) -> None:
        try:
            httpx.post(url, json=notice.payload(), timeout=10).raise_for_status()
        except httpx.HTTPError as err:
            raise NotifyFailed("webhook", str(err)) from None

    def _email(self, notice: Notice) -> None:
        s = self.settings
        message = EmailMessage()
        message["From"] = s.smtp_from
        message["To"] = s.notify_email
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
