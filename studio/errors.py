"""The studio's one error root. Data lives in attributes; the message is one readable line."""

from __future__ import annotations


class StudioError(Exception):
    """Root of every error the studio raises on purpose.

    The CLI prints ``str(error)`` as a single line and exits non-zero, with no traceback: every
    subclass must therefore produce a message a user can act on.
    """


class NotFound(StudioError):
    """A batch, shot or take that was asked for does not exist.

    Attributes:
        kind: What was looked for (``"batch"``, ``"shot"``, ``"take"``).
        key: The id that was not found.
    """

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"no {kind} {key!r}")
        self.kind = kind
        self.key = key


class BatchRefused(StudioError):
    """A running batch refused to be changed as asked (its priority, a pause).

    Attributes:
        batch_id: The batch.
        reason: Why, in a few words.
    """

    def __init__(self, batch_id: str, reason: str) -> None:
        super().__init__(f"batch {batch_id}: {reason}")
        self.batch_id = batch_id
        self.reason = reason
