"""Money: prices per call (prices), budgets per batch (budget) and one money format (money). The call
guard that enforces budgets and circuits inside a render's transaction lives with the catalog
(studio.catalog.call_guard), since it is a catalog query.

Only the light modules are exported here: importing a price must not open the catalog's modules
(budget reads the catalog; import it from studio.spending.budget)."""

from studio.spending.money import usd
from studio.spending.prices import price_of

__all__ = [
    "price_of",
    "usd",
]
