"""Review by people: signed client links (sharing, access) and notices by webhook or email (notify,
the only module here that imports httpx)."""
