"""A dummy provider (proof that adding a provider touches the table and its own folder only)."""
