"""Bring a catalog's schema to the newest revision, and say where it stands.

Alembic is configured here, in code (no ``alembic.ini``): the scripts ship inside the package,
and the catalog's own engine is handed to them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from studio.catalog.migrations.lock import schema_lock
from studio.catalog.migrations.revisions import head_revision, known_revisions
from studio.errors import StudioError

if TYPE_CHECKING:
    from alembic.config import Config  # imported when needed: Alembic costs ~80 ms to import

log = logging.getLogger("studio.migrations")

SCRIPTS_DIR = Path(__file__).parent
VERSION_TABLE = "alembic_version"


class SchemaError(StudioError):
    """The catalog's schema cannot be brought up to date by this studio.

    Attributes:
        revision: The revision the catalog is at (None when unknown).
    """

    def __init__(self, message: str, *, revision: str | None = None) -> None:
        super().__init__(message)
        self.revision = revision


@dataclass(frozen=True)
class SchemaState:
    """Where a catalog's schema stands.

    Attributes:
        current: The revision the catalog is at; None for a catalog made before revisions were
            recorded (or an empty database).
        head: The newest revision this studio knows.
        known: Whether this studio knows ``current`` (False: a newer studio upgraded it).
    """

    current: str | None
    head: str
    known: bool

    @property
    def up_to_date(self) -> bool:
        """Whether the catalog is at the newest revision this studio knows."""
        return self.current == self.head


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the catalog's scripts, bound to ``connection`` if given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS_DIR))
    config.set_main_option("path_separator", "os")
    # New revisions are named 0002_what_changed.py, in the order they apply.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def ensure_schema(engine: Engine) -> None:
    """Upgrade the catalog unless it is at the newest revision already.

    The common case (at head) costs one short read and no Alembic import. A catalog that a
    newer studio upgraded is left alone with a warning: revisions only add, so this studio's
    reads and writes still work on it.
    """
    head, known = head_revision(), known_revisions()
    if head is not None and known is not None:
        with engine.connect() as conn:
            stored = _stored(conn)
        if stored == head:
            return
        if stored is not None and stored not in known:
            log.warning("%s", _too_new(stored, head))
            return
    try:
        upgrade(engine)
    except SchemaError as err:
        if err.revision is None:
            raise
        log.warning("%s", err)


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply every revision the catalog lacks, under the schema lock.

    Returns:
        ``(before, after)``: the revision the catalog was at (None: made before revisions were
        recorded, or empty) and the one it is at now.

    Raises:
        SchemaError: The catalog is at a revision this studio does not know.
    """
    from alembic import command

    with schema_lock(engine) as conn:
        before = _stored(conn)
        _check_known(before)
        command.upgrade(alembic_config(conn), "head")
        after = _stored(conn)
    assert after is not None
    if before != after:
        log.info("catalog schema upgraded from %s to %s", before or "(none)", after)
    return before, after


def schema_state(engine: Engine) -> SchemaState:
    """Where the catalog stands, without changing it."""
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None
    with engine.connect() as conn:
        current = _stored(conn)
    try:
        known = current is None or script.get_revision(current) is not None
    except CommandError:
        known = False
    return SchemaState(current=current, head=head, known=known)


def _check_known(revision: str | None) -> None:
    if revision is None:
        return
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    script = ScriptDirectory.from_config(alembic_config())
    try:
        script.get_revision(revision)
    except CommandError:
        raise _too_new(revision, script.get_current_head()) from None


def _too_new(revision: str, head: str | None) -> SchemaError:
    return SchemaError(
        f"the catalog's schema is at revision {revision}, newer than this studio knows "
        f"(its newest is {head}): upgrade the studio",
        revision=revision,
    )


def _stored(conn: Connection) -> str | None:
    """The revision recorded in the catalog, or None when none is."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    revisions = list(conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalars())
    if len(revisions) > 1:
        raise SchemaError(f"the catalog records several schema revisions ({', '.join(sorted(revisions))})")
    return revisions[0] if revisions else None
