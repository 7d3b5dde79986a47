"""States are StrEnums whose values never change; ids are built and read in one place."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from temporalio.converter import DataConverter

from pipelines.messages import BatchTally, Decision, ShotStageInput, ShotUpdate
from studio import ids
from studio.catalog.store import Catalog
from studio.errors import StudioError
from studio.states import (
    BatchState,
    CallStatus,
    GateAction,
    ShotOutcome,
    ShotPhase,
    ShotStage,
    TakeStatus,
)
from studio.views.status import SHOT_STAGES
from tests.studio.catalog_rows import add_batch

# The strings catalogs and saved histories hold: changing one breaks them.
STORED_VALUES = {
    BatchState: ["queued", "running", "waiting", "paused", "published", "failed", "cancelled"],
    ShotStage: [
        "starting",
        "pending",
        "rendering",
        "waiting_for_provider",
        "upscaling",
        "reviewing",
        "awaiting_budget",
        "awaiting_approval",
        "publishing",
        "published",
        "rejected",
        "failed",
        "cancelled",
    ],
    TakeStatus: [
        "planned",
        "rendering",
        "rendered",
        "upscaled",
        "reviewed",
        "approved",
        "rejected",
        "failed",
        "cancelled",
    ],
    GateAction: ["approve", "reject", "changes"],
    ShotOutcome: ["published", "rejected", "failed"],
    CallStatus: ["started", "succeeded", "failed", "lost"],
    ShotPhase: ["gated", "resumed", "done", "provider_wait", "provider_back"],
}


@pytest.mark.parametrize("enum", list(STORED_VALUES), ids=lambda e: e.__name__)
def test_values_are_the_stored_strings(enum: type) -> None:
    assert [member.value for member in enum] == STORED_VALUES[enum]
    for member in enum:
        assert member == member.value and hash(member) == hash(member.value)
        assert str(member) == f"{member}" == member.value
        assert enum(member.value) is member


def test_status_counts_shot_stages_in_their_old_order() -> None:
    # The per-stage keys of `studio status --json`, in the order they always had.
    assert list(SHOT_STAGES) == STORED_VALUES[ShotStage][1:]


def test_json_writes_members_as_their_values() -> None:
    members = {"stage": ShotStage.FAILED, "counts": {ShotOutcome.PUBLISHED: 2}, "list": [TakeStatus.APPROVED]}
    plain = {"stage": "failed", "counts": {"published": 2}, "list": ["approved"]}
    assert json.dumps(members) == json.dumps(plain)
    assert json.dumps(members, indent=2, sort_keys=True) == json.dumps(plain, indent=2, sort_keys=True)


def test_temporal_payloads_are_byte_identical_and_round_trip() -> None:
    converter = DataConverter.default.payload_converter
    typed = [
        ShotStageInput("b-1/s1", ShotStage.FAILED, error="lost"),
        ShotUpdate("s1", ShotPhase.DONE, ShotOutcome.REJECTED),
        Decision(GateAction.APPROVE, 2),
        BatchTally({ShotOutcome.PUBLISHED: 3, ShotOutcome.FAILED: 1}, BatchState.PUBLISHED),
    ]
    plain = [
        ShotStageInput("b-1/s1", "failed", error="lost"),
        ShotUpdate("s1", "done", "rejected"),
        Decision("approve", 2),
        BatchTally({"published": 3, "failed": 1}, "published"),
    ]
    payloads = converter.to_payloads(typed)
    assert [p.data for p in payloads] == [p.data for p in converter.to_payloads(plain)]
    back = converter.from_payloads(payloads, [type(value) for value in typed])
    assert back == plain == typed


def test_catalog_stores_the_values(catalog: Catalog) -> None:
    [take_id] = add_batch(catalog, 1)
    catalog.update_take(take_id, status=TakeStatus.FAILED)
    catalog.update_shot(ids.parse_take_id(take_id).shot_key, stage=ShotStage.AWAITING_APPROVAL)
    catalog.set_batch_state("b-1", BatchState.CANCELLED)
    with catalog.engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT b.state, s.stage, t.status FROM batch b JOIN shot s ON s.batch_id = b.id JOIN take t ON t.shot_key = s.key"
            )
        ).one()
    assert tuple(stored) == ("cancelled", "awaiting_approval", "failed")
    assert all(type(value) is str for value in stored)
    assert catalog.batch("b-1").state == BatchState.CANCELLED
    assert catalog.batch("b-1").finished_at is not None  # a finished state, whichever spelling


def test_ids_build_and_parse_round_trip() -> None:
    key = ids.shot_key("short-film-a1b2c3", "s03")
    assert key == "short-film-a1b2c3/s03"
    take = ids.take_id(key, 2)
    assert take == "short-film-a1b2c3/s03/2"
    assert ids.take_ids(key, 3) == [f"{key}/1", f"{key}/2", f"{key}/3"]
    assert ids.take_ids(key, 2, first=4) == [f"{key}/4", f"{key}/5"]
    ref = ids.parse_take_id(take)
    assert (ref.batch_id, ref.shot_id, ref.number) == ("short-film-a1b2c3", "s03", 2)
    assert ref.id == take and ref.shot_key == key
    assert ids.take_number(take) == 2
    assert ids.shot_id_in(key) == ids.shot_id_in(take) == "s03"
    assert ids.batch_id_in(take) == ids.batch_id_in(key) == ids.batch_id_in("short-film-a1b2c3") == "short-film-a1b2c3"
    assert ids.without_batch(take) == "s03/2" and ids.without_batch(key) == "s03"
    assert ids.is_take_id(take) and not ids.is_take_id(key)


def test_new_batch_ids_are_readable_and_unique() -> None:
    assert ids.new_batch_id("short-film", "a1b2c3") == "short-film-a1b2c3"
    assert ids.new_batch_id("---", "a1b2c3") == "batch-a1b2c3"
    made = {ids.new_batch_id("x") for _ in range(50)}
    assert len(made) == 50 and all(ids.batch_id_in(ids.shot_key(b, "s")) == b for b in made)


@pytest.mark.parametrize(
    ("read", "text_"),
    [
        (ids.parse_take_id, "b/s"),
        (ids.parse_take_id, "b/s/x"),
        (ids.parse_take_id, "b/s/0"),
        (ids.parse_take_id, "b//1"),
        (ids.parse_take_id, "b/s/1/2"),
        (ids.shot_id_in, "/s"),
        (ids.shot_id_in, "b/s/1/2"),
        (ids.take_number, "b/s"),
        (ids.shot_id_in, "b"),
        (ids.without_batch, "b"),
        (ids.batch_id_in, "/s"),
    ],
)
def test_bad_ids_are_one_line_studio_errors(read: object, text_: str) -> None:
    assert callable(read)
    with pytest.raises(ids.BadId) as caught:
        read(text_)
    assert isinstance(caught.value, StudioError)
    message = str(caught.value)
    assert "\n" not in message and repr(text_) in message
    assert caught.value.text == text_


def test_ids_for_log_lines_never_raise() -> None:
    assert ids.ids_from_key("b1/s1/3") == {"batch_id": "b1", "shot_id": "s1", "take_id": "b1/s1/3"}
    assert ids.ids_from_key("b1/s1") == {"batch_id": "b1", "shot_id": "s1"}
    assert ids.ids_from_key(None) == {} and ids.ids_from_key("a/b/c/d") == {}
