"""Catalog tables (SQLModel): batch, shot, take, provider attempt, approval, publication.

Ids are readable strings so a user can type them: a batch is ``<slug>-<6 hex>``, a shot row is
``<batch>/<shot>``, a take is ``<batch>/<shot>/<n>``. The ``*Base`` classes hold the fields a
caller supplies; the table classes add what the studio derives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import JSON, Column, Index, text
from sqlalchemy.orm import configure_mappers
from sqlmodel import Field, SQLModel

from studio.states import BatchState, CallStatus, ShotStage, TakeStatus

M = TypeVar("M", bound=SQLModel)


def utcnow() -> datetime:
    """Aware UTC now (SQLite stores it naive; readers treat naive values as UTC)."""
    return datetime.now(UTC)


def detached(model: type[M], /, **values: Any) -> M:
    """A ``model`` object outside any session, built without validation from values known valid.

    About 4x cheaper than the constructor, which matters for rows made or read per take. It is
    read-only: it has no ORM state, so setting an attribute raises (write through the catalog).
    """
    configure_mappers()  # its attributes read through the mapped class; a no-op once done
    # pydantic's mypy plugin types model_construct on the base class as returning the base, not the subclass.
    return cast(M, model.model_construct(**values))


class BatchBase(SQLModel):
    """A run of one project file."""

    project_name: str
    project_slug: str
    project_source: str
    project_key: str = Field(description="Asset key of the project file text as launched.")
    seed: int
    approval_required: bool = False
    watermark: bool = Field(default=False, description="Clients see watermarked previews until a take is approved.")
    priority: str = Field(default="normal", description="rush, normal or low: the order its renders dispatch in.")
    client: str = Field(
        default="", description="Who the batch is for: the fairness key (the project's slug if unnamed)."
    )
    use_cache: bool = Field(default=True, description="Reuse an earlier identical render instead of paying again.")
    output_dir: str
    parent_batch_id: str | None = None
    budget_usd: float | None = Field(default=None, description="Spending cap; None for none. Raised at a budget gate.")
    spending_stopped: bool = Field(default=False, description="Set at a budget gate: no more paid calls.")
    kind: str = Field(default="project", description="project, replay (takes planned by `studio replay`) or rerun.")
    rerun_only: list[str] = Field(
        default_factory=list, sa_column=Column(JSON), description="A rerun's shots to render again (others kept)."
    )
    references: dict[str, str] = Field(
        default_factory=dict,
        sa_column=Column(JSON),
        description="Asset key of each shot's sketch, by shot id, and of its ComfyUI workflow, by 'workflow:<shot id>'.",
    )


class Batch(BatchBase, table=True):
    """A batch row. ``state`` is a :class:`~studio.states.BatchState` (stored as its value)."""

    id: str = Field(primary_key=True)
    state: str = BatchState.QUEUED
    total_shots: int = 0
    total_takes: int = 0
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None
    paused_at: datetime | None = Field(default=None, description="Set by `studio pause`: no new render starts.")


class Shot(SQLModel, table=True):
    """One storyboard shot inside a batch. ``stage`` says where the shot is now."""

    key: str = Field(primary_key=True, description="<batch>/<shot>")
    batch_id: str = Field(index=True)
    shot_id: str
    position: int
    prompt: str
    negative: str = ""
    width: int
    height: int
    variants: int
    upscale: int = 1
    chain: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    reference_key: str | None = None
    stage: str = Field(default=ShotStage.PENDING, index=True)  # a ShotStage, stored as its value
    final_take_id: str | None = None
    error: str | None = None
    gate_due_at: datetime | None = Field(default=None, description="When the open approval gate's deadline passes.")
    updated_at: datetime = Field(default_factory=utcnow)

    __table_args__ = (
        # A batch's shots counted by stage, or at one stage (status, the Batches page).
        Index("ix_shot_batch_id_stage", "batch_id", "stage"),
        # A batch's shots in storyboard order, a page at a time (the Batch page's grid).
        Index("ix_shot_batch_id_position", "batch_id", "position"),
    )


class Take(SQLModel, table=True):
    """One image attempt-chain result for a shot: its recipe and where its bytes are."""

    id: str = Field(primary_key=True, description="<batch>/<shot>/<n>")
    batch_id: str = Field(index=True)
    shot_key: str = Field(index=True)
    number: int
    round: int = Field(default=1, description="Gate round: 1, then +1 each time changes are requested.")
    status: str = TakeStatus.PLANNED  # a TakeStatus, stored as its value
    seed: int | None = Field(default=None, description="Seed planned (and, for local, used).")
    provider: str | None = None
    model: str | None = None
    seed_used: int | None = None
    reproducible: bool | None = None
    prompt: str
    negative: str = ""
    revised_prompt: str | None = None
    width: int
    height: int
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    init_key: str | None = Field(default=None, description="Asset key of the image rendered from (sketch or parent).")
    strength: float | None = Field(default=None, description="How far from init_key the take may move (0..1).")
    asset_key: str | None = None
    final_key: str | None = None
    review_score: float | None = None
    review_passed: bool | None = None
    review_notes: str | None = None
    review_model: str | None = None
    parent_take_id: str | None = Field(default=None, index=True)
    recipe_hash: str | None = Field(
        default=None, index=True, description="sha256 of everything that decides its pixels (the render cache's key)."
    )
    cached_from: str | None = Field(default=None, description="The take whose identical render it reused, at no cost.")
    mask_key: str | None = Field(
        default=None, description="Asset key of the mask (white = change) an edit of init_key renders inside."
    )
    edit: dict[str, Any] | None = Field(
        default=None,
        sa_column=Column(JSON),
        description="A targeted rework: the note and the pins (x, y, radius, text) the mask was drawn from.",
    )
    cost_usd: float = 0.0
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ProviderAttempt(SQLModel, table=True):
    """One call to one provider for one take (render, upscale or review).

    A row is written *before* the call, so a crash leaves a ``started`` row behind that the
    next attempt marks ``lost``: the table counts every call the studio paid for.
    """

    id: int | None = Field(default=None, primary_key=True)
    take_id: str = Field(index=True)
    batch_id: str = Field(index=True)
    stage: str
    provider: str = Field(index=True)
    attempt: int = 1
    status: str = CallStatus.STARTED  # a CallStatus, stored as its value
    error_class: str | None = None
    error: str | None = None
    job_id: str | None = None
    latency_ms: int | None = None
    cost_usd: float = Field(default=0.0, description="Reserved price while started; the price once succeeded.")
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = Field(default=None, index=True)
    node: str | None = Field(default=None, description="The render node (URL) of a self-hosted pool the call went to.")
    progress: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON), description="Last progress a self-hosted node reported (queue, steps)."
    )

    __table_args__ = (
        Index("ix_providerattempt_provider_node_status", "provider", "node", "status"),
        # The circuit breaker's latest calls of a provider's stage.
        Index("ix_providerattempt_provider_stage_finished_at", "provider", "stage", "finished_at"),
        # A batch's spend and a page of batches' costs, summed from the index alone.
        Index("ix_providerattempt_batch_id_status_cost_usd", "batch_id", "status", "cost_usd"),
        # The ETA's latest good calls of a lane (a stage on a provider).
        Index("ix_providerattempt_provider_stage_status_finished_at", "provider", "stage", "status", "finished_at"),
        # A batch's calls per provider, status and stage with their cost (status BATCH, the ETA), from the index alone.
        Index(
            "ix_providerattempt_batch_id_provider_status_stage",
            "batch_id",
            "provider",
            "status",
            "stage",
            "started_at",
            "cost_usd",
        ),
        # Partial: only the few calls in flight, so no other read of the table mistakes it for a good path.
        Index(
            "ix_providerattempt_in_flight",
            "provider",
            "started_at",
            sqlite_where=text("status = 'started'"),
            postgresql_where=text("status = 'started'"),
        ),
    )


class Approval(SQLModel, table=True):
    """A decision at a shot's approval gate."""

    id: int | None = Field(default=None, primary_key=True)
    shot_key: str = Field(index=True)
    batch_id: str = Field(index=True)
    round: int = 1
    decision: str
    take_id: str | None = None
    who: str = "creator"
    email: str = Field(default="", description="The guest's email when a client decided through a link.")
    note: str = ""
    decided_at: datetime = Field(default_factory=utcnow)


class Pin(SQLModel, table=True):
    """A client's numbered note placed on a take (normalized to the image: 0..1 from the top left)."""

    id: int | None = Field(default=None, primary_key=True)
    take_id: str = Field(index=True)
    shot_key: str = Field(index=True)
    batch_id: str = Field(index=True)
    number: int = Field(description="1, 2, … within the take, in the order pins were placed.")
    x: float
    y: float
    radius: float = Field(default=0.12, description="Of the region to change, as a fraction of the image's width.")
    text: str
    who: str = "creator"
    email: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    removed_at: datetime | None = None


class Guest(SQLModel, table=True):
    """Someone who opened a client link and gave a name and an email (kept for that browser)."""

    id: str = Field(primary_key=True, description="Random id the browser keeps.")
    batch_id: str = Field(index=True)
    link_id: str | None = Field(default=None, description="The share link they came through (None: an older link).")
    name: str
    email: str
    created_at: datetime = Field(default_factory=utcnow)


class ShareLink(SQLModel, table=True):
    """A client link handed out for a batch: listed, revocable, its last use seen."""

    id: str = Field(primary_key=True, description="Random id, signed inside the link's token.")
    batch_id: str = Field(index=True)
    label: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class Publication(SQLModel, table=True):
    """A file a batch published (``removed_at`` set once unpublished)."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: str = Field(index=True)
    shot_key: str = Field(index=True)
    take_id: str = Field(index=True)
    path: str
    published_at: datetime = Field(default_factory=utcnow)
    removed_at: datetime | None = None


class Outage(SQLModel, table=True):
    """Something the workers wait for right now (the asset store, the disk, a provider), as they last saw it.

    A worker writes the row when an outage starts and refreshes it while it lasts, and deletes it
    once the resource answers again; status reads only rows seen recently, so a worker that died
    mid-outage leaves nothing that lies for long. An outage of the catalog itself cannot be
    written here: readers that cannot reach the catalog say so themselves.
    """

    what: str = Field(primary_key=True, description="e.g. 'the asset store', 'provider gemini'.")
    detail: str = ""
    since: datetime = Field(default_factory=utcnow)
    seen_at: datetime = Field(default_factory=utcnow)
