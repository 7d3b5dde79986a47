"""Full-text search of take prompts: `studio find --prompt TEXT` on the index of revision 0007.

What matches: every whitespace-separated term of TEXT, case-insensitive, in any order, each at
the start of a word of the prompt ("light" finds "lighthouse", not "twilight"); a term with
punctuation in it ("100%", "storm_front") must also appear as written. SQLite answers from an FTS5
table over the take table (``take_fts``), Postgres from a GIN index on
``to_tsvector('simple', prompt)``; both tokenize on anything but letters and digits, so the
index finds the candidates and a LIKE on those few rows keeps each term's punctuation exact.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, select, text
from sqlmodel import col

from studio.catalog.models import Take

# The objects revision 0007 writes by hand, outside the models (see include_name).
FTS_TABLE = "take_fts"
POSTGRES_INDEX = "ix_take_prompt_fts"
_WORD = re.compile(r"[^\W_]+")


def prompt_words(text_: str) -> list[str]:
    """The words the index is searched for: runs of letters and digits, lowercased, once each."""
    return list(dict.fromkeys(word.lower() for word in _WORD.findall(text_)))


def _fts5_query(words: list[str]) -> str:
    # Words hold only letters and digits, so quoting them cannot break out of the string.
    return " AND ".join(f'"{word}"*' for word in words)


def _tsquery(words: list[str]) -> str:
    return " & ".join(f"'{word}':*" for word in words)


def prompt_matches(prompt: str, dialect: str) -> ColumnElement[bool]:
    """A WHERE clause on ``take`` for the takes whose prompt matches ``prompt`` (see the module).

    Args:
        prompt: What the user typed after ``--prompt``.
        dialect: The catalog's SQLAlchemy dialect name (``sqlite``, ``postgresql``).
    """
    terms = [col(Take.prompt).icontains(term, autoescape=True) for term in prompt.split()]
    words = prompt_words(prompt)
    if not words:  # nothing an index holds ("%%"): the terms alone, by a scan
        return and_(*terms)
    if dialect == "sqlite":
        hits: Select[tuple[Any]] = (
            select(literal_column("rowid")).select_from(text(FTS_TABLE)).where(text(f"{FTS_TABLE} MATCH :fts_query"))
        )
        indexed = literal_column("take.rowid").in_(hits.params(fts_query=_fts5_query(words)).scalar_subquery())
    elif dialect == "postgresql":
        vector = func.to_tsvector(literal_column("'simple'::regconfig"), col(Take.prompt))
        indexed = vector.bool_op("@@")(func.to_tsquery(literal_column("'simple'::regconfig"), _tsquery(words)))
    else:
        return and_(*terms)
    return and_(indexed, *terms)


def not_search_index(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's ``include_name``: leave the hand-written full-text index out of model comparisons.

    Without it autogenerate would write a revision dropping it (and SQLite's FTS5 shadow tables).
    """
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(FTS_TABLE)
    return name != POSTGRES_INDEX
