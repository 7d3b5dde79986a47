"""What a batch that survived a crash must look like, shared by the crash and worker-kill tests."""

from __future__ import annotations

from pathlib import Path

from studio.batches.publish import CONTACT_SHEET
from studio.catalog.store import Catalog


def project(shots: int) -> str:
    """A project of ``shots`` shots of one 64x64 take each, with no upscale, seeded for the same takes every run."""
    head = '[project]\nname = "Crash test"\nseed = 11\n[defaults]\nsize = "64x64"\nvariants = 1\nupscale = 1\n'
    return head + "".join(f'[[shots]]\nid = "s{i:03}"\nprompt = "scene number {i}"\n' for i in range(shots))


def rendered(catalog: Catalog, batch_id: str) -> int:
    """How many takes of the batch have an image so far."""
    return sum(1 for t in catalog.batch_takes(batch_id) if t.asset_key)


def assert_complete_without_duplicates(catalog: Catalog, batch_id: str, shots: int, in_flight: int) -> None:
    """Every shot published once, and at most ``in_flight`` render calls made again after the crash."""
    takes = catalog.batch_takes(batch_id)
    assert len(takes) == shots and len({t.id for t in takes}) == shots
    assert all(t.asset_key and t.status == "approved" for t in takes)
    pubs = catalog.publications(batch_id)
    assert len(pubs) == shots and len({p.shot_key for p in pubs}) == shots
    finals = [p for p in Path(catalog.batch(batch_id).output_dir).glob("*.png") if p.name != CONTACT_SHEET]
    assert len(finals) == shots
    calls = [a for a in catalog.attempts(batch_id=batch_id) if a.stage == "render"]
    assert len(calls) <= shots + in_flight, f"{len(calls)} render calls for {shots} takes (+{in_flight} in flight)"
    assert sum(1 for a in calls if a.status == "succeeded") == shots
