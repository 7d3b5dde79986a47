"""Who is deciding on a client page: the guest's name and email, asked once, kept for that browser.

The first action on a link (approve, request changes, pin a note) asks for a name and an email;
the answer is a :class:`~studio.catalog.models.Guest` row and its random id is kept twice: in the
page's URL (``?guest=…``), so a reload or a bookmark keeps it, and in a first-party cookie set by a
one-line inline script (no component, nothing loaded from a CDN), so opening the emailed link
again in the same browser keeps it too. Streamlit reads cookies when a session starts
(``st.context.cookies``), which is exactly when the URL may have lost the id. The id is only an
attribution, never a credential: the signed link is what opens the page. It is trusted only for
the batch it was made on: an id from another batch's page, or one the catalog does not know, is
ignored and the next action asks again.

An action that needs a guest is handed to :func:`as_guest` from a button callback: it runs at
once when the guest is known, or waits in session state while a dialog asks who is deciding,
and runs as soon as they answer.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable

import streamlit as st

from studio.catalog.models import Guest
from studio.catalog.store import Catalog
from studio.errors import NotFound
from ui.markdown_text import literal

GUEST_PARAM = "guest"
MAX_NAME = 80
MAX_EMAIL = 254  # the longest address SMTP allows
# Plausible, not proven: something@somewhere.tld with no spaces. Only a sent mail proves more.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_PENDING = "_client_waiting_action"
_FORGOTTEN = "_client_guest_forgotten"  # "change" was clicked: the session's cookie no longer counts
COOKIE_PREFIX = "studio_guest_"
KEEP_DAYS = 90

GuestAction = Callable[[Guest], None]


def guest_problem(name: str, email: str) -> str | None:
    """What is wrong with a name and an email a guest typed, in one line, or ``None`` if both will do."""
    name, email = name.strip(), email.strip()
    if not name:
        return "Please give your name."
    if len(name) > MAX_NAME:
        return f"Please keep your name under {MAX_NAME} characters."
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        return "Please give an email address like name@example.com."
    return None


def _cookie(batch_id: str) -> str:
    """The cookie that keeps a batch's guest (one per batch: a guest is trusted on one batch only)."""
    return COOKIE_PREFIX + re.sub(r"[^A-Za-z0-9_-]", "_", batch_id)


def _kept(batch_id: str) -> str | None:
    """The guest id this browser's cookie held when the session started, if any."""
    value = st.context.cookies.get(_cookie(batch_id))
    return value if isinstance(value, str) else None  # AppTest has no browser: no cookie


def _guest_of(catalog: Catalog, batch_id: str, guest_id: str | None) -> Guest | None:
    if not guest_id:
        return None
    try:
        guest = catalog.guest(guest_id)
    except NotFound:
        return None
    return guest if guest.batch_id == batch_id else None


def current_guest(catalog: Catalog, batch_id: str) -> Guest | None:
    """The guest this browser said it is on ``batch_id``'s page: from the URL, else from its cookie."""
    guest = _guest_of(catalog, batch_id, st.query_params.get(GUEST_PARAM))
    if guest is None and not st.session_state.get(_FORGOTTEN):
        guest = _guest_of(catalog, batch_id, _kept(batch_id))
        if guest is not None:
            st.query_params[GUEST_PARAM] = guest.id  # a reload keeps it from here on
    return guest


def _remember(batch_id: str, guest_id: str | None) -> None:
    """Set (or, with ``None``, clear) the browser's cookie for this batch's guest.

    The script carries only the cookie's name (from the batch id, cleaned) and a random id this
    module made, both JSON-quoted: nothing a visitor typed reaches it.
    """
    value = f"{guest_id or ''}; path=/; max-age={KEEP_DAYS * 86400 if guest_id else 0}; SameSite=Lax"
    script = f"document.cookie = {json.dumps(_cookie(batch_id) + '=' + value)};"
    st.html(f"<script>{script}</script>", unsafe_allow_javascript=True, width="content")


def as_guest(catalog: Catalog, batch_id: str, action: GuestAction) -> None:
    """Run ``action`` as the current guest, or keep it until :func:`who_is_deciding` has asked who they are.

    Called from a button callback; the action itself must be safe to run one draw later.
    """
    guest = current_guest(catalog, batch_id)
    if guest is None:
        st.session_state[_PENDING] = action
        return
    action(guest)


def _forget_waiting_action() -> None:
    st.session_state.pop(_PENDING, None)


def _forget_guest() -> None:
    st.query_params.pop(GUEST_PARAM, None)
    st.session_state[_FORGOTTEN] = True


@st.dialog("Who is deciding?", on_dismiss=_forget_waiting_action)
def _ask(catalog: Catalog, batch_id: str, link_id: str | None) -> None:
    st.write("Tell us who you are, so the studio knows whose decision this is. We ask only once.")
    # A form sends both boxes with the button, so one click is enough (no blur needed first).
    with st.form("guest-form", border=False):
        name = st.text_input("Your name", key="guest-name", max_chars=MAX_NAME)
        email = st.text_input("Your email", key="guest-email", max_chars=MAX_EMAIL, placeholder="name@example.com")
        sent = st.form_submit_button("Continue", type="primary", width="stretch")
    if not sent:
        return
    problem = guest_problem(name, email)
    if problem is not None:
        st.warning(problem)
        return
    guest = catalog.add_guest(
        Guest(
            id=secrets.token_urlsafe(16),
            batch_id=batch_id,
            link_id=link_id,
            name=name.strip(),
            email=email.strip(),
        )
    )
    st.query_params[GUEST_PARAM] = guest.id
    st.session_state.pop(_FORGOTTEN, None)
    action = st.session_state.pop(_PENDING, None)
    if action is not None:
        action(guest)
    st.rerun()  # closes the dialog and draws what the action changed


def who_is_deciding(catalog: Catalog, batch_id: str, link_id: str | None) -> Guest | None:
    """Say who is deciding ("Deciding as NAME · change"), and ask when an action waits for a name.

    Args:
        catalog: Where guests are kept.
        batch_id: The batch of the verified link.
        link_id: The recorded link the guest came through (``None`` for an older link).

    Returns:
        The current guest, or ``None`` before anyone has said who they are.
    """
    guest = current_guest(catalog, batch_id)
    # One line on a phone too (columns would stack "change" under the name), and always drawn,
    # empty or not, so the page's outline below it does not move when a guest is named.
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="guest-line"):
        if guest is not None:
            st.caption(f"Deciding as **{literal(guest.name)}** ({literal(guest.email)}) ·", width="content")
            st.button("change", key="guest-change", type="tertiary", on_click=_forget_guest)
            if _kept(batch_id) != guest.id:
                _remember(batch_id, guest.id)
        elif st.session_state.get(_FORGOTTEN):
            _remember(batch_id, None)
    if guest is None and _PENDING in st.session_state:
        _ask(catalog, batch_id, link_id)
    return guest
