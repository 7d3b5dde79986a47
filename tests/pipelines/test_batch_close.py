"""A batch closes (manifest, contact sheets, the catalog's last word) in a regular activity that may
run for hours while its worker heartbeats: the local activity it was before gave each try 5 minutes,
which the contact sheets of 10,000 upscaled files outlast on every try, so such a batch never closed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from pipelines.client.batches import wait_batch
from pipelines.workflows.batch import CLOSE_TRY
from pipelines.workflows.stage_runs import LONG_STAGE_HEARTBEAT
from tests.support.projects import write_project

PROJECT = '[project]\nname = "Close"\n[defaults]\nsize = "64x64"\n[[shots]]\nid = "a"\nprompt = "a kite"\n'


async def test_a_batch_closes_in_a_heartbeating_activity_with_hours_to_run(
    worker: None, launch, client: Client, tmp_path: Path
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    assert await wait_batch(client, batch_id) == {"published": 1}

    scheduled, local = [], []
    async for event in client.get_workflow_handle(batch_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            if attrs.activity_type.name == "close_batch":
                scheduled.append(attrs)
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_local_activity":  # not a patch marker
                local.append(json.loads(marker.details["data"].payloads[0].data)["activity_type"])
    assert local and "close_batch" not in local  # its other stages still run locally
    (close,) = scheduled
    assert close.heartbeat_timeout.ToTimedelta() == LONG_STAGE_HEARTBEAT == timedelta(minutes=1)
    assert close.start_to_close_timeout.ToTimedelta() == CLOSE_TRY >= timedelta(hours=1)
