"""How states look: one colour per shot stage and batch state, and short human times."""

from __future__ import annotations

from datetime import UTC, datetime

from studio.spending.money import usd
from studio.states import BatchState, ShotStage, TakeStatus

# Keyed by str: a value read from the catalog is a plain string, equal to (and hashed as) its member.
STAGE_COLOURS: dict[str, str] = {
    ShotStage.PENDING: "gray",
    ShotStage.RENDERING: "blue",
    ShotStage.UPSCALING: "blue",
    ShotStage.REVIEWING: "blue",
    ShotStage.AWAITING_BUDGET: "orange",
    ShotStage.AWAITING_APPROVAL: "orange",
    ShotStage.PUBLISHING: "violet",
    ShotStage.PUBLISHED: "green",
    ShotStage.REJECTED: "red",
    ShotStage.FAILED: "red",
    ShotStage.CANCELLED: "gray",
}
STATE_COLOURS: dict[str, str] = {
    BatchState.QUEUED: "gray",
    BatchState.RUNNING: "blue",
    BatchState.WAITING: "orange",
    BatchState.PAUSED: "violet",
    BatchState.PUBLISHED: "green",
    BatchState.FAILED: "red",
    BatchState.CANCELLED: "gray",
}
TAKE_COLOURS: dict[str, str] = {
    TakeStatus.FAILED: "red",
    TakeStatus.APPROVED: "green",
    TakeStatus.REJECTED: "red",
    TakeStatus.PLANNED: "gray",
    TakeStatus.RENDERING: "blue",
}
LABELS: dict[str, str] = {
    ShotStage.AWAITING_APPROVAL: "waiting for approval",
    ShotStage.AWAITING_BUDGET: "waiting at budget",
}
# A stage no shot of the batch asks for (only upscale can be: `upscale = 1`).
SKIPPED = "skipped (no shot upscales)"


def badge(text: str, colour: str) -> str:
    """Streamlit markdown for a coloured badge."""
    # Square brackets would end the badge directive early.
    safe = text.replace("[", "(").replace("]", ")")
    return f":{colour}-badge[{safe}]"


def stage_badge(stage: str) -> str:
    """A shot stage as a badge (orange while a human is awaited)."""
    return badge(LABELS.get(stage, stage), STAGE_COLOURS.get(stage, "gray"))


def state_badge(state: str) -> str:
    """A batch state as a badge."""
    return badge(state, STATE_COLOURS.get(state, "gray"))


def take_badge(status: str) -> str:
    """A take status as a badge."""
    return badge(status, TAKE_COLOURS.get(status, "blue"))


def as_utc(value: datetime | str | None) -> datetime | None:
    """An aware UTC datetime from a catalog value (SQLite gives naive UTC) or an ISO string."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def ago(value: datetime | str | None, now: datetime | None = None) -> str:
    """``"3 min ago"``-style text, or an em dash for no time."""
    moment = as_utc(value)
    if moment is None:
        return "—"
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def time_left(value: datetime | str | None, now: datetime | None = None) -> str:
    """``"2 days"``, ``"5 h"``, ``"12 min"``: how long until ``value`` (``"moments"`` once it is near)."""
    moment = as_utc(value)
    if moment is None:
        return "—"
    seconds = int((moment - (now or datetime.now(UTC))).total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return "moments"


def clock(value: datetime | str | None) -> str:
    """``YYYY-MM-DD HH:MM`` UTC, or an em dash."""
    moment = as_utc(value)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "—"


def money(amount: float) -> str:
    """Provider spend, as the CLI prints it: ``$0.00`` when nothing was charged."""
    return usd(amount)
