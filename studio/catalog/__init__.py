"""The catalog: where batches, shots, takes and every provider call are written down. engine opens
SQLite or Postgres, models and tables define the schema (migrations applies it), store and stages
are the reads and the per-stage transactions (store's Catalog builds on sessions, the engine and its
transactions, and lineage_queries, the lineage and search reads), call_guard checks budgets and
circuits inside them, and node_pool picks the free, healthy render node of a self-hosted pool."""

from studio.catalog.models import Approval, Batch, ProviderAttempt, Publication, Shot, Take
from studio.catalog.store import Catalog

__all__ = [
    "Approval",
    "Batch",
    "Catalog",
    "ProviderAttempt",
    "Publication",
    "Shot",
    "Take",
]
