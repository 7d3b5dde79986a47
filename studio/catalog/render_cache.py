"""The render cache's side of the catalog: finding an earlier identical render and reusing it.

The key is a take's recipe hash (:func:`studio.rendering.cache.take_recipe_hash`), indexed on the
take table. A take is a source only once its image is stored and its provider said the recipe
reproduces; a reused take records where its image came from (``cached_from``) and makes no call,
so it holds no budget, in-flight or node slot and its render costs nothing. No call row is written
for it either: the call table counts what was asked of providers, and status counts reused takes
from ``cached_from`` (:mod:`studio.views.cache_savings`).
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from studio.catalog.models import Take, utcnow
from studio.catalog.tables import BATCH, SHOT, TAKE, snapshot
from studio.states import ShotStage, TakeStatus

__all__ = ["REUSABLE", "batch_uses_cache", "find_cached", "reuse_render"]

REUSABLE = (TakeStatus.RENDERED, TakeStatus.UPSCALED, TakeStatus.REVIEWED, TakeStatus.APPROVED)
"""Statuses of a take whose render succeeded and stands (a failed or cancelled take is no source)."""
# What a reused take copies from its source: the render's result, not the take's own plan.
_RESULT_COLUMNS = ("asset_key", "provider", "model", "seed_used", "reproducible", "revised_prompt", "params")


def find_cached(conn: Connection, recipe_hash: str, *, besides: str | None = None) -> Take | None:
    """The earliest stored render with this recipe that reproduces, in ``conn``'s transaction.

    Takes rendered for real come before takes that reused them, so a chain of reuses names the
    original render.

    Args:
        besides: A take not to return (the one looking).
    """
    query = select(TAKE).where(
        TAKE.c.recipe_hash == recipe_hash,
        TAKE.c.asset_key.is_not(None),
        TAKE.c.status.in_(REUSABLE),
        TAKE.c.reproducible.is_(True),
    )
    if besides is not None:
        query = query.where(TAKE.c.id != besides)
    row = conn.execute(query.order_by(TAKE.c.cached_from.is_not(None), TAKE.c.created_at, TAKE.c.id).limit(1)).first()
    return snapshot(Take, row) if row is not None else None


def batch_uses_cache(conn: Connection, batch_id: str) -> bool:
    """Whether the batch may reuse earlier renders (launched without ``--no-cache`` or ``cache = false``)."""
    return bool(conn.execute(select(BATCH.c.use_cache).where(BATCH.c.id == batch_id)).scalar())


def reuse_render(conn: Connection, take: Take, source: Take, recipe_hash: str) -> Take:
    """Give ``take`` the render of ``source`` (same recipe), in ``conn``'s transaction; returns it as stored.

    The take moves straight to rendered, with ``cached_from`` naming the source. Its cost is
    left as it was: no call was made.
    """
    values = {column: getattr(source, column) for column in _RESULT_COLUMNS}
    values |= dict(status=TakeStatus.RENDERED, cached_from=source.id, recipe_hash=recipe_hash, error=None)
    conn.execute(update(TAKE).where(TAKE.c.id == take.id).values(**values))
    conn.execute(
        update(SHOT)
        .where(SHOT.c.key == take.shot_key, SHOT.c.stage == ShotStage.PENDING)
        .values(stage=ShotStage.RENDERING, updated_at=utcnow())
    )
    return snapshot(Take, conn.execute(select(TAKE).where(TAKE.c.id == take.id)).one())
