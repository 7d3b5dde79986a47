"""`studio show / find / unpublish / cancel`: a take's lineage, searching takes, taking a batch down."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from studio.batches.lineage import (
    Lineage,
    LineageNode,
    credentials_text,
    find_takes,
    lineage_json,
    take_lineage,
    take_summary,
)
from studio.batches.publish import unpublish_batch
from studio.catalog.models import Pin, Take
from studio.catalog.store import Catalog
from studio.cli.display import console
from studio.cli.tables import Column, fitted_table
from studio.errors import StudioError
from studio.settings import load_settings
from studio.spending.money import usd
from studio.storage import AssetStore, AssetStoreError, open_asset_store
from studio.views.lineage import cache_text, edit_text, pin_json, pin_line

if TYPE_CHECKING:
    from pipelines.client.batches import BatchCancellation

PROMPT_EXCERPT = 60


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the lineage, search, unpublish and cancel subcommands."""
    p = sub.add_parser("show", help="a take's recipe, the takes it came from and the takes made from it")
    p.add_argument("take", help="a take id: BATCH/SHOT/N")
    p.add_argument("--json", action="store_true", help="machine-readable output (stable keys)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("find", help="search takes (newest first; no filter: the newest takes)")
    p.add_argument(
        "--prompt",
        help="words in the prompt: each word must begin a word of it, in any order, case-insensitive "
        "('light dusk' finds 'a lighthouse at dusk'); a word with punctuation (100%%) must appear as written",
    )
    p.add_argument("--seed", type=int, help="the seed used or planned")
    p.add_argument("--provider", help="the provider that rendered it (local, mistral, gemini...)")
    p.add_argument("--approved", action="store_true", help="only takes approved or published")
    p.add_argument("--batch", help="only this batch's takes")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.add_argument("--json", action="store_true", help="machine-readable output (stable keys)")
    p.set_defaults(func=cmd_find)

    p = sub.add_parser("unpublish", help="remove what a batch published (files, manifest, contact sheet)")
    p.add_argument("batch")
    p.set_defaults(func=cmd_unpublish)

    p = sub.add_parser("cancel", help="cancel a batch and its shots; removes what it published")
    p.add_argument("batch")
    p.add_argument("--keep-published", action="store_true", help="leave the files it already published")
    p.set_defaults(func=cmd_cancel)


def _catalog() -> Catalog:
    return Catalog.open(load_settings().catalog_url)


# -- show ------------------------------------------------------------------------------------


def cmd_show(args: argparse.Namespace) -> int:
    """Print a take's recipe, parent chain and children, and whether its original is signed."""
    settings = load_settings()
    catalog = Catalog.open(settings.catalog_url)
    try:
        assets: AssetStore | None = open_asset_store(settings)
    except AssetStoreError as err:
        console.print(f"[yellow]credentials not checked: {escape(str(err))}[/]")
        assets = None  # the lineage is in the catalog and still worth showing
    lineage = take_lineage(catalog, args.take, assets=assets)
    pins = catalog.pins(take_ids=[lineage.take.id])  # the notes a client placed on this take
    if args.json:
        print(json.dumps({**lineage_json(lineage), "pins": [pin_json(pin) for pin in pins]}, indent=2))
    else:
        print_lineage(lineage, pins)
    return 0


def seed_text(take: Take) -> str:
    """The seed as a user should read it: the number, or why there is none to replay with."""
    if take.seed_used is not None:
        return str(take.seed_used) + (
            " (not reproducible: the vendor does not promise it)" if take.reproducible is False else ""
        )
    if take.provider is None:
        return f"{take.seed} (planned; not rendered yet)" if take.seed is not None else "none yet"
    return "not reproducible"


def _line(take: Take) -> str:
    seed = take.seed_used if take.seed_used is not None else take.seed
    parts = [
        f"[bold]{escape(take.id)}[/]",
        take.status,
        take.provider or "not rendered",
        f"seed {seed}" if seed is not None else "no seed",
    ]
    return " · ".join(parts) + f"  [dim]{escape(_excerpt(take.prompt))}[/]"


def recipe_lines(lineage: Lineage) -> list[tuple[str, str]]:
    """The take's recipe as ``(field, value)`` rows, in the order ``studio show`` prints them."""
    take = lineage.take
    rows: list[tuple[str, str]] = [
        ("provider", " · ".join(filter(None, [take.provider, take.model])) or "not rendered yet"),
        ("seed", seed_text(take)),
        ("prompt", take.prompt),
    ]
    if take.negative:
        rows.append(("negative", take.negative))
    if take.revised_prompt:
        rows.append(("revised prompt", take.revised_prompt))
    if take.cached_from:
        rows.append(("render", cache_text(take.cached_from)))
    rows += [
        ("size", f"{take.width}x{take.height}"),
        ("params", json.dumps(take.params, sort_keys=True) if take.params else "none"),
    ]
    if take.init_key:
        rows.append(("image-to-image", f"from {take.init_key} at strength {take.strength}"))
    edit = edit_text(take)
    if edit:
        rows.append(("edit", edit))
    if take.mask_key:
        rows.append(("mask", take.mask_key))
    if take.review_score is not None:
        verdict = "passed" if take.review_passed else "flagged"
        notes = f" — {take.review_notes}" if take.review_notes else ""
        rows.append(("review", f"{take.review_score:.2f} {verdict} ({take.review_model or 'reviewer'}){notes}"))
    rows.append(("cost", usd(take.cost_usd)))
    if take.error:
        rows.append(("error", take.error))
    rows += [("render key", take.asset_key or "none"), ("final key", take.final_key or "none")]
    credentials = credentials_text(lineage)
    if credentials:
        rows.append(("credentials", credentials))
    return rows + [("published", path) for path in lineage.published]


def print_lineage(lineage: Lineage, pins: Sequence[Pin] = ()) -> None:
    """The recipe, the pins placed on the take, the parent chain (nearest first), the children as a tree."""
    take = lineage.take
    console.print(f"[bold]{escape(take.id)}[/] — {take.status} (batch {escape(take.batch_id)}, round {take.round})")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in recipe_lines(lineage):
        grid.add_row(name, escape(value))
    console.print(grid)
    if pins:
        console.print(f"\n[bold]pins[/] ({len(pins)} placed on this take)")
        for pin in pins:
            console.print(f"  {escape(pin_line(pin))}")

    if lineage.parents or lineage.missing_parent or lineage.cycle_at:
        console.print(f"\n[bold]made from[/] ({len(lineage.parents)} in this catalog)")
        for parent in lineage.parents:
            console.print(f"  ↑ {_line(parent)}")
        if lineage.missing_parent:
            console.print(f"  ↑ {escape(lineage.missing_parent)} [yellow]not in this catalog[/]")
        if lineage.cycle_at:
            console.print(f"  ↑ {escape(lineage.cycle_at)} [red]again: the parent links loop; stopped here[/]")
    else:
        console.print("\n[bold]made from[/] its prompt (no parent take)")

    if not lineage.children:
        console.print("[bold]made from it[/]: nothing yet (`studio replay` makes more like it)")
        return
    tree = Tree(f"[bold]made from it[/] ({len(lineage.children)} direct, {lineage.descendants} in all)")
    _grow(tree, lineage.children)
    console.print(tree)
    if lineage.truncated:
        console.print("[yellow]… more descendants exist; `studio find` or `studio show CHILD` shows them")


def _grow(tree: Tree, nodes: tuple[LineageNode, ...]) -> None:
    for node in nodes:
        _grow(tree.add(_line(node.take)), node.children)


# -- find ------------------------------------------------------------------------------------


def cmd_find(args: argparse.Namespace) -> int:
    """Print the takes matching every filter given."""
    if args.limit < 1:
        raise StudioError(f"--limit must be at least 1 (got {args.limit})")
    takes = find_takes(
        _catalog(),
        prompt=args.prompt,
        seed=args.seed,
        provider=args.provider,
        approved=args.approved,
        batch=args.batch,
        limit=args.limit,
    )
    if args.json:
        print(json.dumps([take_summary(t) for t in takes], indent=2))
    else:
        print_found(takes, args.limit)
    return 0


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PROMPT_EXCERPT else flat[: PROMPT_EXCERPT - 1] + "…"


FOUND_COLUMNS = (
    Column("take", "id"),
    Column("provider"),
    Column("seed", justify="right"),
    Column("score", justify="right"),
    Column("status"),
    Column("prompt", "prose"),
)


def _found_in_words(row: Sequence[str]) -> str:
    _, provider, seed, score, status, prompt = row
    parts = [status, provider, f"seed {seed}" if seed else "", f"score {score}" if score else "", prompt]
    return " · ".join(part for part in parts if part)


def print_found(takes: list[Take], limit: int) -> None:
    """A table of takes: id, provider, seed, review score, status, prompt excerpt."""
    if not takes:
        console.print("no takes match")
        return
    rows = []
    for t in takes:
        row = take_summary(t)
        score = f"{row['review_score']:.2f}" if row["review_score"] is not None else ""
        rows.append(
            [
                t.id,
                t.provider or "",
                "" if row["seed"] is None else str(row["seed"]),
                score,
                t.status,
                _excerpt(t.prompt),
            ]
        )
    # Take ids stay whole, to copy into `studio show`; the prompt is what a narrow terminal cuts.
    console.print(fitted_table(FOUND_COLUMNS, rows, width=console.width, compact=_found_in_words))
    if len(takes) == limit:
        console.print(f"showing the newest {limit}; --limit N shows more")


# -- unpublish and cancel ----------------------------------------------------------------------


def cmd_unpublish(args: argparse.Namespace) -> int:
    """Remove a batch's published files, manifest and contact sheet, and record it."""
    catalog = _catalog()
    _unpublish(catalog, catalog.batch(args.batch).id)
    return 0


def _unpublish(catalog: Catalog, batch_id: str) -> None:
    live = catalog.publications(batch_id)
    removed = unpublish_batch(catalog, batch_id)
    if not live and not removed:
        print(f"batch {batch_id} has nothing published")
        return
    for path in removed:
        print(f"removed {path}")
    print(f"recorded: {len(live)} published file(s) of {batch_id} marked unpublished")


def cmd_cancel(args: argparse.Namespace) -> int:
    """Cancel a batch's workflows, record it cancelled and (unless --keep-published) unpublish it."""
    from pipelines.client.batches import cancel_batch
    from pipelines.runtime.connection import connect

    settings = load_settings()
    catalog = Catalog.open(settings.catalog_url)
    catalog.batch(args.batch)  # a clear "no batch" before asking Temporal

    async def _go() -> BatchCancellation:
        client = await connect(settings)
        return await cancel_batch(client, catalog, args.batch)

    report = asyncio.run(_go())
    workflow = "its workflow cancelled" if report.batch_workflow_cancelled else "its workflow was not running"
    print(f"batch {args.batch} cancelled ({workflow})")
    if report.shots_cancelled:
        print(f"shots stopped: {', '.join(report.shots_cancelled)}")
    if report.shots_marked:
        print(f"shots marked cancelled: {', '.join(report.shots_marked)}")
    for workflow_id in report.still_running:
        print(f"warning: {workflow_id} had not stopped yet; it was asked to and will", flush=True)
    if args.keep_published:
        kept = len(catalog.publications(args.batch))
        print(f"kept {kept} published file(s) (--keep-published)" if kept else "nothing was published")
    else:
        _unpublish(catalog, args.batch)
    return 0
