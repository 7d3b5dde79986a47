"""Catalog rows for tests that need a batch to exist without rendering one."""

from __future__ import annotations

from studio.catalog.models import Batch, Shot, Take
from studio.catalog.store import Catalog


def add_batch(catalog: Catalog, takes: int, budget: float | None = None, batch_id: str = "b-1") -> list[str]:
    """Write a batch with one shot of ``takes`` takes (and ``budget``, if any); return the take ids."""
    catalog.add_batch(
        Batch(
            id=batch_id,
            project_name="p",
            project_slug="p",
            project_source="p.toml",
            project_key="k",
            seed=1,
            output_dir="/tmp/out",
            budget_usd=budget,
        )
    )
    shot = Shot(
        key=f"{batch_id}/s", batch_id=batch_id, shot_id="s", position=0, prompt="x", width=8, height=8, variants=takes
    )
    rows = [
        Take(id=f"{batch_id}/s/{n}", batch_id=batch_id, shot_key=shot.key, number=n, prompt="x", width=8, height=8)
        for n in range(1, takes + 1)
    ]
    catalog.add_shots(batch_id, [shot], rows)
    return [t.id for t in rows]
