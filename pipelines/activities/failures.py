"""How an activity fails on purpose when the catalog lacks what it needs.

Such a failure is a fact about the catalog, not weather: retrying cannot fix it, so it is final
at once, and its message says in one line what was missing.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

INCONSISTENT = "CatalogInconsistent"


def inconsistent(message: str) -> ApplicationError:
    """A final activity failure: the catalog lacks a row or field this stage needs (``message``: one line)."""
    return ApplicationError(message, type=INCONSISTENT, non_retryable=True)
