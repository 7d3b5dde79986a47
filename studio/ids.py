"""Building and reading the ids of batches, shots and takes.

Ids are readable strings a user can type: a batch is ``<slug>-<6 hex>``, a shot is keyed
``<batch>/<shot>`` (its catalog key and its workflow's id) and a take is ``<batch>/<shot>/<n>``,
``n`` counting from 1. Batch ids and shot ids never contain ``/``, so an id says what it is by
its number of parts. Everything that builds or splits one goes through here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from studio.errors import StudioError

SEPARATOR = "/"


class BadId(StudioError):
    """Text that is not the id it was read as.

    Attributes:
        text: What was read.
        kind: What it should have been (``"take id"``, ``"shot key or take id"``).
    """

    def __init__(self, text: str, kind: str, form: str) -> None:
        super().__init__(f"{text!r} is not a {kind} ({form})")
        self.text = text
        self.kind = kind


@dataclass(frozen=True)
class TakeRef:
    """A take of a shot, read from its id."""

    batch_id: str
    shot_id: str
    number: int

    @property
    def shot_key(self) -> str:
        """The key of the take's shot, ``<batch>/<shot>``."""
        return shot_key(self.batch_id, self.shot_id)

    @property
    def id(self) -> str:
        """The take's id, ``<batch>/<shot>/<n>``."""
        return take_id(self.shot_key, self.number)


def new_batch_id(slug: str, token: str | None = None) -> str:
    """A readable, unique batch id: ``<slug>-<6 hex>`` (slug trimmed to 40 characters)."""
    return f"{slug[:40].strip('-') or 'batch'}-{token or secrets.token_hex(3)}"


def shot_key(batch_id: str, shot_id: str) -> str:
    """The catalog key and workflow id of a shot in a batch."""
    return f"{batch_id}{SEPARATOR}{shot_id}"


def take_id(shot_key: str, number: int) -> str:
    """The id of take ``number`` of the shot ``shot_key`` (``<batch>/<shot>``)."""
    return f"{shot_key}{SEPARATOR}{number}"


def take_ids(shot_key: str, count: int, *, first: int = 1) -> list[str]:
    """The ids of ``count`` takes of a shot, numbered from ``first``."""
    return [take_id(shot_key, n) for n in range(first, first + count)]


def parse_take_id(text: str) -> TakeRef:
    """Read a take id ``<batch>/<shot>/<n>``.

    Raises:
        BadId: ``text`` does not have three non-empty parts ending in a take number (1 or more).
    """
    parts = text.split(SEPARATOR)
    if len(parts) != 3 or not all(parts) or not parts[2].isdigit() or int(parts[2]) < 1:
        raise BadId(text, "take id", "BATCH/SHOT/N")
    return TakeRef(parts[0], parts[1], int(parts[2]))


def is_take_id(text: str) -> bool:
    """Whether ``text`` reads as a take id (``<batch>/<shot>/<n>``)."""
    try:
        parse_take_id(text)
    except BadId:
        return False
    return True


def take_number(take_id: str) -> int:
    """The number of a take within its shot (the last part of ``<batch>/<shot>/<n>``).

    Raises:
        BadId: ``take_id`` is not a take id.
    """
    return parse_take_id(take_id).number


def shot_id_in(key: str) -> str:
    """The shot id inside a shot key or a take id."""
    parts = key.split(SEPARATOR)
    if len(parts) not in (2, 3) or not all(parts[:2]):
        raise BadId(key, "shot key or take id", "BATCH/SHOT or BATCH/SHOT/N")
    return parts[1]


def without_batch(key: str) -> str:
    """A shot key or take id without its batch: ``<shot>`` or ``<shot>/<n>`` (short enough for a table)."""
    parts = key.split(SEPARATOR, 1)
    if len(parts) != 2 or not all(parts):
        raise BadId(key, "shot key or take id", "BATCH/SHOT or BATCH/SHOT/N")
    return parts[1]


def batch_id_in(key: str) -> str:
    """The batch id at the head of a shot key or a take id (a batch id is its own)."""
    head = key.split(SEPARATOR, 1)[0]
    if not head:
        raise BadId(key, "batch, shot or take id", "BATCH, BATCH/SHOT or BATCH/SHOT/N")
    return head


def ids_from_key(key: str | None) -> dict[str, str]:
    """The batch, shot and take ids inside a key, as log context.

    Args:
        key: A batch id, shot key or take id; ``None``, ``""`` or anything with more parts
            gives no ids (no error: a log line must not fail for an odd key).

    Returns:
        ``batch_id`` and, where the key has them, ``shot_id`` and ``take_id``.
    """
    parts = key.split(SEPARATOR) if key else []
    if not 1 <= len(parts) <= 3:  # not an id of ours
        return {}
    ids = {"batch_id": parts[0]}
    if len(parts) >= 2:
        ids["shot_id"] = parts[1]
    if len(parts) == 3 and key:
        ids["take_id"] = key
    return ids
