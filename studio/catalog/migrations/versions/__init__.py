"""One file per catalog schema revision, applied in order (Alembic reads them; nothing imports them)."""
