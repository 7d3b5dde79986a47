"""`studio share`: hand a client a signed link to review one batch, list the links handed out, revoke one.

studio share BATCH [--hours H] [--label TEXT]   record a link and print its URL
studio share --list [BATCH] [--json]            every link (or one batch's): id, state, expiry, last use
studio share --revoke LINK_ID                   stop one link from working
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import datetime

from studio.catalog.store import Catalog
from studio.cli import display
from studio.cli.stack import read_stack
from studio.cli.tables import Column, fitted_table
from studio.errors import NotFound, StudioError
from studio.review.links import LinkView, issue_link, links_of, revoke_link
from studio.review.sharing import DEFAULT_HOURS
from studio.settings import load_settings

MAX_HOURS = 24 * 365
LINK_COLUMNS = (
    Column("link", "id"),
    Column("batch", "id"),
    Column("state"),
    Column("expires (UTC)"),
    Column("last used"),
    Column("label", "prose"),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the share subcommand."""
    p = sub.add_parser(
        "share",
        help="print a signed client-review link for a batch (--list the links handed out, --revoke one)",
    )
    p.add_argument("batch", nargs="?", help="a batch id (with --list: only that batch's links)")
    p.add_argument(
        "--hours", type=float, default=DEFAULT_HOURS, help=f"how long the link works (default {DEFAULT_HOURS})"
    )
    p.add_argument("--label", default="", help="a note for your list of links, e.g. who you sent it to")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="list the links handed out (id, state, expiry, last use)")
    what.add_argument("--revoke", metavar="LINK_ID", help="stop the link LINK_ID from working")
    p.add_argument("--json", action="store_true", help="with --list: machine-readable output (stable keys)")
    p.set_defaults(func=cmd_share)


def cmd_share(args: argparse.Namespace) -> int:
    """Print a new client link for a batch (the batch must exist), list links, or revoke one."""
    settings = load_settings()
    catalog = Catalog.open(settings.catalog_url)
    if args.revoke is not None:
        if args.batch is not None:
            raise StudioError("studio share --revoke takes a link id only, not a batch")
        return _revoke(catalog, args.revoke)
    if args.list:
        return _list(catalog, args.batch, as_json=args.json)
    if args.batch is None:
        raise StudioError("studio share needs a batch id (or --list, or --revoke LINK_ID)")
    if not 0 < args.hours <= MAX_HOURS:
        raise StudioError(f"--hours must be between 0 and {MAX_HOURS} (got {args.hours:g})")
    running = read_stack(settings)
    if running and running.get("dashboard_url") and not settings.public_url:
        # Link to the dashboard that is actually serving, whatever this shell's environment says.
        settings.public_url = running["dashboard_url"]
    batch = catalog.batch(args.batch)  # a clear "no batch" before signing
    print(issue_link(settings, catalog, batch.id, hours=args.hours, label=args.label).url)
    return 0


def _revoke(catalog: Catalog, link_id: str) -> int:
    try:
        link = revoke_link(catalog, link_id)
    except NotFound:
        raise StudioError(f"no link {link_id!r} (`studio share --list` shows the links handed out)") from None
    print(f"revoked link {link.id} for batch {link.batch_id}: it no longer opens anything")
    return 0


def _list(catalog: Catalog, batch_id: str | None, *, as_json: bool) -> int:
    if batch_id is not None:
        catalog.batch(batch_id)  # "no batch 'x'" rather than an empty list for a typo
    links = links_of(catalog, batch_id)
    if as_json:
        print(json.dumps([link.to_json() for link in links], indent=2))
    elif not links:
        print("no links handed out yet" + (f" for {batch_id}" if batch_id else "") + ": `studio share BATCH` makes one")
    else:
        console = display.console
        cells = [_cells(link) for link in links]
        console.print(fitted_table(LINK_COLUMNS, cells, width=console.width, compact=_link_in_words))
    return 0


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "never"


def _cells(link: LinkView) -> list[str]:
    return [link.link_id, link.batch_id, link.state.value, _when(link.expires_at), _when(link.last_used_at), link.label]


def _link_in_words(cells: Sequence[str]) -> str:
    _, _, state, expires, used, label = cells
    used_text = "never used" if used == "never" else f"last used {used}"
    return " · ".join([state, f"expires {expires} UTC", used_text, *([label] if label else [])])
