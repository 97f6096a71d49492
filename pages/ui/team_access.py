"""Teams on the pages (issue #28): granting a source to a team (Admin → Manage access, a team picker with member
counts), its grants in Who has access (a row per grant, opened to the members it reaches), changed or revoked under
Edit or revoke; access held through a team on My data; asking for a team of one's own; a team named on a request
being decided; and Platform's view of what each team holds and administers. Every decision is core's: the pages
call the actions (grant_team_access, change_team_access, revoke_team_access, request_access(team=…)) and show what
they say. A team's name is typed by a person (or sent by the identity provider): it is shown as text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from core import actions
from core.actions import provision_team
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import AccessLevel, format_paths, plural
from core.reads import approval, catalog, platform, reviews, team_pages, teams
from core.reads.queues import RequestView
from pages.ui import cached, widgets
from pages.ui.markup import Markdown, literal, table

PEOPLE, A_TEAM = "People", "A team"
TEAMS_SHOWN = 100
TEAM_FORM = {"team-grant-team": None, "team-grant-level": AccessLevel.READ_ONLY, "team-grant-paths": ""}
TEAM_FORM_UNTIL = "team-grant-until"


def members(count: int) -> str:
    return plural(count, "member")


# --- Admin → Manage access → Grant access ---------------------------------------------------------------------------


def grant_to_team(gh: Gatehouse, me: User, source: str) -> bool:
    """The choice of whom to grant, people or a team; True when a team's form was drawn (the people's is not)."""
    chosen = st.radio("Grant to", ["People", "A team"], horizontal=True, key="grant-to")
    if chosen != A_TEAM:
        return False
    team_grant_form(gh, me, source)
    return True


def team_grant_form(gh: Gatehouse, me: User, source: str) -> None:
    """A team found by name (each with its active members counted), a level on paths of the source, until a date:
    every active member holds it through the team, and whoever joins the team later too."""
    search = st.text_input("Find a team", **widgets.kept("team-grant-search"), placeholder="part of its name")
    found = cached.read(teams.team_choices, me, search, limit=TEAMS_SHOWN)
    counts = {t.name: t.members for t in found.items}
    if search.strip() and not counts:
        st.info(literal(f"No team called {search.strip()}: the platform team makes teams."))
    elif not counts:
        st.info("There are no teams yet: the platform team makes them, or your identity provider sends them.")
    elif found.total > len(counts):
        st.caption(f"The first {len(counts):,} of {plural(found.total, 'team')} are listed: find yours by its name.")
    widgets.fresh("team-grant-form", {**TEAM_FORM, TEAM_FORM_UNTIL: None})
    if st.session_state.get("team-grant-team") not in counts:
        st.session_state["team-grant-team"] = None
    with st.form("team-grant-form"):
        team = st.selectbox(
            "Team",
            list(counts),
            index=None,
            format_func=lambda name: f"{name} ({members(counts[name])})",  # options are text, never Markdown
            placeholder="Choose the team to grant access to",
            key="team-grant-team",
        )
        team_slot = st.empty()
        level = st.radio(
            "Access level",
            list(AccessLevel),
            format_func=lambda lvl: lvl.label,
            horizontal=True,
            key="team-grant-level",
            help="Admin makes every active member of the team an admin of the source: the source is never orphaned "
            "while the team has one.",
        )
        paths = widgets.paths_field(
            "Paths (optional)",
            "team-grant-paths",
            "Leave empty for the whole bucket. What the team holds on other paths of the source stays as it is.",
        )
        slots = {"paths": st.empty()}
        until = widgets.end_date(TEAM_FORM_UNTIL)
        slots["until"] = st.empty()
        clicked = st.form_submit_button("Grant access to the team", type="primary")
    if not clicked:
        return
    if team is None:
        team_slot.error("Choose the team to grant access to.")
        return

    def granted(_: Any) -> str:
        widgets.succeeded("team-grant-form")  # the next run starts from a fresh form: a second click grants nothing
        return (
            f"Granted {level.label.lower()} access to the {team} team: its {members(counts[team])} have it, and "
            "whoever joins it."
        )

    widgets.act(gh, lambda: actions.grant_team_access(gh, me, source, team, level, paths, until), granted, slots)


# --- Admin → Manage access → Who has access, Edit or revoke ---------------------------------------------------------


def people(entries: Sequence[catalog.AccessEntry]) -> list[catalog.AccessEntry]:
    """The grants of people and apps (a team's are listed apart, by `team_rows`)."""
    return [e for e in entries if e.team is None]


def team_rows(entries: Sequence[catalog.AccessEntry]) -> None:
    """A row per team grant (team, level, paths, end, members it reaches, AWS), each opened to its members."""
    held = [e for e in entries if e.team is not None]
    if not held:
        return
    st.markdown("**Teams**")
    st.markdown(
        table(
            ["Team", "Access", "Paths", "Ends", "Members", "In AWS"],
            [
                [
                    e.team,
                    e.level.label,
                    format_paths(e.paths),
                    widgets.day(e.expires_on) if e.expires_on else "",
                    members(e.member_count),
                    widgets.aws_state(e.applied, e.apply_error),
                ]
                for e in held
            ],
        )
    )
    for e in held:
        with st.expander(literal(f"The {e.team} team's members ({e.member_count}): {e.level.label.lower()}")):
            if e.members:
                st.text(", ".join(e.members))
            else:
                st.caption("No active member: the grant reaches nobody until someone joins the team.")


def edit_or_revoke_team(gh: Gatehouse, me: User, source: str, entries: Sequence[catalog.AccessEntry]) -> bool:
    """Whose access to edit: a person, or (when a team holds some) a team; True when the team's forms were drawn."""
    held = [e for e in entries if e.team is not None]
    if not held:
        return False
    if st.radio("Edit or revoke the access of", ["People", "A team"], horizontal=True, key="edit-of") != A_TEAM:
        return False
    names = list(dict.fromkeys(e.team or "" for e in held))
    team = st.selectbox("Team", names, index=None, placeholder="Choose whose access to edit", key="edit-team")
    theirs = [e for e in held if e.team == team]
    if team is None or not theirs:
        return True
    entry = theirs[0]
    if len(theirs) > 1:
        described = {e.grant_id: f"{e.level.label} on {format_paths(e.paths)}" for e in theirs}
        chosen = st.selectbox(
            "Which of its access", list(described), format_func=described.__getitem__, key="edit-team-grant"
        )
        entry = next((e for e in theirs if e.grant_id == chosen), entry)
    ident = f"{source}-team-{entry.grant_id}"
    _team_edit_form(gh, me, source, entry, ident)
    _team_revoke(gh, me, source, entry, ident)
    return True


def _team_edit_form(gh: Gatehouse, me: User, source: str, entry: catalog.AccessEntry, ident: str) -> None:
    team = entry.team or ""
    with st.form(f"edit-form-{ident}"):
        level = st.selectbox(
            "Access level",
            list(AccessLevel),
            index=list(AccessLevel).index(entry.level),
            format_func=lambda lvl: lvl.label,
            key=f"edit-level-{ident}",
        )
        paths = widgets.paths_field("Paths", f"edit-paths-{ident}", "Leave empty for the whole bucket.", entry.paths)
        slots = {"paths": st.empty()}
        until = widgets.end_date(f"edit-until-{ident}", entry.expires_on)
        slots["until"] = st.empty()
        saved = st.form_submit_button("Save", type="primary")

    def save() -> Any:
        return actions.change_team_access(gh, me, source, team, entry.grant_id, level, paths, until)

    if saved and entry.level is AccessLevel.ADMIN and level is not AccessLevel.ADMIN:
        widgets.ask_to_confirm(f"demote-{ident}")
    elif saved:
        widgets.act(gh, save, f"Saved the {team} team's access.", slots)
    widgets.confirm(
        gh,
        f"demote-{ident}",
        f"Remove the {team} team as an admin of {source}?",
        [
            f"Its members ({members(entry.member_count)}) no longer decide requests for {source} nor manage who has "
            "access to it through the team; they are told."
        ],
        f"Remove the {team} team as admin",
        save,
        f"Saved the {team} team's access: it is no longer an admin of {source}.",
    )


def _team_revoke(gh: Gatehouse, me: User, source: str, entry: catalog.AccessEntry, ident: str) -> None:
    team = entry.team or ""
    access = f"{entry.level.label.lower()} access to {source}" + (
        f" ({format_paths(entry.paths)})" if entry.paths else ""
    )
    widgets.risky_button("Revoke the team's access", f"revoke-{ident}")
    if not widgets.confirming(f"revoke-{ident}"):
        return
    loses = widgets.read_to_confirm(
        lambda: cached.read(approval.revoke_effect, gh.settings, me, source, entry.grant_id)
    )  # what the team's policy loses, as core's compiler says it
    if loses is None:
        return
    who = ", ".join(entry.members) if entry.members else "nobody now"
    widgets.confirm(
        gh,
        f"revoke-{ident}",
        f"Revoke the {team} team's {access}?",
        [
            *loses,
            f"Every member of the team loses it through the team ({who}); what they hold themselves stays.",
            *(
                [f"They no longer decide requests for {source} nor manage who has access to it through the team."]
                if entry.level is AccessLevel.ADMIN
                else []
            ),
            "They are told.",
        ],
        f"Revoke the {team} team's access",
        lambda: actions.revoke_team_access(gh, me, source, team, entry.paths or None),
        f"Revoked the {team} team's {access}.",
    )


# --- My data, Request access ----------------------------------------------------------------------------------------


def held_as(source: catalog.UsableSource) -> Markdown:
    """The level of access held, and through which team when a team holds it ("Read only, through the prisons
    team")."""
    if source.through is None:
        return literal(source.level.label)
    return literal(f"{source.level.label}, through the {source.through} team")


def own(held: Sequence[catalog.UsableSource]) -> list[catalog.UsableSource]:
    """The access a person holds themselves (what they may give up; a team's is its admins' to revoke)."""
    return [s for s in held if s.through is None]


def for_whom(me: User) -> str | None:
    """In the request form, for the member or for a team they are in (none: no choice to make); the team's name."""
    mine = cached.read(team_pages.my_teams, me)
    if not mine:
        return None
    options = [None, *mine]
    return st.radio(  # type: ignore[no-any-return]
        "For",
        options,
        format_func=lambda name: "me" if name is None else literal(f"the {name} team"),
        horizontal=True,
        key="ask-for-team",
        help="Approved for a team, every member has it through the team, and whoever joins it later.",
    )


def asked_for_team(request: RequestView) -> str:
    """What a request's line says of the team it was made for (empty: for the requester)."""
    return f" · for the {request.team} team" if request.team else ""


def request_for_team(request: RequestView) -> None:
    """A request made for a team, as its decider reads it: approved, the team holds it, reaching its members."""
    if request.team is None:
        return
    reached = cached.read(team_pages.team_reach, request.team)
    st.markdown(
        literal(
            f"For the {request.team} team: approved, the team holds it and its {members(len(reached))} have it "
            "through the team, and whoever joins it later."
        )
    )
    if reached:
        st.text("Members it reaches: " + ", ".join(reached))


# --- Platform → Users → Teams ---------------------------------------------------------------------------------------


def teams_held(gh: Gatehouse, me: User) -> None:
    """One team chosen: its members, what it holds and the sources it administers (a team at a time: hundreds of
    teams hold thousands of grants); and making a team or changing who is in it."""
    with st.expander("Teams' access: what each team holds and the sources it administers"):
        rows = {t.name: t for t in cached.read(platform.teams, me)}
        holding = sum(1 for t in rows.values() if any(not g.archived for g in t.grants))
        st.caption(f"{plural(len(rows), 'team')}, {holding:,} of them holding access.")
        name = st.selectbox(
            "Team", list(rows), index=None, placeholder="Choose a team to see what it holds", key="held-team"
        )
        if name is not None and name in rows:
            _one_team(rows[name])
        _team_members_form(gh, me)


def _one_team(team: platform.TeamRow) -> None:
    active = [m for m in team.members if m not in team.left]
    st.markdown(literal(f"The {team.name} team: {members(len(active))}"))
    st.text(", ".join(active) if active else "Nobody active in it.")
    grants = [
        [g.source, g.level.label, format_paths(g.paths), widgets.day(g.expires_on) if g.expires_on else ""]
        for g in team.grants
        if not g.archived
    ]
    if grants:
        st.markdown(table(["Data source", "Access", "Paths", "Ends"], grants))
    else:
        st.caption("It holds no access: a source's admins grant it under Admin → Manage access.")
    if team.administers:
        st.markdown(literal(f"Administers (every active member is an admin): {', '.join(team.administers)}"))


TEAM_MEMBERS_FORM = {"team-name": "", "team-add": "", "team-remove": ""}


def _team_members_form(gh: Gatehouse, me: User) -> None:
    """Make a team in Gatehouse, or add and remove members of one (for an identity provider that sends no groups)."""
    widgets.fresh("team-members", TEAM_MEMBERS_FORM)
    with st.form("team-members"):
        st.markdown("**Make a team, or change who is in it**")
        name = st.text_input("Team name", key="team-name")
        add = st.text_input("Add members (usernames, separated by spaces or commas)", key="team-add")
        remove = st.text_input("Take out members (usernames)", key="team-remove")
        make, change = st.columns(2)
        made = make.form_submit_button("Make the team")
        changed = change.form_submit_button("Change its members")
    adding, removing = _names(add), _names(remove)
    if made:
        widgets.act(
            gh,
            lambda: provision_team.create_team(gh, me, name, provision_team.member_ids(gh, adding)),
            lambda team: _done(f"Made the {team.name} team ({members(len(team.members))})."),
        )
    if changed:
        widgets.act(
            gh,
            lambda: provision_team.change_members(gh, me, name, add=adding, remove=removing),
            lambda team: _done(f"The {team.name} team: " + (", ".join(n for _, n in team.members) or "nobody") + "."),
        )


def _names(typed: str) -> list[str]:
    return [n for n in typed.replace(",", " ").split() if n]


def _done(message: str) -> str:
    widgets.succeeded("team-members")
    return message


# --- Admin → Review access ------------------------------------------------------------------------------------------


def reviewed_team(row: reviews.ReviewRow) -> None:
    """A team's grant under review is one item: whom keeping it keeps it for, and whom revoking it takes it from."""
    if row.team is None:
        return
    reached = ", ".join(row.members) if row.members else "nobody now"
    st.caption(literal(f"The {row.team} team's grant, reviewed as one item: it reaches {members(len(row.members))}."))
    st.text(f"Members it reaches: {reached}")
