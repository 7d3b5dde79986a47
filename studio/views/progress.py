"""Live progress of takes a self-hosted render node is working on (ComfyUI, AUTOMATIC1111).

While such a call runs, its worker writes the node's last report (queue position, sampler
steps) into the call's catalog row (``ProviderAttempt.progress``). This module turns those rows
into lines for `studio status`, `studio run --wait` and the dashboard's shot page; cloud
vendors report no progress and never appear here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import col, select

from studio import ids
from studio.catalog.models import ProviderAttempt
from studio.catalog.store import Catalog
from studio.states import CallStatus

# How many takes `studio run --wait` names in its one-line digest before counting the rest.
DIGEST_NAMED = 3


@dataclass(frozen=True)
class TakeProgress:
    """A take a render node is working on, as its last progress report says.

    Attributes:
        take_id: ``<batch>/<shot>/<n>``.
        stage: The call's stage (``render``, or ``upscale`` on a node that upscales).
        provider: The self-hosted provider (``comfyui``).
        node: The node's URL.
        state: ``queued``, ``running``, ``resubmitted`` (the node had lost the job), or
            ``starting`` before the node's first report.
        queue_position: Jobs ahead of it in the node's queue, while queued.
        step: Sampler steps done, while running.
        steps: Sampler steps in all, while running.
        at: When the node reported it (ISO 8601), if it has.
    """

    take_id: str
    stage: str
    provider: str
    node: str
    state: str
    queue_position: int | None = None
    step: int | None = None
    steps: int | None = None
    at: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"take", "stage", "provider", "node", "state", "queue_position", "step", "steps", "at"}``."""
        return {
            "take": self.take_id,
            "stage": self.stage,
            "provider": self.provider,
            "node": self.node,
            "state": self.state,
            "queue_position": self.queue_position,
            "step": self.step,
            "steps": self.steps,
            "at": self.at,
        }


def node_label(url: str) -> str:
    """A node as people name it: ``http://gpu-box:8188`` → ``gpu-box:8188``."""
    parts = urlsplit(url)
    return (parts.netloc + parts.path.rstrip("/")) or url


def state_text(p: TakeProgress) -> str:
    """Where the job is, in a few words: ``step 12/30``, ``queued (2 ahead)``, ``resubmitted (node restarted)``."""
    if p.state == "running":
        return f"step {p.step}/{p.steps}" if p.step is not None and p.steps else "running"
    if p.state == "queued":
        if p.queue_position is None:
            return "queued"
        return "queued (next)" if p.queue_position == 0 else f"queued ({p.queue_position} ahead)"
    if p.state == "resubmitted":
        return "resubmitted (node restarted)"
    return "sent to the node"


def progress_text(p: TakeProgress) -> str:
    """Who works on it and how far: ``comfyui @ gpu-box:8188  step 12/30`` (the stage when not rendering)."""
    stage = "" if p.stage == "render" else f" ({p.stage})"
    return f"{p.provider} @ {node_label(p.node)}{stage}  {state_text(p)}"


def take_progress_line(p: TakeProgress) -> str:
    """The take and its progress: ``shot-003 #1  comfyui @ gpu-box:8188  step 12/30``."""
    return f"{ids.shot_id_in(p.take_id)} #{ids.take_number(p.take_id)}  {progress_text(p)}"


def _short_state(p: TakeProgress) -> str:
    if p.state == "queued" and p.queue_position is not None:
        return "queued next" if p.queue_position == 0 else f"queued {p.queue_position} ahead"
    return state_text(p)


def progress_digest(items: Sequence[TakeProgress]) -> str:
    """One line for `studio run --wait`: ``2 on GPUs: step 12/30, queued 1 ahead`` (empty when none).

    Running jobs come first, furthest along first, then queued ones nearest the front.
    """
    if not items:
        return ""
    order = {"running": 0, "resubmitted": 1, "starting": 2, "queued": 3}

    def rank(p: TakeProgress) -> tuple[int, float, str]:
        ahead = -(p.step or 0) / (p.steps or 1) if p.state == "running" else float(p.queue_position or 0)
        return order.get(p.state, 2), ahead, p.take_id

    named = [_short_state(p) for p in sorted(items, key=rank)]
    more = len(named) - DIGEST_NAMED
    text = ", ".join(named[:DIGEST_NAMED]) + (f", {more} more" if more > 0 else "")
    return f"{len(items)} on GPUs: {text}"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _from_attempt(a: ProviderAttempt) -> TakeProgress:
    report = a.progress if isinstance(a.progress, dict) else {}
    state = report.get("state")
    at = report.get("at")
    return TakeProgress(
        take_id=a.take_id,
        stage=a.stage,
        provider=a.provider,
        node=str(report.get("node") or a.node),
        state=state if state in ("queued", "running", "resubmitted") else "starting",
        queue_position=_int(report.get("queue_position")),
        step=_int(report.get("step")),
        steps=_int(report.get("steps")),
        at=at if isinstance(at, str) else None,
    )


def progress_of(attempts: Iterable[ProviderAttempt]) -> tuple[TakeProgress, ...]:
    """The takes render nodes work on now, from their calls (any order): a take's newest call on a
    node that has not finished; takes in id order."""
    newest: dict[str, ProviderAttempt] = {}
    for a in attempts:
        if a.status != CallStatus.STARTED or a.node is None:
            continue
        # A dead worker's call stays "started" until the next attempt marks it lost: the newest counts.
        if a.take_id not in newest or (a.id or 0) > (newest[a.take_id].id or 0):
            newest[a.take_id] = a
    return tuple(_from_attempt(newest[take_id]) for take_id in sorted(newest))


def shot_progress(catalog: Catalog, shot_key: str) -> dict[str, TakeProgress]:
    """Progress of a shot's takes that a render node works on now, by take id (the shot page)."""
    with catalog.session() as s:
        rows = s.exec(
            select(ProviderAttempt).where(
                col(ProviderAttempt.take_id).startswith(f"{shot_key}/", autoescape=True),
                col(ProviderAttempt.status) == CallStatus.STARTED,
                col(ProviderAttempt.node).is_not(None),
            )
        ).all()
    return {p.take_id: p for p in progress_of(rows)}
