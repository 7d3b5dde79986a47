"""Structured logs: one JSON object per line, carrying the batch, shot and take a line is about.

The ids come from three places, most specific last:

1. Temporal's workflow and activity loggers put a ``temporal_workflow`` / ``temporal_activity``
   dict on the record whose ``workflow_id`` is ``<batch>`` or ``<batch>/<shot>``.
2. :func:`bound_ids` sets them for a block (the worker binds each activity's batch, shot and take,
   so a provider's or httpx's own log lines carry them too).
3. ``extra={"batch_id": ...}`` on the call itself.

Nothing here imports Temporal: the worker wires the Temporal side in :mod:`pipelines.runtime.telemetry`.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from pydantic import SecretStr

from studio.ids import ids_from_key
from studio.settings import Settings

ID_FIELDS = ("batch_id", "shot_id", "take_id")
# Context worth a field of its own when a record has it (from Temporal's logger extras).
_TEMPORAL_FIELDS = {"activity_type": "activity", "workflow_type": "workflow", "attempt": "attempt"}
REDACTED = "***"

LOG_IDS: ContextVar[Mapping[str, str] | None] = ContextVar("studio_log_ids", default=None)

# Callables that add fields to every JSON line (tracing adds trace_id / span_id); set by
# whoever turns that context on, so this module needs to know nothing about it.
_context_fields: list[Callable[[], Mapping[str, str]]] = []


@contextmanager
def bound_ids(ids: Mapping[str, str]) -> Iterator[None]:
    """Attach ``ids`` (and any other short context, e.g. ``provider``) to every log line in the block.

    Threads started with :func:`asyncio.to_thread` inherit them (it copies the context).
    """
    token = LOG_IDS.set({**(LOG_IDS.get() or {}), **ids})
    try:
        yield
    finally:
        LOG_IDS.reset(token)


def add_context_fields(source: Callable[[], Mapping[str, str]]) -> None:
    """Add fields from ``source()`` to every JSON line (once per source)."""
    if source not in _context_fields:
        _context_fields.append(source)


def record_ids(record: logging.LogRecord) -> dict[str, str]:
    """The ids (and bound context) a log record is about, from every place that knows them."""
    ids: dict[str, str] = {}
    for extra in ("temporal_workflow", "temporal_activity"):
        details = getattr(record, extra, None)
        if isinstance(details, Mapping):
            ids.update(ids_from_key(details.get("workflow_id")))
    ids.update(LOG_IDS.get() or {})
    for name in ID_FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            ids[name] = str(value)
    return ids


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids, then what else is known.

    Args:
        secrets: Exact strings (API keys, passwords) replaced by ``***`` wherever they would
            appear: a vendor error echoing the key it was sent must not put it in a log file.
    """

    def __init__(self, *, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is blanked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(record_ids(record))
        details = getattr(record, "temporal_activity", None) or getattr(record, "temporal_workflow", None)
        if isinstance(details, Mapping):
            for key, field in _TEMPORAL_FIELDS.items():
                if details.get(key) is not None:
                    line.setdefault(field, details[key])
        for source in _context_fields:
            for key, value in source().items():
                line.setdefault(key, value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        text = json.dumps(line, default=str, ensure_ascii=False)
        for secret in self._secrets:
            # The JSON-escaped form too: a key with a quote or backslash is escaped in the line.
            for form in {secret, json.dumps(secret, ensure_ascii=False)[1:-1]}:
                text = text.replace(form, REDACTED)
        return text


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold (API keys, passwords, signing keys), to keep out of logs."""
    values = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            values.append(value.get_secret_value())
    return values


def configure_logging(
    settings: Settings, *, level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler | None:
    """Send the process's logging as JSON lines when ``STUDIO_LOG_FORMAT=json``.

    In text mode nothing is touched: the process logs exactly as it did before.

    Args:
        settings: Read for ``log_format`` and for the secrets to redact.
        level: The root logger's level (the worker logs INFO; other commands WARNING).
        stream: Where lines go; default stderr.

    Returns:
        The handler installed, or ``None`` in text mode.
    """
    if settings.log_format != "json":
        return None
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(secrets=secret_values(settings)))
    # force: a second call (the worker after the CLI's) replaces the handler instead of doubling it.
    logging.basicConfig(level=level, handlers=[handler], force=True)
    return handler
