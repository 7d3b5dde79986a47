"""`studio status` reads typed read models, and its `--json` stays what it was, byte for byte.

The goldens in tests/fixtures/status-json/ were printed by the studio of commit 72e96b6 (status as
dictionaries, before the read models) for the rows of tests/studio/status_rows.py, with one key
added since, last: ``progress`` (self-hosted render nodes' live progress, issue 14), then ``cache``
(takes reused from the render cache and what that saved, issue 16), then ``eta`` (issue 16). An open
circuit's ``until`` follows the clock: it reads ``<until>`` there and is checked apart.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from studio.catalog.store import Catalog
from studio.cli import main
from studio.settings import Settings
from studio.spending.budget import batch_spend
from studio.views.batches import batch_line, waiting_text
from studio.views.status import batch_summary, batches_overview
from studio.views.summary import StageProgress
from tests.studio.status_rows import PUBLISHED, QUEUED, WAITING, status_batches
from tests.support.environment import point_environment_at

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "status-json"
UNTIL = re.compile(r'"until": "([^"]+)"')
NONE = type(None)
Ids = tuple[str, str, str]
Capture = pytest.CaptureFixture[str]

# Each object's keys in the order printed, and the JSON types of their values.
SUMMARY = {
    "batch": (str,),
    "project": (str,),
    "state": (str,),
    "seed": (int,),
    "created_at": (str,),
    "finished_at": (str, NONE),
    "output_dir": (str,),
    "error": (str, NONE),
    "shots": (dict,),
    "stages": (dict,),
    "takes": (dict,),
    "provider_calls": (dict,),
    "cost": (dict,),
    "providers": (dict,),
    "alerts": (list,),
    "waiting_for": (list,),
    "take_details": (list,),
    "progress": (list,),  # added with self-hosted render nodes (issue 14): a new key, last
    "cache": (dict,),  # added with the render cache (issue 16): a new key after it
    "eta": (dict, NONE),  # when a running batch should finish (issue 16): null once ended or unmeasured
}
SHOTS = (
    *("total", "pending", "rendering", "waiting_for_provider", "upscaling", "reviewing", "awaiting_budget"),
    *("awaiting_approval", "publishing", "published", "rejected", "failed", "cancelled"),
)
STAGES = {
    "storyboard": ("done", "total"),
    "render": ("done", "failed", "total"),
    "upscale": ("done", "total"),
    "review": ("done", "passed", "total"),
    "approval": ("required", "waiting", "approved", "rejected"),
    "publish": ("done", "total"),
}
COST = {
    "spent_usd": (float,),
    "committed_usd": (float,),
    "budget_usd": (float, NONE),
    "spending_stopped": (bool,),
    "waiting_at_budget": (list,),
    "by_provider": (dict,),
}
CIRCUIT = {"circuit": (str,), "until": (str, NONE)}
ALERT = {"provider": (str,), "error_class": (str,), "calls": (int,), "message": (str,), "last_error": (str, NONE)}
WAIT_SHOTS = {"for": (str,), "shots": (int,), "since": (NONE,), "last_error": (str, NONE)}
WAIT_SHARED = {"for": (str,), "since": (str,), "last_error": (str,), "shots": (NONE,)}
TAKE = {
    "take": (str,),
    "round": (int,),
    "status": (str,),
    "provider": (str, NONE),
    "model": (str, NONE),
    "seed": (int, NONE),
    "review_score": (float, NONE),
    "review_passed": (bool, NONE),
    "review_notes": (str, NONE),
    "cost_usd": (float,),
    "error": (str, NONE),
}
OVERVIEW = {
    "batch": (str,),
    "project": (str,),
    "state": (str,),
    "shots": (int,),
    "published": (int,),
    "waiting": (int,),
    "waiting_for_provider": (int,),
    "failed": (int,),
    "created_at": (str,),
    "output_dir": (str,),
}


@pytest.fixture
def batches(settings: Settings, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> Ids:
    """The status rows in the test's catalog, which the CLI reads from the environment."""
    point_environment_at(settings, monkeypatch)
    return status_batches(catalog)


def status_json(capsys: Capture, *args: str) -> str:
    """What `studio status ARGS --json` prints."""
    capsys.readouterr()
    assert main(["status", *args, "--json"]) == 0
    return capsys.readouterr().out


def assert_object(value: dict[str, Any], keys: Mapping[str, tuple[object, ...]]) -> None:
    assert list(value) == list(keys)
    wrong = {k: type(v).__name__ for k, v in value.items() if type(v) not in keys[k]}
    assert not wrong, f"values of the wrong type: {wrong}"


@pytest.mark.parametrize("name", [WAITING, PUBLISHED, QUEUED, "list"])
def test_status_json_is_byte_for_byte_what_it_was(batches: Ids, capsys: Capture, name: str) -> None:
    printed = status_json(capsys, *([] if name == "list" else [name]))
    for until in UNTIL.findall(printed):
        datetime.fromisoformat(until)  # a time, whatever the clock said
    assert UNTIL.sub('"until": "<until>"', printed) == (GOLDEN / f"{name}.json").read_text()


def test_status_json_keys_and_types(batches: Ids, capsys: Capture) -> None:
    data = json.loads(status_json(capsys, WAITING))
    assert_object(data, SUMMARY)
    assert list(data["shots"]) == list(SHOTS) and {type(n) for n in data["shots"].values()} == {int}
    assert {name: tuple(counts) for name, counts in data["stages"].items()} == STAGES
    assert data["takes"]["total"] == 8 and {type(n) for n in data["takes"].values()} == {int}
    assert list(data["provider_calls"]) == ["total", "by_provider"]
    assert data["provider_calls"]["by_provider"]["fal"] == {"succeeded": 1, "started": 1}  # as first met
    assert_object(data["cost"], COST)
    assert data["cost"]["by_provider"] == {"fal": 0.0031, "local": 0.02}
    assert list(data["providers"]) == ["fal", "gemini", "mistral"]  # remote providers only, by name
    for circuit in data["providers"].values():
        assert_object(circuit, CIRCUIT)
    assert data["providers"]["mistral"]["circuit"] == "open"
    for alert in data["alerts"]:
        assert_object(alert, ALERT)
    stalled, shared = data["waiting_for"]
    assert_object(stalled, WAIT_SHOTS)
    assert_object(shared, WAIT_SHARED)  # an outage every batch shares has always listed "shots" last
    for row in data["take_details"]:
        assert_object(row, TAKE)
    for row in json.loads(status_json(capsys)):
        assert_object(row, OVERVIEW)


def test_the_models_read_by_attribute(batches: Ids, catalog: Catalog) -> None:
    summary = batch_summary(catalog, WAITING)
    assert summary.state == "waiting" and summary.shots.count("awaiting_budget") == 1
    assert summary.stages.progress("render") == StageProgress(done=5, total=8, failed=2)
    assert summary.stages.review.passed == 3 and not summary.stages.upscale.skipped
    with pytest.raises(KeyError):
        summary.stages.progress("approval")  # gates are counted apart: summary.stages.approval
    assert summary.cost.spend() == batch_spend(catalog, WAITING)
    assert summary.providers["mistral"].is_open and not summary.providers["fal"].is_open
    assert [a.error_class for a in summary.alerts] == ["AuthFailed", "InvalidRequest"]
    assert waiting_text(summary.waiting_for[0]) == (
        "Waiting for a provider (1 shot): gemini: 503 unavailable. Nothing is lost: it retries by itself."
    )
    assert waiting_text(summary.waiting_for[1]) == (
        "Waiting for the asset store since 09:33:00 UTC: disk full. Nothing is lost: it retries by itself."
    )
    (row,) = [t for t in summary.take_details if t.take_id == f"{WAITING}/s03/1"]
    assert (row.seed, row.cost_usd) == (77, 0.012346)
    line = batch_line(summary, cost_usd=summary.cost.spent_usd)
    assert (line.failed_takes, line.waiting, line.waiting_budget, line.progress["upscale"]) == (2, 1, 1, (1, 2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.state = "published"  # type: ignore[misc]  # read models are read-only: the test is that it raises

    assert batch_summary(catalog, PUBLISHED).waiting_for == ()  # an ended batch waits for nothing
    queued = batch_summary(catalog, QUEUED)
    assert queued.takes.total == 6 and queued.stages.upscale.total == 6  # the project's count before a storyboard
    assert [o.batch_id for o in batches_overview(catalog)] == [QUEUED, PUBLISHED, WAITING]  # newest first
