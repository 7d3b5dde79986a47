"""The approval gate: a human approves, rejects or asks for changes; invalid answers are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.client.batches import GateRefused, decide, gate_state, wait_batch
from pipelines.messages import Decision
from studio.catalog.store import Catalog
from studio.views.status import batch_summary
from tests.pipelines.waiting import eventually
from tests.support.projects import write_project

PROJECT = """
[project]
name = "Gate test"
seed = 7
[defaults]
size = "64x64"
variants = 3
upscale = 1
[approval]
required = true
[[shots]]
id = "a"
prompt = "a red lighthouse at dusk"
[[shots]]
id = "b"
prompt = "a green forest at noon"
[[shots]]
id = "c"
prompt = "a city skyline at night"
"""


def stages(catalog: Catalog, batch_id: str) -> dict[str, str]:
    return {s.shot_id: s.stage for s in catalog.shots(batch_id)}


async def test_gate_accepts_valid_answers_and_refuses_invalid_ones(
    worker: None, launch, client: Client, catalog: Catalog, tmp_path: Path
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    await eventually(
        lambda: set(stages(catalog, batch_id).values()) == {"awaiting_approval"}, what="all three gates to open"
    )
    assert batch_summary(catalog, batch_id).state == "waiting"
    state = await gate_state(client, batch_id, "a")
    assert state.open and state.takes == [1, 2, 3]

    # Refusals come back with a reason and change nothing.
    with pytest.raises(GateRefused, match="no take 9"):
        await decide(client, batch_id, "a", Decision("approve", 9))
    with pytest.raises(GateRefused, match="unknown action"):
        await decide(client, batch_id, "a", Decision("publish-now", 1))
    with pytest.raises(GateRefused, match=r"no shot .*zzz in this batch"):
        await decide(client, batch_id, "zzz", Decision("approve", 1))
    assert catalog.approvals(batch_id=batch_id) == []

    assert "approved take 2" in await decide(client, batch_id, "a", Decision("approve", 2, who="ana", note="lovely"))
    with pytest.raises(GateRefused, match="already decided"):
        await decide(client, batch_id, "a", Decision("approve", 1))
    await decide(client, batch_id, "b", Decision("reject", who="ana", note="wrong mood"))

    # Changes: the note joins the prompt, three new takes render, and the gate opens again.
    await decide(client, batch_id, "c", Decision("changes", who="client", note="with fireworks"))
    await eventually(lambda: len(catalog.takes(f"{batch_id}/c")) == 6, what="a second round of takes")
    await eventually(
        lambda: (
            stages(catalog, batch_id)["c"] == "awaiting_approval"
            and all(t.review_score is not None for t in catalog.takes(f"{batch_id}/c"))
        ),
        what="gate c to reopen",
    )
    second = catalog.takes(f"{batch_id}/c")[3:]
    assert all(t.round == 2 and t.prompt.endswith("with fireworks") for t in second)
    assert {t.seed for t in second}.isdisjoint({t.seed for t in catalog.takes(f"{batch_id}/c")[:3]})
    await decide(client, batch_id, "c", Decision("approve", 5))

    assert await wait_batch(client, batch_id) == {"published": 2, "rejected": 1}
    pubs = {p.shot_key.rsplit("/", 1)[1]: p.take_id for p in catalog.publications(batch_id)}
    assert pubs == {"a": f"{batch_id}/a/2", "c": f"{batch_id}/c/5"}
    decisions = [
        (a.shot_key.rsplit("/", 1)[1], a.decision, a.round, a.who, a.note) for a in catalog.approvals(batch_id=batch_id)
    ]
    assert sorted(decisions) == [
        ("a", "approve", 1, "ana", "lovely"),
        ("b", "reject", 1, "ana", "wrong mood"),
        ("c", "approve", 2, "creator", ""),
        ("c", "changes", 1, "client", "with fireworks"),
    ]
    assert stages(catalog, batch_id) == {"a": "published", "b": "rejected", "c": "published"}
