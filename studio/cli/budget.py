"""`studio budget BATCH [--raise-to USD | --stop]`: see and answer a batch's budget gate."""

from __future__ import annotations

import argparse
import asyncio
import os

from studio.catalog.store import Catalog
from studio.settings import load_settings
from studio.spending.budget import Spend, batch_spend, raise_budget, stop_spending
from studio.spending.money import usd


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the budget subcommand."""
    p = sub.add_parser("budget", help="show a batch's spending; raise its budget or stop spending")
    p.add_argument("batch")
    answer = p.add_mutually_exclusive_group()
    answer.add_argument("--raise-to", type=float, metavar="USD", help="new budget; waiting shots render again")
    answer.add_argument("--stop", action="store_true", help="no more paid calls; waiting takes fail")
    p.add_argument("--who", default=os.environ.get("USER", "creator"), help="who decides (default: $USER)")
    p.set_defaults(func=cmd_budget)


def describe(spend: Spend) -> str:
    """One line: spent, committed, budget, and who waits."""
    cap = usd(spend.budget_usd) if spend.budget_usd is not None else "no budget"
    line = f"spent {usd(spend.spent_usd)} (committed {usd(spend.committed_usd)}) of {cap}"
    if spend.stopped:
        line += "; spending stopped"
    if spend.waiting:
        line += f"; {len(spend.waiting)} shot(s) waiting at the budget: {', '.join(spend.waiting)}"
    return line


def cmd_budget(args: argparse.Namespace) -> int:
    """Show the spend, or change the budget and wake the shots waiting at it."""
    settings = load_settings()
    catalog = Catalog.open(settings.catalog_url)
    before = batch_spend(catalog, args.batch)
    if args.raise_to is None and not args.stop:
        print(describe(before))
        return 0
    after = stop_spending(catalog, args.batch) if args.stop else raise_budget(catalog, args.batch, args.raise_to)
    print(describe(after))
    if after.waiting:
        from pipelines.client.batches import answer_budget
        from pipelines.runtime.connection import connect

        async def _answer() -> list[str]:
            client = await connect(settings)
            return await answer_budget(client, args.batch, after.waiting, go=not args.stop, who=args.who)

        for line in asyncio.run(_answer()):
            print(line)
    return 0
