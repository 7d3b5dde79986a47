"""Downloads on the client page: each approved shot's final, and one zip once every shot is approved.

Nothing is offered before approval, and what is offered is the clean final (never a marked
preview). The bytes are made only when a button is clicked (Streamlit's deferred download
data), so a page that redraws itself every few seconds does not read every final each time.
"""

from __future__ import annotations

import mimetypes
from functools import partial

import streamlit as st

from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.review.deliverables import all_approved, approved_finals, finals_zip
from studio.settings import Settings
from ui.resources import asset_store

ZIP_LABEL = "Download all finals (zip)"


def deliverables_section(settings: Settings, catalog: Catalog, batch: Batch) -> None:
    """Download buttons for ``batch``'s approved finals; nothing at all before the first approval.

    Args:
        settings: The studio's settings.
        catalog: The catalog.
        batch: The batch the page shows (every key is made from its id).
    """
    finals = approved_finals(catalog, batch.id)
    if not finals:
        return
    assets = asset_store(settings)
    st.subheader("Approved — ready to download")
    if all_approved(catalog, batch.id):
        st.download_button(
            ZIP_LABEL,
            partial(finals_zip, catalog, assets, batch.id),
            file_name=f"{batch.project_slug}-finals.zip",
            mime="application/zip",
            key=f"finals-zip-{batch.id}",
            type="primary",
            icon=":material/folder_zip:",
            on_click="ignore",
        )
        st.caption("Every final, each with its recipe (provider, model, seed, prompt) as JSON.")
    else:
        total = len(catalog.shot_ids(batch.id))
        st.caption(f"{len(finals)} of {total} shots approved: one zip of all finals comes once every shot is.")
    for final in finals:
        st.download_button(
            f"{final.shot_id} ({final.file_name.rsplit('.', 1)[-1].upper()})",
            partial(assets.get, final.key),
            file_name=final.file_name,
            mime=mimetypes.guess_type(final.file_name)[0],
            key=f"final-{batch.id}-{final.shot_id}",
            icon=":material/download:",
            on_click="ignore",
        )
