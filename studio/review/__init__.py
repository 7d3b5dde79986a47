"""Review by people: signed client links (sharing, access) and notices by webhook or email (notify,
the only module here that imports httpx)."""

from studio.review.sharing import LinkInvalid, open_share_link, share_url

__all__ = [
    "LinkInvalid",
    "open_share_link",
    "share_url",
]
