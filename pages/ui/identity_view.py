"""Platform → Users, how members come in: a joiner's way to sign in (a one-time link shown once), the teams (the
identity provider's groups, or made with `gatehouse teams`) and the SCIM tokens it presents to `gatehouse serve`."""

from __future__ import annotations

import streamlit as st

from core import actions
from core.actions import scim_token
from core.actions.sign_in_link import SignInLink, way_in
from core.adapters.models import User
from core.config import Settings
from core.context import Gatehouse
from core.reads import platform
from pages.ui import cached, widgets
from pages.ui.markup import table

SIGN_IN_LINK = "sign-in-link-shown"  # a link just made, shown once (by the page, above its tabs)
SCIM_TOKEN = "scim-token-shown"  # a SCIM token just made, shown once (by the page, above its tabs)
REVOKED = "The token is revoked: whoever presents it is refused from now on."


def told(settings: Settings, link: SignInLink | None) -> str:
    """How the member signs in; their one-time link is kept to be shown once, after the message, as code (copied
    whole: text on a page is escaped for Markdown)."""
    if link is not None:
        st.session_state[SIGN_IN_LINK] = link.url
    return way_in(settings, link)


ADD_USER_FORM = {
    "add-username": "",
    "add-email": "",
    "add-name": "",
    "add-manager": "",
    "add-external": False,
    "add-platform": False,
}


def added(settings: Settings, joiner: actions.Joiner) -> str:
    widgets.succeeded("add-user")  # the next run starts from an empty form
    return " ".join(
        filter(
            None,
            [
                f"Added {joiner.user.username}.",
                told(settings, joiner.sign_in_link),
                "Their role's existing S3 access is kept until import-iam." if joiner.existing_access_kept else "",
            ],
        )
    )


def linked(settings: Settings, link: SignInLink) -> str:
    widgets.succeeded("sign-in-link")  # the next run starts from an empty username
    return told(settings, link)


def teams(me: User) -> None:
    """Each team, where it comes from and who is in it."""
    with st.expander("Teams: your identity provider's groups, or made with `gatehouse teams`"):
        rows = [
            (
                t.name,
                "identity provider" if t.from_identity_provider else "Gatehouse",
                ", ".join(f"{m} (has left)" if m in t.left else m for m in t.members),
            )
            for t in cached.read(platform.teams, me)
        ]
        if rows:
            st.markdown(table(["Team", "From", "Members"], rows))
        else:
            st.caption("No teams yet.")


def scim_tokens(gh: Gatehouse, me: User) -> None:
    """The identity provider's SCIM tokens (`gatehouse serve`): each with its last use; a new one shown this once."""
    with st.expander("SCIM tokens: your identity provider adds, changes and removes members"):
        tokens = scim_token.list_tokens(gh, me)
        if tokens:
            used = [widgets.moment(t.last_used_at) if t.last_used_at else "never" for t in tokens]
            st.markdown(
                table(
                    ["Token", "Made by", "Last used"],
                    [(t.name, t.created_by, u) for t, u in zip(tokens, used, strict=True)],
                )
            )
        widgets.fresh("scim-token", {"scim-token-name": ""})
        with st.form("scim-token"):
            name = st.text_input("Token name", placeholder="entra", key="scim-token-name")
            if st.form_submit_button("Make a token"):
                widgets.act(gh, lambda: scim_token.create_token(gh, me, name), made_token)
        if tokens:
            widgets.fresh("revoke-token", {"scim-token-revoking": None})
            revoking = st.selectbox("Token to revoke", [t.name for t in tokens], index=None, key="scim-token-revoking")
            if revoking is not None:
                widgets.risky_button("Revoke the token", "revoke-token")
                widgets.confirm(
                    gh,
                    "revoke-token",
                    f"Revoke the SCIM token {revoking}?",
                    [
                        "Whatever presents it (your identity provider) is refused from its next request: joiners, "
                        "movers and leavers stop arriving until it is given a new token.",
                        "A revoked token never works again.",
                    ],
                    f"Revoke {revoking}",
                    lambda: scim_token.revoke_token(gh, me, revoking),
                    revoked,
                )


def revoked(_: None) -> str:
    widgets.succeeded("revoke-token")  # the next run offers no token to revoke until one is chosen
    return REVOKED


def made_token(token: str) -> str:
    widgets.succeeded("scim-token")  # the next run starts from an empty name
    st.session_state[SCIM_TOKEN] = token  # shown once, after the message, as code (copied whole)
    return "Give this token to your identity provider now: it is shown this once."
