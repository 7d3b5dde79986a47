"""`studio db upgrade | current`: the catalog's schema, for operators.

Every process upgrades the catalog when it opens it, so neither command is needed to use the
studio; they let an operator upgrade at a chosen moment (before rolling out new workers) and see
where a catalog stands.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from studio.catalog.engine import new_engine
from studio.catalog.migrations import SchemaError, schema_state, upgrade
from studio.settings import load_settings

T = TypeVar("T")
# What a catalog without a recorded revision is.
_NONE = "no revision recorded: empty, or made by an earlier studio"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `studio db` and its subcommands."""
    p = sub.add_parser("db", help="the catalog's schema: upgrade it, or see which revision it is at")
    actions = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = actions.add_parser("upgrade", help="apply the schema revisions the catalog lacks (safe while workers run)")
    up.set_defaults(func=cmd_upgrade)
    current = actions.add_parser("current", help="the catalog's schema revision, and the newest this studio knows")
    current.set_defaults(func=cmd_current)


def cmd_upgrade(_args: argparse.Namespace) -> int:
    """Bring the catalog to the newest revision and say from where."""
    with _catalog_engine() as (engine, where):
        before, after = _reaching(where, lambda: upgrade(engine))
    if before == after:
        print(f"catalog {where}: already at revision {after}, the newest")
    else:
        print(f"catalog {where}: upgraded to revision {after} (from {before or _NONE})")
    return 0


def cmd_current(_args: argparse.Namespace) -> int:
    """Print the catalog's revision and how it compares with this studio's newest."""
    with _catalog_engine() as (engine, where):
        state = _reaching(where, lambda: schema_state(engine))
    if state.up_to_date:
        line = f"revision {state.current} (the newest)"
    elif not state.known:
        line = (
            f"revision {state.current}, newer than this studio knows (its newest is {state.head}): upgrade the studio"
        )
    else:
        line = (
            f"{'revision ' + state.current if state.current else _NONE}; the newest is {state.head}: "
            "run `studio db upgrade` (opening it with the studio does too)"
        )
    print(f"catalog {where}: {line}")
    return 0


@contextmanager
def _catalog_engine() -> Iterator[tuple[Engine, str]]:
    """An engine on the configured catalog (not upgraded by opening it) and its URL, password hidden."""
    url = load_settings().catalog_url
    engine = new_engine(url)
    try:
        yield engine, make_url(url).render_as_string(hide_password=True)
    finally:
        engine.dispose()


def _reaching(where: str, action: Callable[[], T]) -> T:
    """Run ``action``; a database that cannot be reached ends as one line, not a traceback."""
    try:
        return action()
    except DBAPIError as err:
        reason = str(err.orig).strip().splitlines()[0] if err.orig is not None else type(err).__name__
        raise SchemaError(f"cannot reach the catalog at {where}: {reason}") from None
