"""Money: prices per call (prices), budgets per batch (budget) and one money format (money). The call
guard that enforces budgets and circuits inside a render's transaction lives with the catalog
(studio.catalog.call_guard), since it is a catalog query."""
