"""Workflows call activities through pipelines.activities.interface; workers register StudioActivities.

Both must agree on every name (the names are in saved histories and running batches), and the
activities whose input became a dataclass still take the bare id an older workflow scheduled.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.converter import DataConverter

from pipelines.activities.interface import Activities, declared_activities
from pipelines.activities.stages import StudioActivities
from pipelines.messages import BatchRequest, ShotRequest, batch_id_of, shot_key_of

# The activity names in saved histories (tests/histories): never to change.
NAMES = {
    "storyboard",
    "plan_shot",
    "render",
    "upscale",
    "review",
    "mark_take_failed",
    "add_takes",
    "set_shot_stage",
    "hold_for_budget",
    "shot_stages",
    "record_decision",
    "notify_gate",
    "publish",
    "finish_batch",
    "close_batch",
    "notify_provider_wait",
    "notify_gate_reminder",
    "notify_gate_decided",
    "notify_digest",
}


def definition(fn: Any) -> Any:
    defn = getattr(fn, "__temporal_activity_definition", None)
    assert defn is not None, f"{fn} is not an activity"
    return defn


def declared() -> dict[str, Any]:
    return {name: vars(Activities)[name] for name in declared_activities()}


def test_the_interface_declares_every_name_once_under_its_method_name() -> None:
    methods = declared()
    assert {definition(fn).name for fn in methods.values()} == NAMES
    # Workflow code names a failed stage after its method (ShotWorkflow._stage).
    assert all(definition(fn).name == name for name, fn in methods.items())


def test_the_worker_registers_what_the_interface_declares() -> None:
    registered = StudioActivities.__new__(StudioActivities).all()
    assert sorted(definition(fn).name for fn in registered) == sorted(NAMES)
    for name, fn in declared().items():
        # Implemented, not inherited: the interface's body only raises NotImplementedError.
        assert getattr(StudioActivities, name) is not fn, f"StudioActivities does not implement {name}"
        implemented = definition(getattr(StudioActivities, name))
        assert implemented.name == definition(fn).name
        assert implemented.ret_type == definition(fn).ret_type, name
    with pytest.raises(NotImplementedError, match="declared here"):  # the interface has no bodies
        asyncio.run(Activities().storyboard(BatchRequest("b")))


@pytest.mark.parametrize(
    ("name", "value", "read"),
    [
        ("storyboard", BatchRequest("b1"), batch_id_of),
        ("storyboard", "b1", batch_id_of),
        ("close_batch", "b1", batch_id_of),
        ("finish_batch", BatchRequest("b1"), batch_id_of),
        ("plan_shot", "b1/s1", shot_key_of),
        ("plan_shot", ShotRequest("b1/s1"), shot_key_of),
        ("notify_gate", "b1/s1", shot_key_of),
    ],
)
def test_old_bare_ids_and_new_dataclasses_both_decode(name: str, value: object, read: Any) -> None:
    """An activity scheduled before its input became a dataclass carries the bare id."""
    converter = DataConverter.default.payload_converter
    hint = definition(getattr(StudioActivities, name)).arg_types[0]
    decoded = converter.from_payloads(converter.to_payloads([value]), [hint])[0]
    assert decoded == value
    assert read(decoded) in ("b1", "b1/s1")
