"""The Shot page's "Content credentials" badge: what the published file's C2PA manifest says.

The facts are the ones `studio verify` prints (:mod:`studio.credentials.describe`), read from the
file on disk each time the page draws, so a file changed after publishing shows as changed.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from studio.credentials.describe import facts, headline
from studio.credentials.errors import CredentialsError
from studio.credentials.verify import Verification, verify_file
from ui.markdown_table import field_lines

_BADGES = {
    "valid": ":green-badge[:material/verified: content credentials]",
    "trusted": ":green-badge[:material/verified: content credentials · trusted]",
    "invalid": ":red-badge[:material/gpp_bad: content credentials invalid]",
    "none": ":gray-badge[no content credentials]",
}


def credentials_badge(path: str) -> None:
    """Draw the badge and, folded under it, every fact about ``path``'s credentials."""
    try:
        found = verify_file(Path(path))
    except FileNotFoundError:
        st.caption(f"Content credentials: `{Path(path).name}` is no longer on disk.")
        return
    except CredentialsError as err:
        st.caption(f"Content credentials: {err}.")
        return
    st.markdown(_badge(found))
    if found.state == "none":
        st.caption("This file carries no content credentials ([publish] credentials = false, or an older publish).")
        return
    with st.expander(f"Content credentials: {headline(found)}", expanded=found.state == "invalid"):
        # The recipe's prompt is whoever wrote it: every fact is shown literally.
        st.markdown(field_lines([(label.strip(), text) for label, text in facts(found)]))
        if found.state == "valid":
            st.caption(
                "Valid means signed and unchanged since; the signer's certificate is not on a C2PA trust "
                "list (a self-made one never is: set STUDIO_C2PA_CERT / STUDIO_C2PA_KEY to sign as you)."
            )


def _badge(found: Verification) -> str:
    if found.changed_after_signing:
        return ":red-badge[:material/gpp_bad: changed after signing]"
    return _BADGES[found.state]
