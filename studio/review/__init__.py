"""Review by people: signed client links (sharing signs and reads tokens, links records each one
handed out so it can be listed and revoked, access) and notices by webhook or email (notify,
the only module here that imports httpx)."""

from studio.review.links import (
    IssuedLink,
    LinkState,
    LinkView,
    OpenLink,
    issue_link,
    links_of,
    open_client_link,
    revoke_link,
)
from studio.review.sharing import LinkInvalid, open_share_link, share_url

__all__ = [
    "IssuedLink",
    "LinkInvalid",
    "LinkState",
    "LinkView",
    "OpenLink",
    "issue_link",
    "links_of",
    "open_client_link",
    "open_share_link",
    "revoke_link",
    "share_url",
]
