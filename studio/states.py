"""What a batch, a shot, a take, a gate decision and a provider call can be: one ``StrEnum`` each.

The values are the strings the catalog stores and saved workflow histories carry, so they never
change. A ``StrEnum`` member *is* its value (``ShotStage.FAILED == "failed"``, it hashes like
``"failed"``, ``json.dumps`` and Temporal's payload converter write ``"failed"``), so rows and
histories written before these enums read the same, and ``--json`` output is unchanged.

The catalog columns stay plain strings (an enum-typed SQLModel field would become a SQL ``ENUM``
storing member *names*); code compares and assigns members, and a value read back compares equal.
"""

from __future__ import annotations

from enum import StrEnum


class BatchState(StrEnum):
    """Where a batch is (``Batch.state``)."""

    QUEUED = "queued"
    RUNNING = "running"
    # Never stored: status shows a running batch whose shots wait at a human gate as waiting.
    WAITING = "waiting"
    # Never stored either: a batch with ``paused_at`` set (`studio pause`) starts no render.
    PAUSED = "paused"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ShotStage(StrEnum):
    """Where a shot is (``Shot.stage``, and a shot workflow's ``gate`` query), in the order a shot moves."""

    # Only in a shot workflow's memory, before it has its plan; never stored.
    STARTING = "starting"
    PENDING = "pending"
    RENDERING = "rendering"
    WAITING_FOR_PROVIDER = "waiting_for_provider"
    UPSCALING = "upscaling"
    REVIEWING = "reviewing"
    AWAITING_BUDGET = "awaiting_budget"
    AWAITING_APPROVAL = "awaiting_approval"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TakeStatus(StrEnum):
    """Where a take is (``Take.status``)."""

    PLANNED = "planned"
    RENDERING = "rendering"
    RENDERED = "rendered"
    UPSCALED = "upscaled"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    # Kept for catalogs that have it: takes are no longer marked rejected (their shot is).
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"


class GateAction(StrEnum):
    """A human's (or a deadline's) decision at an approval gate (``Approval.decision``)."""

    APPROVE = "approve"
    REJECT = "reject"
    CHANGES = "changes"  # render again with the note appended, then come back to the gate


class ShotOutcome(StrEnum):
    """How a shot ended: what its workflow returns and what a batch counts its shots by."""

    PUBLISHED = "published"
    REJECTED = "rejected"
    FAILED = "failed"


class CallStatus(StrEnum):
    """Where one provider call is (``ProviderAttempt.status``)."""

    STARTED = "started"  # written before the call; a dead worker's call stays so until the next attempt
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    LOST = "lost"  # begun and never finished: its worker died


class ShotPhase(StrEnum):
    """A shot's news for its batch (``ShotUpdate.phase``, by the ``shot_update`` signal)."""

    GATED = "gated"
    RESUMED = "resumed"
    DONE = "done"
    PROVIDER_WAIT = "provider_wait"
    PROVIDER_BACK = "provider_back"


# Groups more than one module asks about.
# A batch in one of these is over, whichever way (it has a finished_at); studio.batches.close names
# the two a batch reaches on its own.
FINISHED_BATCH_STATES = (BatchState.PUBLISHED, BatchState.FAILED, BatchState.CANCELLED)
# A shot in one of these has ended; in any other, a workflow may still be running it.
ENDED_SHOT_STAGES = (ShotStage.PUBLISHED, ShotStage.REJECTED, ShotStage.FAILED, ShotStage.CANCELLED)
# Stages where a shot waits for a person (an approval or a budget answer), not for a machine.
HUMAN_WAIT_STAGES = (ShotStage.AWAITING_APPROVAL, ShotStage.AWAITING_BUDGET)
