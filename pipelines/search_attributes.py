"""What batch and shot workflows carry for Temporal's own tools: search attributes and a memo.

Operators filter in the Temporal Web UI or with ``temporal workflow list --query
'StudioProject="the-lighthouse-keeper"'``. The batch workflow gets them at start (see
:func:`pipelines.client.batches.start_batch`) and hands its own to every shot workflow it starts, so a
batch and its shots always answer the same queries; continue-as-new carries them over.

Custom search attributes must be registered on the namespace first: the embedded dev server
does it itself (:mod:`pipelines.runtime.devserver`); an external cluster needs
:func:`register_command` run once.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.errors import NotFound

PROJECT = SearchAttributeKey.for_keyword("StudioProject")
"""The project's slug (a replay takes its origin's project)."""
BATCH_KIND = SearchAttributeKey.for_keyword("StudioBatchKind")
"""The catalog's batch kind: ``project`` (`studio run`), ``replay`` or ``rerun``."""
BATCH = SearchAttributeKey.for_keyword("StudioBatch")
"""The batch id, on the batch workflow and on each of its shots' workflows."""
CLIENT = SearchAttributeKey.for_keyword("StudioClient")
"""Who the batch is for; set only when that is known."""

KEYS = (PROJECT, BATCH_KIND, BATCH, CLIENT)
NAMES = tuple(key.name for key in KEYS)

# A replay of a replay of ... names its project through its origins; a bound keeps a broken
# chain in the catalog from looping.
_MAX_ORIGINS = 32


def register_command(namespace: str) -> str:
    """The one Temporal CLI command that registers the studio's search attributes on ``namespace``.

    Each ``--name`` takes its own ``--type``: with one ``--type`` for several names, CLI 1.9
    registers only the first name.
    """
    pairs = " ".join(f"--name {name} --type Keyword" for name in NAMES)
    return f"temporal operator search-attribute create --namespace {namespace} {pairs}"


@dataclass(frozen=True)
class BatchLabels:
    """What a batch's workflows are labelled with.

    Attributes:
        batch_id: The batch.
        kind: ``project``, ``replay`` or ``rerun`` (the catalog's ``Batch.kind``).
        project: The project's slug, the value operators filter on.
        project_name: The project's display name (memo only: it may hold spaces and capitals).
        parent_batch_id: The batch a rerun or replay came from, if any.
        client: Who the batch is for, when known.
    """

    batch_id: str
    kind: str
    project: str
    project_name: str
    parent_batch_id: str | None = None
    client: str | None = None

    def search_attributes(self) -> TypedSearchAttributes:
        """The batch's search attributes (``StudioClient`` only when a client is known)."""
        pairs = [
            SearchAttributePair(PROJECT, self.project),
            SearchAttributePair(BATCH_KIND, self.kind),
            SearchAttributePair(BATCH, self.batch_id),
        ]
        if self.client:
            pairs.append(SearchAttributePair(CLIENT, self.client))
        return TypedSearchAttributes(pairs)

    def memo(self) -> dict[str, str]:
        """The memo the Web UI shows with each workflow: readable names, no secrets."""
        memo = {"project": self.project_name, "batch": self.batch_id, "kind": self.kind}
        if self.parent_batch_id:
            memo["parent_batch"] = self.parent_batch_id
        if self.client:
            memo["client"] = self.client
        return memo


def batch_labels(catalog: Catalog, batch_id: str, client: str | None = None) -> BatchLabels:
    """Read a batch's labels from the catalog.

    A replay batch is named after the take it replays (its slug is ``replay``), so its project
    is its origin batch's: ``StudioProject`` then finds a project's replays along with its runs.

    Raises:
        NotFound: No such batch.
    """
    batch = catalog.batch(batch_id)
    origin = _project_batch(catalog, batch)
    return BatchLabels(
        batch_id=batch.id,
        kind=batch.kind,
        project=origin.project_slug,
        project_name=origin.project_name,
        parent_batch_id=batch.parent_batch_id,
        client=client,
    )


def _project_batch(catalog: Catalog, batch: Batch) -> Batch:
    """The batch that names ``batch``'s project: itself, or a replay's first non-replay origin."""
    found = batch
    for _ in range(_MAX_ORIGINS):
        if found.kind != "replay" or not found.parent_batch_id:
            return found
        try:
            found = catalog.batch(found.parent_batch_id)
        except NotFound:
            break
    return batch  # an origin is gone: the replay names itself


def is_unregistered_search_attribute(err: RPCError) -> bool:
    """Whether the server refused a start because a search attribute is not registered.

    SQL visibility says "has no mapping defined for search attribute X", Elasticsearch
    "search attribute X is not defined": both are INVALID_ARGUMENT naming the attribute.
    """
    message = err.message.lower()
    return (
        err.status == RPCStatusCode.INVALID_ARGUMENT
        and "search attribute" in message
        and any(name.lower() in message for name in NAMES)
    )
