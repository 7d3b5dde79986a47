"""How the CLI shows batches: live progress bars per stage, and summary tables."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from studio.catalog.store import Catalog
from studio.cli.tables import Column, excerpt, fitted_table
from studio.ids import without_batch
from studio.outages.notes import catalog_outage
from studio.spending.money import usd
from studio.states import BatchState
from studio.views.batches import waiting_text
from studio.views.cache_savings import cache_line
from studio.views.eta import batch_eta, eta_short
from studio.views.progress import progress_digest, take_progress_line
from studio.views.status import TERMINAL_STATES, batch_summary, shots_waiting
from studio.views.summary import BatchOverview, BatchSummary, CostSummary
from studio.views.take_row import TakeRow

console = Console()
STAGES = ("storyboard", "render", "upscale", "review", "publish")
SKIPPED = "skipped (no shot upscales)"  # the dashboard says the same


def stage_skipped(summary: BatchSummary, stage: str) -> bool:
    """Whether a stage has nothing to do in this batch: no shot asks for it (``upscale = 1``)."""
    return summary.stages.progress(stage).skipped


def _update_bars(progress: Progress, bars: dict[str, TaskID], summary: BatchSummary) -> None:
    for stage in STAGES:
        counts = summary.stages.progress(stage)
        if counts.skipped:  # a bar that fills by itself would claim work done
            progress.update(bars[stage], visible=False)
            continue
        extra = ""
        if counts.failed:
            extra = f"[red]{counts.failed} failed[/]"
        elif stage == "review" and counts.done and counts.passed is not None:
            extra = f"{counts.done - counts.passed} flagged" if counts.done > counts.passed else ""
        if stage == "render" and summary.progress:  # self-hosted nodes' queues and sampler steps
            extra = " · ".join(part for part in (extra, escape(progress_digest(summary.progress))) if part)
        progress.update(bars[stage], completed=counts.done, total=counts.total or None, extra=extra)


def _announce(console: Console, summary: BatchSummary, hinted: set[str]) -> None:
    """Say once what needs the creator: the budget gate, outages, configuration refusals."""
    batch_id, cost = summary.batch_id, summary.cost
    if cost.waiting_at_budget and ":budget" not in hinted:
        console.print(
            f"[yellow]the batch reached its budget ({usd(cost.budget_usd or 0.0)}); "
            f"{len(cost.waiting_at_budget)} shot(s) wait:[/] studio budget {batch_id} --raise-to USD   "
            f"(or studio budget {batch_id} --stop)"
        )
        hinted.add(":budget")
    elif not cost.waiting_at_budget:
        hinted.discard(":budget")
    for wait in summary.waiting_for:
        key = f"wait:{wait.what}"
        if key not in hinted:
            console.print(f"[yellow]{waiting_text(wait)}")
            hinted.add(key)
    hinted -= {k for k in hinted if k.startswith("wait:")} - {f"wait:{w.what}" for w in summary.waiting_for}
    for alert in summary.alerts:
        key = f"alert:{alert.provider}:{alert.error_class}"
        if key not in hinted:
            console.print(f"[bold red]{alert.provider}: {alert.message}[/] ({alert.last_error})")
            hinted.add(key)


async def watch_batch(catalog: Catalog, batch_id: str, every: float = 0.5) -> BatchSummary:
    """Show a progress bar per stage until the batch ends; returns its final summary."""
    hinted: set[str] = set()
    with Progress(
        TextColumn("{task.description:<11}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[extra]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bars = {stage: progress.add_task(stage, total=None, extra="") for stage in STAGES}
        while True:
            try:
                summary = await asyncio.to_thread(batch_summary, catalog, batch_id)
            except Exception as err:
                line = catalog_outage(err)
                if line is None:
                    raise
                if ":catalog" not in hinted:  # once per outage, and on with the bars when it ends
                    progress.console.print(f"[yellow]{line}[/] (the batch goes on; it waits too)")
                    hinted.add(":catalog")
                await asyncio.sleep(max(every, 2.0))
                continue
            hinted.discard(":catalog")
            _update_bars(progress, bars, summary)
            if summary.state not in TERMINAL_STATES:  # when the batch should end, on its last bar
                eta = await asyncio.to_thread(batch_eta, catalog, batch_id)
                paused = summary.state == BatchState.PAUSED
                progress.update(bars["publish"], extra=escape(eta_short(eta, paused=paused)))
            _announce(progress.console, summary, hinted)
            waiting = [s for s in await asyncio.to_thread(shots_waiting, catalog, batch_id) if s not in hinted]
            for shot in waiting:
                progress.console.print(
                    f"[yellow]{shot} waits for approval:[/] studio approve {batch_id} {shot} --take N   "
                    f"(or studio reject {batch_id} {shot})"
                )
                hinted.add(shot)
            if summary.state in TERMINAL_STATES:
                return summary
            await asyncio.sleep(every)


async def follow_batch(catalog: Catalog, batch_id: str, *, detach: bool, heading: str) -> int:
    """After a batch was started: print its id and return (``detach``), or print ``heading``,
    watch it to its end and show it. Returns the command's exit code (0 once published)."""
    if detach:
        print(batch_id)
        return 0
    print(heading)
    summary = await watch_batch(catalog, batch_id)
    print_batch(summary)
    return 0 if summary.state == BatchState.PUBLISHED else 1


def _stage_table(summary: BatchSummary) -> Table:
    table = Table()
    for column in ("stage", "done", "of", "notes"):
        table.add_column(column)
    for stage in STAGES:
        counts = summary.stages.progress(stage)
        notes = []
        if counts.failed:
            notes.append(f"{counts.failed} failed")
        if counts.passed is not None:
            notes.append(f"{counts.passed} passed")
        if counts.skipped:
            table.add_row(stage, "—", "—", SKIPPED)
            continue
        table.add_row(stage, str(counts.done), str(counts.total), ", ".join(notes))
    approval = summary.stages.approval
    if approval.required:
        table.add_row(
            "approval",
            str(approval.approved + approval.rejected),
            "",
            f"{approval.waiting} waiting, {approval.approved} approved, {approval.rejected} rejected",
        )
    return table


def print_batch(summary: BatchSummary) -> None:
    """One batch in detail."""
    console.print(f"[bold]{summary.batch_id}[/] — {summary.project} — {summary.state}")
    console.print(_stage_table(summary))
    calls = summary.provider_calls
    per = "; ".join(
        f"{name}: " + ", ".join(f"{n} {status}" for status, n in sorted(c.items()))
        for name, c in calls.by_provider.items()
    )
    console.print(f"provider calls: {calls.total}" + (f" ({per})" if per else ""))
    print_cost(summary.cost)
    if cached := cache_line(summary.cache):
        console.print(cached, markup=False, highlight=False)
    for name, circuit in summary.providers.items():
        if circuit.is_open:
            console.print(f"[yellow]{name}: circuit open until {circuit.until} (skipped after repeated failures)")
    for wait in summary.waiting_for:
        console.print(f"[yellow]{waiting_text(wait)}")
    for alert in summary.alerts:
        console.print(
            f"[bold red]{alert.provider}: {alert.message}[/] — {alert.calls} call(s), last: {alert.last_error}"
        )
    for item in summary.progress:
        console.print(take_progress_line(item), markup=False, highlight=False)
    print_takes(summary.take_details)
    console.print(f"output: {summary.output_dir}")
    if summary.error:
        console.print(f"[red]error: {summary.error}")


def print_cost(cost: CostSummary) -> None:
    """Spend against the budget, per provider."""
    per = ", ".join(f"{name} {usd(amount)}" for name, amount in cost.by_provider.items())
    cap = f" of {usd(cost.budget_usd)} budget" if cost.budget_usd is not None else ""
    console.print(f"cost: {usd(cost.spent_usd)}{cap}" + (f" ({per})" if per else ""))
    if cost.spending_stopped:
        console.print("[yellow]spending was stopped at the budget")
    if cost.waiting_at_budget:
        console.print(
            f"[yellow]{len(cost.waiting_at_budget)} shot(s) wait at the budget: {', '.join(cost.waiting_at_budget)}"
        )


# Review notes and errors in the takes table: enough to see what is wrong (`studio show` has all).
NOTES_EXCERPT = 80
TAKE_COLUMNS = (
    Column("take", "id"),
    Column("status"),
    Column("provider"),
    Column("seed", justify="right"),
    Column("cost", justify="right"),
    Column("review", "prose"),
)


def print_takes(takes: Sequence[TakeRow], limit: int = 40) -> None:
    """A table of takes: provider, seed, review score and notes, cost (the first ``limit``)."""
    if not takes:
        return
    rows = []
    for t in takes[:limit]:
        review = ""
        if t.review_score is not None:
            review = f"{t.review_score:.2f}" + ("" if t.review_passed else " ✗")
        notes = excerpt(t.review_notes or t.error or "", NOTES_EXCERPT)
        rows.append(
            [
                without_batch(t.take_id),
                t.status,
                t.provider or "",
                str(t.seed if t.seed is not None else ""),
                usd(t.cost_usd),
                f"{review} {notes}".strip(),
            ]
        )
    console.print(fitted_table(TAKE_COLUMNS, rows, width=console.width, title="takes"))
    if len(takes) > limit:
        console.print(f"… and {len(takes) - limit} more takes (`studio status BATCH --json` lists them all)")


BATCH_COLUMNS = (
    Column("batch", "id"),
    Column("project", "prose"),
    Column("state"),
    Column("published", justify="right"),
    Column("waiting", justify="right"),
    Column("failed", justify="right"),
    Column("created"),
)


def _batch_in_words(row: Sequence[str]) -> str:
    _, project, state, published, waiting, failed, created = row
    parts = [project, state, f"{published} shots published"]
    parts += [f"{waiting} waiting"] if waiting != "0" else []
    parts += [f"{failed} failed"] if failed != "0" else []
    return " · ".join([*parts, f"created {created}"])


def print_batches(rows: Sequence[BatchOverview]) -> None:
    """Every batch, newest first."""
    if not rows:
        console.print("no batches yet: launch one with `studio run sample_projects/short-film`")
        return
    cells = [
        [
            r.batch_id,
            r.project,
            r.state,
            f"{r.published}/{r.shots}",
            str(r.waiting),
            str(r.failed),
            (r.created_at or "")[:16].replace("T", " "),
        ]
        for r in rows
    ]
    console.print(fitted_table(BATCH_COLUMNS, cells, width=console.width, compact=_batch_in_words))
