"""Sign-in through the organisation's identity provider (GATEHOUSE_SIGN_IN=oidc): Streamlit's own st.login, st.user
and st.logout, configured in the [auth] section of .streamlit/secrets.toml. Who the claims name, and whether they
may come in, is core's (core/auth.py); asking to join is core's action (actions.ask_to_join)."""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAuthError

from core import actions, auth
from core.context import Gatehouse
from pages.ui import widgets
from pages.ui.markup import literal

CHECKED = "oidc-signed-in"  # ((iss, sub, fresh), core's OidcSignIn): a browser session's sign-in is recorded once
NOT_SET_UP = (
    "Sign-in through the identity provider is not set up: the [auth] section of .streamlit/secrets.toml is missing "
    "or incomplete (see the README)."
)


def username(gh: Gatehouse, leaving: str | None) -> str:
    """The signed-in member's username; anyone else sees the sign-in page, or the one sentence that refuses them,
    and nothing of the app runs further (st.stop)."""
    claims: dict[str, Any] = dict(st.user.to_dict())
    if "is_logged_in" not in claims:  # Streamlit found no [auth] section
        _page()
        st.error(literal(NOT_SET_UP))
        st.stop()
    if leaving:
        st.session_state.pop(CHECKED, None)
        if claims.get("is_logged_in"):
            gh.run(auth.record_sign_out, leaving)
        _log_out()
    if not claims.get("is_logged_in"):
        st.session_state.pop(CHECKED, None)
        _page()
        if st.button("Sign in", type="primary", key="oidc-sign-in"):
            _log_in()
        st.caption("You sign in with your organisation's account.")
        st.stop()
    # Recorded again when the identity changes, or when its claims grow too old to make anyone platform team.
    seen = (claims.get("iss"), claims.get("sub"), auth.groups_are_fresh(gh.settings, claims))
    kept = st.session_state.get(CHECKED)
    if kept is None or kept[0] != seen:
        kept = st.session_state[CHECKED] = (seen, gh.run(auth.record_oidc_sign_in, gh.settings, claims))
    outcome: auth.OidcSignIn = kept[1]
    if outcome.username:
        if outcome.note:
            st.info(literal(outcome.note))
            if st.button("Sign in again", key="oidc-sign-in-again"):
                _log_in()
        return outcome.username
    _refused(gh, outcome, claims)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def _page() -> None:
    st.title("Gatehouse")
    st.caption("Self-service access to the platform's S3 data sources.")


def _refused(gh: Gatehouse, outcome: auth.OidcSignIn, claims: dict[str, Any]) -> None:
    """One sentence (and, for someone the platform does not know yet, the one click that asks to join)."""
    _page()
    widgets.flash()
    st.warning(literal(outcome.refusal or auth.NOT_A_MEMBER))
    if outcome.may_ask_to_join and st.button("Ask to join", key="ask-to-join"):
        widgets.act(
            gh,
            lambda: actions.ask_to_join(gh, claims),
            lambda asked: (
                "You have already asked: the platform team has your request."
                if asked.already_asked
                else "Your request to join is with the platform team."
            ),
        )
    if st.button("Sign out", key="refused-sign-out"):
        st.session_state.pop(CHECKED, None)
        _log_out()


def _log_in() -> None:
    try:
        st.login()
    except StreamlitAuthError:  # the [auth] section is incomplete: said as one sentence, not a traceback
        st.error(literal(NOT_SET_UP))
        st.stop()


def _log_out() -> None:
    """Streamlit's st.logout: ends this session and the identity cookie, and sends the browser to the provider's
    end of session (when it has one), which brings it back to the sign-in page."""
    st.logout()
    st.stop()
