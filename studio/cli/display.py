"""How the CLI shows batches: live progress bars per stage, and summary tables."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from studio.catalog import Catalog
from studio.status import TERMINAL_STATES, batch_summary, shots_waiting

console = Console()
STAGES = ("storyboard", "render", "upscale", "review", "publish")


async def watch_batch(catalog: Catalog, batch_id: str, every: float = 0.5) -> dict[str, Any]:
    """Show a progress bar per stage until the batch ends; returns its final summary."""
    hinted: set[str] = set()
    with Progress(
        TextColumn("{task.description:<11}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[extra]}"),
        TimeElapsedColumn(), console=console,
    ) as progress:
        bars = {stage: progress.add_task(stage, total=None, extra="") for stage in STAGES}
        while True:
            summary = await asyncio.to_thread(batch_summary, catalog, batch_id)
            for stage in STAGES:
                counts = summary["stages"][stage]
                extra = ""
                if counts.get("failed"):
                    extra = f"[red]{counts['failed']} failed"
                elif stage == "review" and counts["done"]:
                    extra = f"{counts['done'] - counts['passed']} flagged" if counts["done"] > counts["passed"] else ""
                progress.update(bars[stage], completed=counts["done"], total=counts["total"] or None, extra=extra)
            waiting = [s for s in await asyncio.to_thread(shots_waiting, catalog, batch_id) if s not in hinted]
            for shot in waiting:
                progress.console.print(
                    f"[yellow]{shot} waits for approval:[/] studio approve {batch_id} {shot} --take N   "
                    f"(or studio reject {batch_id} {shot})"
                )
                hinted.add(shot)
            if summary["state"] in TERMINAL_STATES:
                return summary
            await asyncio.sleep(every)


def print_batch(summary: dict[str, Any]) -> None:
    """One batch in detail."""
    console.print(f"[bold]{summary['batch']}[/] — {summary['project']} — {summary['state']}")
    table = Table()
    for column in ("stage", "done", "of", "notes"):
        table.add_column(column)
    for stage in STAGES:
        counts = summary["stages"][stage]
        notes = []
        if counts.get("failed"):
            notes.append(f"{counts['failed']} failed")
        if stage == "review":
            notes.append(f"{counts['passed']} passed")
        table.add_row(stage, str(counts["done"]), str(counts["total"]), ", ".join(notes))
    approval = summary["stages"]["approval"]
    if approval["required"]:
        table.add_row(
            "approval", str(approval["approved"] + approval["rejected"]), "",
            f"{approval['waiting']} waiting, {approval['approved']} approved, {approval['rejected']} rejected",
        )
    console.print(table)
    calls = summary["provider_calls"]
    per = "; ".join(
        f"{name}: " + ", ".join(f"{n} {status}" for status, n in sorted(c.items()))
        for name, c in calls["by_provider"].items()
    )
    console.print(f"provider calls: {calls['total']}" + (f" ({per})" if per else ""))
    console.print(f"output: {summary['output_dir']}")
    if summary.get("error"):
        console.print(f"[red]error: {summary['error']}")


def print_batches(rows: list[dict[str, Any]]) -> None:
    """Every batch, newest first."""
    if not rows:
        console.print("no batches yet: launch one with `studio run sample_projects/short-film`")
        return
    table = Table()
    for column in ("batch", "project", "state", "published", "waiting", "failed", "created"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["batch"], r["project"], r["state"], f"{r['published']}/{r['shots']}",
            str(r["waiting"]), str(r["failed"]), (r["created_at"] or "")[:19],
        )
    console.print(table)
