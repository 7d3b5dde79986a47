"""What the dashboard asks of Temporal, as plain blocking calls.

Streamlit runs each page in a thread with no event loop, so every call here opens its own loop
(``asyncio.run``) and its own connection. A connection costs a few milliseconds next to a
human's click, and no loop-bound client outlives the call that made it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from temporalio.client import Client
from temporalio.service import RPCError

from pipelines.client.batches import GateRefused, answer_budget, change_priority, decide, start_batch
from pipelines.client.pausing import pause_batch, resume_batch
from pipelines.client.weights import client_weights as server_weights
from pipelines.client.weights import set_client_weight
from pipelines.messages import Decision
from pipelines.runtime.connection import ConnectionFailed, connect
from studio.batches.launch import prepare_batch
from studio.batches.replay import ReplayRequest, plan_replay
from studio.catalog.store import Catalog
from studio.errors import StudioError
from studio.settings import Settings
from studio.spending.budget import Spend, raise_budget, stop_spending
from studio.states import GateAction
from studio.storage import open_asset_store

GATE_ACTIONS = tuple(GateAction)
T = TypeVar("T")

__all__ = [
    "GATE_ACTIONS",
    "ActionFailed",
    "BudgetAnswered",
    "ConnectionFailed",
    "GateRefused",
    "answer_gate",
    "client_weights_now",
    "hold_batch",
    "launch_project",
    "make_another",
    "raise_batch_budget",
    "reprioritize_batch",
    "reweight_client",
    "stop_batch_spending",
]


class ActionFailed(StudioError):
    """Temporal answered a dashboard action with an error other than a gate's refusal.

    Attributes:
        action: What was asked (``decide``, ``launch``).
        status: The RPC status name.
    """

    def __init__(self, action: str, err: RPCError) -> None:
        super().__init__(f"{action} failed: {err.message or err.status.name}")
        self.action = action
        self.status = err.status.name


def _call(settings: Settings, action: str, body: Callable[[Client], Awaitable[T]]) -> T:
    async def _go() -> T:
        client = await connect(settings)
        try:
            return await body(client)
        except RPCError as err:
            raise ActionFailed(action, err) from err

    return asyncio.run(_go())


def answer_gate(
    settings: Settings,
    batch_id: str,
    shot_id: str,
    *,
    action: str,
    take: int | None = None,
    who: str,
    note: str = "",
    email: str = "",
) -> str:
    """Answer a shot's approval gate; returns the gate's one-line confirmation.

    Args:
        settings: Where Temporal is.
        batch_id: The batch.
        shot_id: The shot within the batch.
        action: ``approve`` (needs ``take``), ``reject`` or ``changes`` (the note says what to change).
        take: Take number to approve.
        who: Who decides (``client`` on the client page).
        note: Free text kept with the decision.
        email: The guest's email (client page), kept with the decision.

    Raises:
        GateRefused: The gate refused (already decided, not waiting, unknown take or action).
        ConnectionFailed: Temporal is not reachable.
        ActionFailed: Temporal refused the call for another reason.
    """
    decision = Decision(action, take, who=who, note=note, email=email)
    return _call(settings, "decide", lambda client: decide(client, batch_id, shot_id, decision))


def launch_project(settings: Settings, path: str | Path) -> str:
    """Validate a project, write its batch and start its workflow; returns the batch id.

    Temporal is reached first, so nothing is written to the catalog when it is down.

    Raises:
        ProjectError: The project is invalid.
        ConnectionFailed: Temporal is not reachable.
        ActionFailed: Temporal refused to start the workflow.
        AssetStoreError: The asset store cannot be used (a missing bucket, no network).
    """

    async def _start(client: Client) -> str:
        catalog = Catalog.open(settings.catalog_url)
        batch, _ = prepare_batch(settings, catalog, open_asset_store(settings), path)
        await start_batch(client, settings, batch.id)
        return batch.id

    return _call(settings, "launch", _start)


@dataclass(frozen=True)
class BudgetAnswered:
    """What answering a batch's budget gate did.

    Attributes:
        spend: The batch's spending after the change.
        lines: One line per waiting shot woken (``<batch>/<shot> renders again``...).
    """

    spend: Spend
    lines: list[str]


def _answer_budget(
    settings: Settings, batch_id: str, change: Callable[[Catalog], Spend], *, go: bool, who: str
) -> BudgetAnswered:
    async def _answer(client: Client) -> BudgetAnswered:
        # Temporal is reached before the catalog changes, so a budget is not raised (or spending
        # stopped) with nobody able to wake the shots that wait for it.
        spend = await asyncio.to_thread(change, Catalog.open(settings.catalog_url))
        # Read after the change: a shot parked meanwhile is in this list (or saw the new budget).
        lines = await answer_budget(client, batch_id, spend.waiting, go=go, who=who) if spend.waiting else []
        return BudgetAnswered(spend, lines)

    return _call(settings, "budget", _answer)


def raise_batch_budget(settings: Settings, batch_id: str, usd: float, *, who: str) -> BudgetAnswered:
    """Raise a batch's budget to ``usd`` (lifting a stop) and wake the shots waiting at it.

    Raises:
        BudgetError: ``usd`` is not above what the batch has already spent or committed.
        NotFound: No such batch.
        ConnectionFailed: Temporal is not reachable (nothing is changed then).
        ActionFailed: Temporal refused the call for another reason.
    """
    return _answer_budget(settings, batch_id, lambda catalog: raise_budget(catalog, batch_id, usd), go=True, who=who)


def stop_batch_spending(settings: Settings, batch_id: str, *, who: str) -> BudgetAnswered:
    """Stop a batch's paid calls for good; the shots waiting at its budget fail their unrendered takes.

    Raises:
        NotFound: No such batch.
        ConnectionFailed: Temporal is not reachable (nothing is changed then).
        ActionFailed: Temporal refused the call for another reason.
    """
    return _answer_budget(settings, batch_id, lambda catalog: stop_spending(catalog, batch_id), go=False, who=who)


def make_another(settings: Settings, request: ReplayRequest) -> str:
    """Plan a replay batch ("make another like this") and start it; returns its batch id.

    Temporal is reached first, so nothing is written to the catalog when it is down.

    Raises:
        ReplayError: The request is refused (e.g. a vary mode on a provider that takes no image).
        NotFound: No such take.
        ConnectionFailed: Temporal is not reachable.
        ActionFailed: Temporal refused to start the workflow.
        AssetStoreError: The asset store cannot be used.
    """

    async def _start(client: Client) -> str:
        catalog = Catalog.open(settings.catalog_url)
        batch = await asyncio.to_thread(plan_replay, settings, catalog, open_asset_store(settings), request)
        await start_batch(client, settings, batch.id)
        return batch.id

    return _call(settings, "replay", _start)


def hold_batch(settings: Settings, batch_id: str, *, paused: bool) -> str:
    """Pause a batch (no new render starts) or resume it; returns what happened, in one line.

    Raises:
        PauseRefused: The batch has ended, or its workflow is not running.
        NotFound: No such batch.
        ConnectionFailed: Temporal is not reachable.
        ActionFailed: Temporal refused the call for another reason.
    """
    change = pause_batch if paused else resume_batch
    catalog = Catalog.open(settings.catalog_url)
    return _call(settings, "pause" if paused else "resume", lambda client: change(client, catalog, batch_id))


def reprioritize_batch(settings: Settings, batch_id: str, priority: str) -> str:
    """Change where a running batch's shots not yet started queue (`studio priority`).

    Raises:
        PriorityRefused: An unknown priority, or the batch has ended.
        NotFound: No such batch.
        ConnectionFailed: Temporal is not reachable.
        ActionFailed: Temporal refused the call for another reason.
    """
    catalog = Catalog.open(settings.catalog_url)
    return _call(settings, "priority", lambda client: change_priority(client, catalog, batch_id, priority))


def reweight_client(settings: Settings, client_name: str, weight: float | None) -> str:
    """Give a client a new share of the providers (``None``: back to its launch weight) (`studio weight`).

    Raises:
        WeightRefused: The name or the weight is not valid.
        ConnectionFailed: Temporal is not reachable.
        ActionFailed: Temporal refused the call (a server without fairness, say).
    """
    return _call(settings, "weight", lambda client: set_client_weight(client, settings, client_name, weight))


def client_weights_now(settings: Settings) -> dict[str, float]:
    """The weights set by re-weighting, as the Temporal server has them (client -> weight).

    Raises:
        ConnectionFailed: Temporal is not reachable.
        ActionFailed: Temporal refused the call.
    """
    return _call(settings, "weights", lambda client: server_weights(client, settings))
