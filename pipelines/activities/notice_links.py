"""The link a notice carries: one recorded link per notice, however often its activity runs."""

from __future__ import annotations

import hashlib

from temporalio import activity

from studio.catalog.store import Catalog
from studio.review.links import issue_link
from studio.settings import Settings


def notice_link(settings: Settings, catalog: Catalog, batch_id: str, *, label: str) -> str:
    """The URL of the link this activity's notice hands out (called inside the activity).

    The id comes from the activity's place in its workflow run, so a retried send (at least
    once) hands out the same link instead of listing one more on the Batch page each time.
    """
    info = activity.info()
    place = f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"
    link_id = "n" + hashlib.sha256(place.encode()).hexdigest()[:15]  # a letter first: never read as an option
    return issue_link(settings, catalog, batch_id, label=label, link_id=link_id).url
