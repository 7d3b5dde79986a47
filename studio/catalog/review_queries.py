"""The catalog's client-review rows: pins clients place on takes, and the share links handed out.

A base of :class:`studio.catalog.store.Catalog`. Pins and links are notes beside the gate, not
decisions: the dashboard writes them directly, and a decision (made through the workflow) reads
the pins of its round when it plans the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import col, select

from studio import ids
from studio.catalog.models import Guest, Pin, ShareLink, utcnow
from studio.catalog.sessions import CatalogSessions
from studio.errors import NotFound

# A link's last use is written at most this often: a live page polls every few seconds.
LAST_USE_EVERY = timedelta(seconds=60)


class ReviewQueries(CatalogSessions):
    """Pins and share links, one short transaction each."""

    # -- pins ----------------------------------------------------------------------------------

    def add_pin(
        self,
        take_id: str,
        *,
        x: float,
        y: float,
        text: str,
        radius: float = 0.12,
        who: str = "creator",
        email: str = "",
    ) -> Pin:
        """Place the next numbered pin on a take (``x``, ``y`` and ``radius`` as fractions of the image)."""
        ref = ids.parse_take_id(take_id)
        shot_key = ids.shot_key(ref.batch_id, ref.shot_id)
        with self.session() as s:
            last = s.exec(select(func.max(Pin.number)).where(Pin.take_id == take_id)).one()
            pin = Pin(
                take_id=take_id,
                shot_key=shot_key,
                batch_id=ref.batch_id,
                number=(last or 0) + 1,
                x=x,
                y=y,
                radius=radius,
                text=text,
                who=who,
                email=email,
            )
            s.add(pin)
            s.flush()
            s.refresh(pin)
            return pin

    def remove_pin(self, pin_id: int) -> None:
        """Take a pin off its take (kept, marked removed: numbers are not reused)."""
        with self.engine.begin() as conn:
            conn.execute(update(Pin).where(col(Pin.id) == pin_id).values(removed_at=utcnow()))

    def pins(
        self, *, take_ids: Sequence[str] | None = None, shot_key: str | None = None, batch_id: str | None = None
    ) -> list[Pin]:
        """Pins still in place, by take and number."""
        with self.session() as s:
            query = select(Pin).where(col(Pin.removed_at).is_(None))
            if take_ids is not None:
                query = query.where(col(Pin.take_id).in_(list(take_ids)))
            if shot_key is not None:
                query = query.where(Pin.shot_key == shot_key)
            if batch_id is not None:
                query = query.where(Pin.batch_id == batch_id)
            return list(s.exec(query.order_by(col(Pin.take_id), col(Pin.number))))

    # -- share links ---------------------------------------------------------------------------

    def add_share_link(self, link: ShareLink) -> ShareLink:
        """Write down a link handed out."""
        with self.session() as s:
            s.add(link)
            return link

    def share_link(self, link_id: str) -> ShareLink:
        """The link ``link_id``; raises :class:`NotFound`."""
        with self.session() as s:
            row = s.get(ShareLink, link_id)
        if row is None:
            raise NotFound("share link", link_id)
        return row

    def share_links(self, *, batch_id: str | None = None) -> list[ShareLink]:
        """Links handed out, newest first."""
        with self.session() as s:
            query = select(ShareLink)
            if batch_id is not None:
                query = query.where(ShareLink.batch_id == batch_id)
            return list(s.exec(query.order_by(col(ShareLink.created_at).desc(), col(ShareLink.id))))

    def revoke_share_link(self, link_id: str) -> ShareLink:
        """Stop a link from working (idempotent: a revoked link keeps its first revocation time)."""
        with self.session() as s:
            row = s.get(ShareLink, link_id)
            if row is None:
                raise NotFound("share link", link_id)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                s.add(row)
            s.flush()
            s.refresh(row)
            return row

    def touch_share_link(self, link_id: str, now: datetime | None = None) -> None:
        """Note that a link was used now (written at most once a minute per link)."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                update(ShareLink)
                .where(col(ShareLink.id) == link_id)
                .where((col(ShareLink.last_used_at).is_(None)) | (col(ShareLink.last_used_at) < now - LAST_USE_EVERY))
                .values(last_used_at=now)
            )

    # -- guests --------------------------------------------------------------------------------

    def add_guest(self, guest: Guest) -> Guest:
        """Write down a guest who gave a name and an email on a client page."""
        with self.session() as s:
            s.add(guest)
            return guest

    def guest(self, guest_id: str) -> Guest:
        """The guest ``guest_id``; raises :class:`NotFound`."""
        with self.session() as s:
            row = s.get(Guest, guest_id)
        if row is None:
            raise NotFound("guest", guest_id)
        return row
