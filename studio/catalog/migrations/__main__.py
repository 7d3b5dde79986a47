"""`python -m studio.catalog.migrations new "what changed"`: write the next schema revision (developers).

Change the models in ``studio/catalog/models.py`` first. This builds a scratch SQLite catalog at the
newest revision, compares it with the models, and writes ``versions/NNNN_what_changed.py`` with
the operations Alembic found (``--empty`` for a hand-written one, e.g. a data fix). Read and
edit the file before committing it: autogenerate misses renames and server defaults, and a
revision must run on SQLite and Postgres alike.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import create_engine

from studio.catalog.migrations.revisions import VERSIONS_DIR, forget, head_revision
from studio.catalog.migrations.schema import alembic_config, upgrade


def next_revision_id() -> str:
    """The id after the newest: revisions are numbered 0001, 0002, ... in the order they apply."""
    head = head_revision()
    if head is None or not head.isdigit():
        raise SystemExit(f"cannot number the next revision: no single numbered head in {VERSIONS_DIR}")
    return f"{int(head) + 1:04d}"


def new_revision(message: str, *, empty: bool = False) -> Path:
    """Write the next revision file and return its path."""
    from alembic import command

    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'catalog.db'}")
        try:
            upgrade(engine)
            with engine.connect() as conn:
                script = command.revision(
                    alembic_config(conn), message=message, autogenerate=not empty, rev_id=next_revision_id()
                )
        finally:
            engine.dispose()
    forget()  # the file just written is the new head
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and write the revision."""
    parser = argparse.ArgumentParser(prog="python -m studio.catalog.migrations", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    new = sub.add_parser("new", help="write the next revision from the models' changes")
    new.add_argument("message", help='what the revision changes, e.g. "add outage table"')
    new.add_argument("--empty", action="store_true", help="write an empty revision to fill in by hand")
    args = parser.parse_args(argv)
    print(new_revision(args.message, empty=args.empty))
    return 0


if __name__ == "__main__":
    sys.exit(main())
