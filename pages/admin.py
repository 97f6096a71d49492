"""Admin: decide requests for my sources, manage who has access at which level and on which paths, see the
audit trail, archive a source."""

from typing import Any

import streamlit as st

from core import actions
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import AccessLevel, InvalidInput, format_paths, plural
from core.paths import Paths
from core.reads import approval, audit_trail, catalog, page, queues
from pages.ui import cached, decisions, reviews_view, running, signin, source_classification, team_access, widgets
from pages.ui.markup import literal, table

ACCESS_PAGE = 25
SOURCES_SHOWN = 50


# The grant form as a fresh one has it: set (not forgotten) so that the browser shows it so too
GRANT_FORM = {
    "grant-users": [],
    "grant-level": AccessLevel.READ_ONLY,
    "grant-paths": "",
    "grant-until": None,
    "grant-external": False,
}


def granted(level: AccessLevel, recorded: list[str]) -> str:
    widgets.succeeded("grant-form")
    return f"Granted {level.label.lower()} access to {', '.join(recorded)}."


def _who_search() -> str:
    """What "Find who has access" holds, also while its tab is closed (widgets.kept)."""
    return str(st.session_state.get(widgets.restore("access-search")) or "")


def access_page(me: User, source: str) -> page.Page[catalog.AccessEntry]:
    """The page of the source's access list that Who has access shows (and Edit or revoke picks from)."""
    search = _who_search()
    number = widgets.page_number("access-page", f"{source}\n{search}")  # the first page of another source or search
    listed = cached.read(catalog.access_list, me, source, search=search, offset=number * ACCESS_PAGE, limit=ACCESS_PAGE)
    if not listed.items and number > 0:  # past the end (the last grant of the last page was revoked): the last page
        st.session_state["access-page"] = number = max(0, (listed.total - 1) // ACCESS_PAGE)
        listed = cached.read(
            catalog.access_list, me, source, search=search, offset=number * ACCESS_PAGE, limit=ACCESS_PAGE
        )
    return listed


def edit_or_revoke(gh: Gatehouse, me: User, source: str) -> None:
    """One person's grant on the source (of those Who has access lists): change it in place, or revoke it after a
    dialog that says what their role loses. Nobody is chosen at first: it never opens on the admin themself."""
    if team_access.edit_or_revoke_team(gh, me, source, access_page(me, source).items):
        return  # a team's grant (issue #28)
    entry = _chosen_grant(me, source)
    if entry is None:
        return
    # Keyed by the grant: another grant's form starts from its own access, not the last one's
    ident = f"{source}-{entry.grant_id}"
    _edit_form(gh, me, source, entry, ident)
    _revoke(gh, me, source, entry, ident)


def _chosen_grant(me: User, source: str) -> catalog.AccessEntry | None:
    """The grant chosen to edit or revoke: a person first, then which of their grants when they hold several."""
    people = [e for e in team_access.people(access_page(me, source).items) if not e.principal.startswith("app:")]
    if not people:
        st.caption("Nobody to edit: find them in Who has access first." if _who_search() else "Nobody to edit.")
        return None
    person = st.selectbox(
        "User",
        list(dict.fromkeys(e.principal for e in people)),
        index=None,
        placeholder="Choose whose access to edit or revoke",
        key="edit-user",
    )
    theirs = [e for e in people if e.principal == person]  # several: levels on separate paths
    if person is None or not theirs:
        return None
    if len(theirs) == 1:
        return theirs[0]
    described = {e.grant_id: f"{e.level.label} on {format_paths(e.paths)}" for e in theirs}
    chosen = st.selectbox("Which of their access", list(described), format_func=described.__getitem__, key="edit-grant")
    return next((e for e in theirs if e.grant_id == chosen), theirs[0])


def _edit_form(gh: Gatehouse, me: User, source: str, entry: catalog.AccessEntry, ident: str) -> None:
    """The grant's level, paths and end date, saved in place; removing an admin is asked first, as revoking is."""
    person = entry.principal
    source_classification.terms_caption(gh, me, source)
    with st.form(f"edit-form-{ident}"):
        level = st.selectbox(
            "Access level",
            list(AccessLevel),
            index=list(AccessLevel).index(entry.level),
            format_func=lambda lvl: lvl.label,
            key=f"edit-level-{ident}",
        )
        paths = widgets.paths_field("Paths", f"edit-paths-{ident}", "Leave empty for the whole bucket.", entry.paths)
        slots = {"paths": st.empty()}  # what core refuses in a field is said under it, all at once
        until = widgets.end_date(f"edit-until-{ident}", entry.expires_on)
        slots["until"] = st.empty()
        saved = st.form_submit_button("Save", type="primary")

    def save() -> Any:
        return actions.change_access(gh, me, source, person, entry.grant_id, level, paths, until)

    if saved and entry.level is AccessLevel.ADMIN and level is not AccessLevel.ADMIN:
        widgets.ask_to_confirm(f"demote-{ident}")
    elif saved:
        widgets.act(gh, save, f"Saved {person}'s access.", slots)
    widgets.confirm(
        gh,
        f"demote-{ident}",
        f"Remove {person} as an admin of {source}?",
        [
            _keeps(person, level, paths, source),
            f"{person} no longer decides requests for {source} nor manages who has access to it; {person} is told.",
        ],
        f"Remove {person} as admin",
        save,
        f"Saved {person}'s access: {person} is no longer an admin of {source}.",
    )


def _keeps(person: str, level: AccessLevel, typed: str, source: str) -> str:
    """What a demoted admin keeps, said as it will be stored: the paths as core reads what was typed (an S3 address
    as its path, a folder's closing slash dropped); text core refuses is refused at the click, so it is shown as
    typed."""
    try:
        paths = Paths.parse(typed, source)
    except InvalidInput:
        paths = Paths(line.strip() for line in typed.splitlines() if line.strip())
    return f"{person} keeps {level.label.lower()} access to " + (f"{paths}." if paths else f"the whole of {source}.")


def _revoke(gh: Gatehouse, me: User, source: str, entry: catalog.AccessEntry, ident: str) -> None:
    """Revoke the grant, after a dialog that says what the person's role loses."""
    person = entry.principal
    access = f"{entry.level.label.lower()} access to {source}" + (
        f" ({format_paths(entry.paths)})" if entry.paths else ""
    )
    widgets.risky_button("Revoke access", f"revoke-{ident}")
    if not widgets.confirming(f"revoke-{ident}"):
        return
    loses = widgets.read_to_confirm(
        lambda: cached.read(approval.revoke_effect, gh.settings, me, source, entry.grant_id)
    )
    if loses is None:
        return
    if entry.level is AccessLevel.ADMIN:
        loses = [*loses, f"{person} no longer decides requests for {source} nor manages who has access to it."]
    widgets.confirm(
        gh,
        f"revoke-{ident}",
        f"Revoke {person}'s {access}?",
        [*loses, f"{person} is told."],
        f"Revoke {person}'s access",
        lambda: actions.revoke_access(gh, me, source, person, entry.paths or None),
        f"Revoked {person}'s {access}.",
    )


def manage_access(gh: Gatehouse, me: User) -> None:
    """Who has access to one of my sources, and granting, editing, revoking, the audit trail and archiving."""
    source = _chosen_source(me)
    if source is None:
        return
    widgets.lazy_tabs(  # the grant form's eight widgets are not built at every rerun of the list
        {
            "Who has access": lambda: _who_has_access(me, source),
            "Grant access": lambda: _grant_access(gh, me, source),
            "Edit or revoke": lambda: edit_or_revoke(gh, me, source),
            "Personal data": lambda: source_classification.personal_data_form(gh, me, source),  # issue #29
            "Audit trail": lambda: _audit_trail(me, source),
            "Archive": lambda: _archive(gh, me, source),
        },
        "admin-tab",
        kept=True,
    )


def _chosen_source(me: User) -> str | None:
    """The one of my sources to manage (found by a search once I administer more than are listed); None: none."""
    administered = cached.read(
        catalog.administered_source_names, me, search=st.session_state.get("manage-search", ""), limit=SOURCES_SHOWN
    )
    if administered.total > SOURCES_SHOWN or st.session_state.get("manage-search"):
        st.text_input(
            "Find one of your sources",
            **widgets.kept("manage-search"),
            placeholder="Type part of its name",
            help=f"You administer {plural(administered.total, 'source')}: the first {SOURCES_SHOWN:,} that match are "
            "listed.",
        )
    if not administered.items:
        if st.session_state.get("manage-search"):
            st.caption("None of your sources matches.")
        return None
    names = administered.items
    return st.selectbox("Data source", names, **widgets.kept("manage-source", names))


def _who_has_access(me: User, source: str) -> None:
    st.text_input("Find who has access", **widgets.kept("access-search"), placeholder="username, app or team")
    listed = access_page(me, source)
    if not listed.items:
        st.caption("Nobody matches." if _who_search() else "Nobody has access yet.")
    elif team_access.people(listed.items):
        st.markdown(
            table(
                ["User", "Access", "Paths", "Ends", "In AWS"],
                [
                    [
                        e.principal + (" (left)" if e.ended else ""),
                        e.level.label,
                        format_paths(e.paths),
                        widgets.day(e.expires_on) if e.expires_on else "",
                        widgets.aws_state(e.applied, e.apply_error, e.ended),
                    ]
                    for e in team_access.people(listed.items)
                ],
            )
        )
    team_access.team_rows(listed.items)  # a row per team grant, opened to its members (issue #28)
    widgets.pager(listed.total, ACCESS_PAGE, "access-page", what="grants")


def _grant_access(gh: Gatehouse, me: User, source: str) -> None:
    """Grant platform members found by a search a level on paths of the source, until a date (or a team)."""
    if team_access.grant_to_team(gh, me, source):
        return
    search = st.text_input("Find platform members", **widgets.kept("grant-search"), placeholder="username or name")
    # Never the admin themself (their own access is theirs to give up, not to grant), never "select all"
    candidates = [name for name in cached.read(catalog.user_names, search, limit=101) if name != me.username]
    if search.strip() and not candidates:
        st.info(literal(f"No platform member called {search.strip()}: the platform team adds members."))
    widgets.fresh("grant-form", GRANT_FORM)  # after a grant: a second click grants nothing again
    source_classification.terms_caption(gh, me, source)  # personal data: an end date, named paths (issue #29)
    with st.form("grant-form"):
        who = st.multiselect("Users (platform members only)", candidates[:100], key="grant-users", select_all=False)
        level = st.radio(
            "Access level", list(AccessLevel), format_func=lambda lvl: lvl.label, horizontal=True, key="grant-level"
        )
        paths = widgets.paths_field(
            "Paths (optional)",
            "grant-paths",
            "Leave empty for the whole bucket. Their access on other paths of the source stays as it is: a "
            "person may read one path and write another.",
        )
        slots = {"paths": st.empty()}  # what core refuses in a field is said under it, all at once
        until = widgets.end_date("grant-until")
        slots["until"] = st.empty()
        confirm_external = st.checkbox(
            "I confirm that external users among them should have this access",
            help="External users need this confirmation, and can never be admins.",
            key="grant-external",
        )
        if st.form_submit_button("Grant access", type="primary"):
            widgets.act(
                gh,
                lambda: actions.grant_access(
                    gh, me, source, who, level, paths, until, confirm_external=confirm_external
                ),
                lambda outcome: granted(level, outcome.recorded),
                slots,
            )


def _audit_trail(me: User, source: str) -> None:
    trail = cached.read(cached.audit_table, me, audit_trail.AuditFilter(source=source), limit=100)
    st.caption(plural(trail.total, "event") + (", newest 100 shown" if trail.total > 100 else ""))
    if trail.total:  # summaries hold what people typed: shown as text, in a table that renders no Markdown
        events = trail.rows.select(["When", "Actor", "Summary"])
        st.dataframe(events, hide_index=True, width="stretch", **widgets.AUDIT_TABLE)


def _archive(gh: Gatehouse, me: User, source: str) -> None:
    st.caption(
        "Archiving ends every grant on this source in IAM and refuses open requests; the bucket is tagged "
        "for archiving and its data and records are kept."
    )
    widgets.risky_button("Archive data source", f"archive-{source}")
    if not widgets.confirming(f"archive-{source}"):
        return
    holders = cached.read(catalog.access_list, me, source, limit=1).total
    widgets.confirm(
        gh,
        f"archive-{source}",
        f"Archive {source}?",
        [
            f"Every grant on it ends in IAM: {holders:,} "
            + ("holder loses" if holders == 1 else "holders lose")
            + " their access, you too.",
            "Its open requests are refused.",
            "The bucket is tagged for archiving; its data and records are kept.",
        ],
        f"Archive {source}",
        lambda: actions.archive_source(gh, me, source),
        f"{source} is archived.",
    )


def requests_to_decide(gh: Gatehouse, me: User) -> None:
    """The requests for my sources waiting for me, one decided at a time; the approver may grant less than asked."""
    decisions.decide_queue(
        gh,
        me,
        queues.admin_queue,
        "admin-queue",
        decisions.Decider(
            "Approve",
            lambda request, terms, reason: actions.approve_request(
                gh, me, request.id, terms.level, terms.paths, terms.until, reason=reason
            ),
            lambda request, terms: (
                f"Approved: {request.requester} has {terms.level.label.lower()} access to {request.source}."
            ),
            lambda request: f"Refused {request.requester}'s request; they are told why.",
            adjustable=True,
        ),
        heading="Requests to decide",
        empty="No request is waiting for you.",
    )


def admin_page(gh: Gatehouse, me: User) -> None:
    st.title("Admin")
    widgets.flash()
    widgets.lazy_tabs(  # what was chosen in Manage access is kept while another is open (widgets.kept)
        {
            "Requests to decide": lambda: requests_to_decide(gh, me),
            "Manage access": lambda: manage_access(gh, me),
            # access reviews (issue #17): the grants of my sources to keep, lower or revoke
            "Review access": lambda: reviews_view.review_block(gh, me, "admin-review"),
        },
        "admin-section",
    )


gh = running.gatehouse()
actor = signin.actor()
signin.require(actor.roles.source_admin, "admins of data sources")
admin_page(gh, actor.user)
