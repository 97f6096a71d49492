"""Platform → Users, how members come in: who asks to join (added or dismissed), a member added, a joiner's way to
sign in (a one-time link shown once), the teams (the identity provider's groups, or made with `gatehouse teams`) and
the SCIM tokens it presents to `gatehouse serve`."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core import actions
from core.actions import scim_token
from core.actions.sign_in_link import SignInLink, way_in
from core.adapters.models import User
from core.config import Settings
from core.context import Gatehouse
from core.reads import join_requests, platform
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


def asking_to_join(gh: Gatehouse, me: User) -> None:
    """Who signed in through the identity provider without being a member: the one chosen added, or dismissed."""
    asking = cached.read(join_requests.open_join_requests, me, limit=50)
    if not asking.total:
        return
    st.markdown(f"**Asking to join** ({asking.total:,}): signed in through the identity provider, not members")
    st.dataframe(
        pd.DataFrame(
            {
                "Identity": [r.identity for r in asking.items],
                "Email": [r.email for r in asking.items],
                "Name": [r.display_name for r in asking.items],
                "Asked": [widgets.moment(r.asked_at) for r in asking.items],
            }
        ),
        hide_index=True,
        width="stretch",
        key="platform-join-requests",
    )
    chosen = widgets.decide_one(asking.items, "join-request", lambda r: r.identity, "Add or dismiss")
    if chosen is not None:
        _join_request_form(gh, me, chosen)


def _join_request_form(gh: Gatehouse, me: User, chosen: join_requests.JoinRequestRow) -> None:
    """One who asked to join: added as a member (bound to the identity that asked), or their request dismissed."""
    with st.form(f"join-{chosen.id}"):
        st.caption("The member is bound to the identity that asked: only it signs in as them.")
        join_name = st.text_input("Username", value=chosen.username)
        join_email = st.text_input("Email", value=chosen.email)
        join_display = st.text_input("Name", value=chosen.display_name)
        join_manager = st.text_input("Line manager's username (optional)")
        join_external = st.checkbox("External user")
        add_member, dismiss = st.columns(2)
        if add_member.form_submit_button("Add as a member", type="primary"):
            widgets.act(
                gh,
                lambda: actions.add_user(
                    gh,
                    me,
                    join_name,
                    join_email,
                    display_name=join_display,
                    line_manager=join_manager if join_manager.strip() else None,
                    external=join_external,
                    join_request=chosen.id,
                ),
                lambda joiner: " ".join(
                    filter(None, [f"Added {joiner.user.username}.", told(gh.settings, joiner.sign_in_link)])
                ),
            )
        if dismiss.form_submit_button("Dismiss the request"):
            widgets.act(
                gh,
                lambda r=chosen: actions.dismiss_join_request(gh, me, r.id),
                lambda r: f"Dismissed {r.identity}'s request to join.",
            )


def add_member_form(gh: Gatehouse, me: User, column: DeltaGenerator) -> None:
    """Add a platform member: fresh after one is added, kept as typed when refused (to put right, not type again)."""
    widgets.fresh("add-user", ADD_USER_FORM)
    with column.form("add-user"):
        st.markdown("**Add a platform member**")
        username = st.text_input("Username (as on GitHub)", key="add-username")
        email = st.text_input("Email", key="add-email")
        display_name = st.text_input("Name", key="add-name")
        manager = st.text_input("Line manager's username (optional)", key="add-manager")
        external = st.checkbox("External user", key="add-external")
        platform_admin = st.checkbox("Platform team", key="add-platform")
        if st.form_submit_button("Add"):
            widgets.act(
                gh,
                lambda: actions.add_user(
                    gh,
                    me,
                    username,
                    email,
                    display_name=display_name,
                    line_manager=manager if manager.strip() else None,
                    external=external,
                    platform_admin=platform_admin,
                ),
                lambda joiner: added(gh.settings, joiner),
            )


def sign_in_link_form(gh: Gatehouse, me: User, column: DeltaGenerator) -> None:
    """A new one-time sign-in link for a member (where members sign in with a password)."""
    widgets.fresh("sign-in-link", {"sign-in-link-username": ""})
    with column.form("sign-in-link"):
        st.markdown("**A new sign-in link**")
        st.caption("For a member with no password yet, or who forgot theirs: their earlier link stops.")
        linked_name = st.text_input("Member's username", key="sign-in-link-username")
        if st.form_submit_button("Make a link"):
            widgets.act(
                gh,
                lambda: actions.new_sign_in_link(gh, me, linked_name),
                lambda link: linked(gh.settings, link),
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
