"""`studio share BATCH`: print a signed link a client opens to review one batch."""

from __future__ import annotations

import argparse

from studio.catalog.store import Catalog
from studio.cli.stack import read_stack
from studio.review.sharing import DEFAULT_HOURS, share_url
from studio.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the share subcommand."""
    p = sub.add_parser("share", help="print a signed client-review link for a batch")
    p.add_argument("batch", help="a batch id")
    p.add_argument(
        "--hours", type=float, default=DEFAULT_HOURS, help=f"how long the link works (default {DEFAULT_HOURS})"
    )
    p.set_defaults(func=cmd_share)


def cmd_share(args: argparse.Namespace) -> int:
    """Print the client link for a batch (the batch must exist)."""
    from studio.errors import StudioError

    if not 0 < args.hours <= 24 * 365:
        raise StudioError(f"--hours must be between 0 and {24 * 365} (got {args.hours:g})")
    settings = load_settings()
    running = read_stack(settings)
    if running and running.get("dashboard_url") and not settings.public_url:
        # Link to the dashboard that is actually serving, whatever this shell's environment says.
        settings.public_url = running["dashboard_url"]
    batch = Catalog.open(settings.catalog_url).batch(args.batch)  # a clear "no batch" before signing
    print(share_url(settings, batch.id, hours=args.hours))
    return 0
