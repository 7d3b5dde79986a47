"""JSON log lines: the ids a line is about, no secrets, and text mode left exactly as it was."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from studio.ids import ids_from_key
from studio.log_format import JsonFormatter, bound_ids, configure_logging
from studio.settings import Settings

MISTRAL_KEY = "mistral-secret-key-0d41e9"
SMTP_PASSWORD = 'smtp-pass-with-"quote"-77'


@pytest.fixture(autouse=True)
def root_logging() -> Iterator[logging.Logger]:
    """The root logger, put back as it was after the test (configure_logging replaces handlers)."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield root
    root.handlers[:], root.level = saved


def settings(**fields: object) -> Settings:
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field


def record(
    message: str, *args: object, level: int = logging.INFO, name: str = "studio.test", **extra: object
) -> logging.LogRecord:
    rec = logging.LogRecord(name, level, __file__, 1, message, args, None)
    rec.__dict__.update(extra)
    return rec


def as_json(rec: logging.LogRecord, formatter: JsonFormatter | None = None) -> dict[str, object]:
    line = (formatter or JsonFormatter()).format(rec)
    assert "\n" not in line
    return json.loads(line)


def test_ids_from_keys() -> None:
    assert ids_from_key("b1") == {"batch_id": "b1"}
    assert ids_from_key("b1/s1") == {"batch_id": "b1", "shot_id": "s1"}
    assert ids_from_key("b1/s1/3") == {"batch_id": "b1", "shot_id": "s1", "take_id": "b1/s1/3"}
    assert ids_from_key(None) == {} and ids_from_key("") == {}
    assert ids_from_key("not/an/id/at/all") == {}


def test_an_activity_line_carries_batch_shot_and_take() -> None:
    temporal = {"workflow_id": "b1/s1", "activity_type": "render", "attempt": 2, "task_queue": "q"}
    with bound_ids({"take_id": "b1/s1/3", "provider": "gemini"}):
        line = as_json(record("rendered %s", "ok", temporal_activity=temporal))
    assert line["message"] == "rendered ok" and line["level"] == "INFO" and line["logger"] == "studio.test"
    assert str(line["time"]).endswith("Z") and "T" in str(line["time"])
    assert line["batch_id"] == "b1" and line["shot_id"] == "s1" and line["take_id"] == "b1/s1/3"
    assert line["activity"] == "render" and line["attempt"] == 2 and line["provider"] == "gemini"
    assert list(line)[:4] == ["time", "level", "logger", "message"]


def test_a_workflow_line_and_explicit_ids() -> None:
    line = as_json(record("shot gated", temporal_workflow={"workflow_id": "b2", "workflow_type": "BatchWorkflow"}))
    assert line["batch_id"] == "b2" and line["workflow"] == "BatchWorkflow" and "shot_id" not in line
    line = as_json(record("published", batch_id="b3", shot_id="s9"))
    assert line["batch_id"] == "b3" and line["shot_id"] == "s9" and "take_id" not in line
    line = as_json(record("no context here"))
    assert not {"batch_id", "shot_id", "take_id"} & line.keys()


def test_bound_ids_end_with_their_block() -> None:
    with bound_ids({"batch_id": "b1"}), bound_ids({"shot_id": "s1"}):
        assert as_json(record("x"))["shot_id"] == "s1" and as_json(record("x"))["batch_id"] == "b1"
    assert "batch_id" not in as_json(record("x"))


def test_json_mode_writes_one_object_per_line_without_secrets(root_logging: logging.Logger) -> None:
    config = settings(log_format="json", MISTRAL_API_KEY=MISTRAL_KEY, smtp_password=SecretStr(SMTP_PASSWORD))
    stream = io.StringIO()
    handler = configure_logging(config, level=logging.INFO, stream=stream)
    assert handler is not None and root_logging.handlers == [handler]

    log = logging.getLogger("studio.test.json")
    log.info("settings: %r", config)  # a repr of the settings shows no secret (SecretStr)
    log.warning("vendor said: bad key %s", MISTRAL_KEY)  # a vendor echoing the key it was sent
    try:
        raise RuntimeError(f"auth failed for {SMTP_PASSWORD}")
    except RuntimeError:
        log.exception("mail failed")
    logging.getLogger("studio.test.json").debug("below the level")

    text = stream.getvalue()
    assert MISTRAL_KEY not in text and SMTP_PASSWORD not in text and "quote" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["level"] for line in lines] == ["INFO", "WARNING", "ERROR"]
    assert lines[1]["message"] == "vendor said: bad key ***"
    assert "RuntimeError: auth failed for ***" in lines[2]["exception"]


def test_text_mode_changes_nothing(root_logging: logging.Logger) -> None:
    before = (root_logging.handlers[:], root_logging.level)
    assert configure_logging(settings(), level=logging.DEBUG) is None
    assert (root_logging.handlers, root_logging.level) == before
    # A record formats as it always did: the message only, no JSON, whatever ids are bound.
    with bound_ids({"batch_id": "b1"}):
        assert logging.Formatter().format(record("plain %d", 5)) == "plain 5"


def test_the_cli_logs_json_when_asked(monkeypatch: pytest.MonkeyPatch, root_logging: logging.Logger) -> None:
    from studio.cli import _configure_logging

    monkeypatch.setenv("STUDIO_LOG_FORMAT", "json")
    _configure_logging()
    (handler,) = root_logging.handlers
    assert isinstance(handler.formatter, JsonFormatter) and root_logging.level == logging.WARNING

    monkeypatch.setenv("STUDIO_LOG_FORMAT", "text")
    root_logging.handlers[:] = []
    _configure_logging()
    assert root_logging.handlers == []
