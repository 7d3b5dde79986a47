"""A two-shot project with a budget that the priced local provider reaches after two renders.

Shared by the CLI-side budget-gate tests and the dashboard's: both price ``local`` at
:data:`PRICE` through settings, so a real batch parks at its budget.
"""

from __future__ import annotations

import pytest

from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.spending.budget import batch_spend

PRICE = 0.02
PROJECT = """
[project]
name = "Budget test"
seed = 3
[defaults]
size = "64x64"
variants = 2
upscale = 1
[budget]
usd = 0.05
[[shots]]
id = "a"
prompt = "a lighthouse"
[[shots]]
id = "b"
prompt = "a harbour"
"""


def priced(settings: Settings) -> Settings:
    """``settings`` with the local provider charging :data:`PRICE` per render."""
    return settings.model_copy(update={"prices": {"local": PRICE}})


def parked(catalog: Catalog, batch_id: str) -> bool:
    """Two renders paid, the rest refused, and someone waiting at the budget."""
    spend = batch_spend(catalog, batch_id)
    return (
        spend.spent_usd == pytest.approx(2 * PRICE) and spend.committed_usd == spend.spent_usd and bool(spend.waiting)
    )
