"""Platform: the platform team's view of users, every source (hidden ones too), orphans, and IAM sync with AWS."""

from datetime import timedelta
from functools import partial

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core import actions
from core.adapters.models import User, utcnow
from core.context import Gatehouse
from core.domain import MAX_REASON, GatehouseError, plural
from core.reads import audit_trail, platform, queues
from pages.ui import (
    cached,
    decisions,
    iao_requests,
    iao_signoffs,
    identity_view,
    reviews_view,
    running,
    signin,
    team_access,
    widgets,
)
from pages.ui.markup import bold, literal, table

QUEUE_PAGE = 10  # cards a page: each holds a form, and Streamlit slows with many keyed widgets
AUDIT_PAGE = 50  # events a page of the audit trail, newest first


def left(gone: actions.Departure) -> str:
    widgets.succeeded("leaver")  # the next run starts from an empty username
    return (
        f"{gone.username} is marked as having left"
        + ("." if gone.sync_error else "; all their access is revoked in AWS.")
        + (f" Now orphaned: {', '.join(gone.orphaned_sources)}." if gone.orphaned_sources else "")
    )


def repair_drift(gh: Gatehouse, me: User, drift: list[actions.Drift]) -> list[actions.Repaired]:
    """Repair, then check again: the banner says what IAM has after the repair, not what it had before."""
    done = actions.repair(gh, drift, me)
    st.session_state["drift"] = actions.find_drift(gh, me)
    return done


def platform_page(gh: Gatehouse, me: User) -> None:
    st.title("Platform")
    widgets.flash()
    if shown_link := st.session_state.pop(identity_view.SIGN_IN_LINK, None):
        st.code(shown_link, language=None, wrap_lines=True)
    if shown_token := st.session_state.pop(identity_view.SCIM_TOKEN, None):
        st.code(shown_token, language=None)
    shows = {
        "Requests": access_requests,
        "Webapp sources": webapp_sources,
        "Users": users,
        "Data sources": data_sources,
        "AWS sync": aws_sync,
        "Audit trail": audit,
        "Reviews": reviews_view.platform_reviews,
    }
    widgets.lazy_tabs({label: partial(show, gh, me) for label, show in shows.items()}, "platform-tab")


def access_requests(gh: Gatehouse, me: User) -> None:
    """Access requests for orphaned sources, which wait for the platform team: one decided at a time, as asked."""
    decisions.decide_queue(
        gh,
        me,
        queues.platform_queue,
        "platform-queue",
        decisions.Decider(
            "Grant as asked",
            lambda request, _, reason: actions.approve_request(gh, me, request.id, reason=reason),
            lambda request, _: f"Granted to {request.requester}.",
            lambda request: f"Refused {request.requester}'s request.",
            note=lambda request: (
                "No line manager on record: check the business need yourself."
                if request.no_line_manager
                else "Confirmed by the requester's line manager."
            ),
        ),
        heading="Access requests for orphaned sources",
        empty="No access request waits for the platform team.",
    )
    # personal data (issue #29): an admin approved, and the information asset owner cannot take their step
    decisions.decide_queue(
        gh,
        me,
        queues.platform_iao_queue,
        "platform-iao-queue",
        iao_requests.owner_decider(gh, me),
        heading="Personal data waiting for the information asset owner's step",
        empty="No request waits for the platform team in an information asset owner's place.",
    )
    iao_signoffs.movements_to_sign(gh, me, "Data leaving personal data whose owner cannot sign it")


def webapp_sources(gh: Gatehouse, me: User) -> None:
    """Webapp data sources asked for: the list, and the one chosen created or refused with a reason."""
    source_asks = cached.read_page(queues.source_requests, me, key="source-asks-page", size=QUEUE_PAGE)
    st.markdown(f"**Webapp data sources asked for ({source_asks.total:,})**")
    if not source_asks.total:
        st.caption("No webapp data source is waiting to be created.")
    else:
        st.markdown(
            table(
                ["Requester", "Bucket", "App", "Asked"],
                [[who, bold(a.bucket_name), a.app_name, widgets.day(a.created_at)] for a, who in source_asks.items],
            )
        )
    widgets.pager(source_asks.total, QUEUE_PAGE, "source-asks-page", what="webapp sources")
    chosen = widgets.decide_one(
        source_asks.items,
        "source-ask-decide",
        lambda pair: f"{pair[1]}: {pair[0].bucket_name} for {pair[0].app_name}",
    )
    if chosen is None:
        return
    ask, requester = chosen
    with st.container(border=True):
        st.markdown(f"{bold(requester)} asks for {bold(ask.bucket_name)} for the app {bold(ask.app_name)}")
        st.text(ask.business_need)
        create, refuse = st.columns(2)
        if create.button("Create it", key=f"create-{ask.id}", type="primary"):
            widgets.act(
                gh,
                lambda a=ask: actions.create_webapp_source(gh, me, a.id or 0),
                f"Created {ask.bucket_name}: {requester} is its admin, {ask.app_name} reads it.",
            )
        with refuse.form(f"source-refuse-{ask.id}"):
            reason = st.text_input(
                "Reason for refusing",
                key=f"source-reason-{ask.id}",
                max_chars=MAX_REASON,
                help=f"The requester reads it. At most {MAX_REASON:,} characters.",
            )
            if st.form_submit_button("Refuse"):
                widgets.act(
                    gh,
                    lambda a=ask, why=reason: actions.refuse_webapp_source(gh, me, a.id or 0, why),
                    "Refused.",
                )


def users(gh: Gatehouse, me: User) -> None:
    """Members: who asks to join, adding one, a new sign-in link, a leaver; every member; teams and SCIM tokens."""
    identity_view.asking_to_join(gh, me)
    joiner, leaver = st.columns(2)
    identity_view.add_member_form(gh, me, joiner)
    if gh.settings.sign_in_method == "password":
        identity_view.sign_in_link_form(gh, me, joiner)
    mark_left(gh, me, leaver)
    members(me)
    identity_view.teams(me)
    team_access.teams_held(gh, me)  # what teams hold and administer; making one (issue #28)
    identity_view.scim_tokens(gh, me)


def mark_left(gh: Gatehouse, me: User, column: DeltaGenerator) -> None:
    """Someone has left: the username is checked first (one sentence); only then does a dialog say what marking
    them does."""
    widgets.fresh("leaver", {"leaver-username": ""})
    with column.form("leaver"):
        st.markdown("**Someone has left**")
        leaving = st.text_input("Username", key="leaver-username")
        if st.form_submit_button("Mark as left…"):
            try:
                cached.read(actions.leaving, me, leaving)
            except GatehouseError as error:
                st.error(literal(error))
            else:
                widgets.ask_to_confirm("leaver")
    if not widgets.confirming("leaver"):
        return
    leaver = widgets.read_to_confirm(lambda: cached.read(actions.leaving, me, leaving))
    if leaver is None:
        return
    widgets.confirm(
        gh,
        "leaver",
        f"Mark {leaver.username} as having left?",
        [
            f"All of {leaver.username}'s access is revoked at once, in AWS too"
            + (f": {', '.join(leaver.sources)}." if leaver.sources else " (they have none now)."),
            *([f"Orphaned, as they are its only admin: {', '.join(leaver.orphaned)}."] if leaver.orphaned else []),
            "Their open requests are refused; they can no longer sign in.",
        ],
        f"Mark {leaver.username} as left",
        lambda: actions.mark_left(gh, me, leaver.username),
        left,
    )


def members(me: User) -> None:
    search = st.text_input("Search users", key="platform-user-search")
    found = cached.read(platform.users, me, search=search, limit=200)
    st.caption(
        plural(found.total, "user") + (f", first {len(found.items):,} shown" if found.total > len(found.items) else "")
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Username": [u.username for u in found.items],
                "Name": [u.display_name for u in found.items],
                "Email": [u.email for u in found.items],
                "Line manager": [u.line_manager or "" for u in found.items],
                "Platform team": [u.platform_admin for u in found.items],
                "External": [u.external for u in found.items],
                "Status": [u.ended.sentence() if u.ended else "active" for u in found.items],
                "Managed by": ["identity provider" if u.from_identity_provider else "" for u in found.items],
            }
        ),
        hide_index=True,
        width="stretch",
        key="platform-users",
    )


def data_sources(gh: Gatehouse, me: User) -> None:
    """Every source, hidden ones too, found by name, orphans alone at a switch."""
    named, switch = st.columns([3, 1])
    search = named.text_input("Search data sources", key="platform-source-search")
    orphaned_only = switch.toggle("Orphaned only", key="platform-orphaned")
    found = cached.read(platform.sources, me, search=search, orphaned_only=orphaned_only, limit=200)
    st.caption(f"{found.total:,} data sources")
    st.dataframe(
        pd.DataFrame(
            {
                "Data source": [s.name for s in found.items],
                "Kind": [s.kind.label for s in found.items],
                "Holds": [s.holds.label for s in found.items],
                "Hidden": [s.hidden for s in found.items],
                "Admins": [", ".join(s.admins) or "none left (orphaned)" for s in found.items],
                "Archived": [s.archived for s in found.items],
            }
        ),
        hide_index=True,
        width="stretch",
        key="platform-sources",
    )


def aws_sync(gh: Gatehouse, me: User) -> None:
    """The roles AWS has not applied yet (retried now at a click), and drift: IAM compared with Gatehouse."""
    waiting = unapplied_roles(gh, me)
    drift = st.session_state.get("drift")
    if drift:
        st.warning(f"Drifted: {plural(len({d.role_name for d in drift}), 'role')}, where IAM differs from Gatehouse.")
    elif not waiting and drift == []:
        st.success("Every role's policies are applied in AWS, and IAM matches Gatehouse.")
    elif not waiting:  # nothing waits, but only a drift check reads what IAM has now
        st.info("Nothing waits to be applied in AWS. Check for drift to compare IAM with Gatehouse.")
    st.divider()
    st.markdown("**Drift** — compare every role's live IAM policies with what the database says.")
    if st.button("Check for drift", key="check-drift"):
        st.session_state["drift"] = actions.find_drift(gh, me)
        st.rerun()  # the banner above says what the check found
    if drift is not None:
        drifted(gh, me, drift)


def unapplied_roles(gh: Gatehouse, me: User) -> bool:
    """The roles not yet applied in AWS, and Retry now; whether any waits."""
    waiting = cached.read(platform.unapplied_roles, me)
    if not waiting:
        return False
    st.warning(f"Not yet applied in AWS: {plural(len(waiting), 'role')}; Gatehouse retries.")
    st.dataframe(
        pd.DataFrame(
            {
                "Role": [r.role_name for r in waiting],
                "State": [r.state.value for r in waiting],
                "Last error": [r.last_error or "" for r in waiting],
                "Attempts": [r.attempts for r in waiting],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    if st.button("Retry now", key="retry-sync"):
        outcomes = actions.retry_pending(gh, me)
        failed = [o for o in outcomes if o.error]
        (st.error if failed else st.success)(f"{len(outcomes) - len(failed):,} applied, {len(failed):,} still failing.")
    return True


def drifted(gh: Gatehouse, me: User, drift: list[actions.Drift]) -> None:
    """What the last drift check found, and its repair after a dialog that says what it undoes."""
    if not drift:
        st.success("No drift: AWS matches the database.")
        return
    st.dataframe(
        pd.DataFrame({"Role": [d.role_name for d in drift], "Difference": [d.what for d in drift]}),
        hide_index=True,
        width="stretch",
    )
    widgets.risky_button("Repair drift…", "repair-drift")
    widgets.confirm(
        gh,
        "repair-drift",
        f"Put {plural(len({d.role_name for d in drift}), 'role')} back to what Gatehouse grants?",
        [*(f"{d.role_name}: {d.repaired}." for d in drift), "Changes made in IAM by hand are undone."],
        "Repair drift",
        lambda: repair_drift(gh, me, drift),
        lambda done: " ".join(f"Repaired {d.sentence}." for d in done),
    )


def audit(gh: Gatehouse, me: User) -> None:
    """The audit trail: filtered, a page at a time, one event read in full, the matching events as CSV."""
    filters = audit_filters()
    number = widgets.page_number("audit-page", repr(filters))
    try:
        found = cached.read(cached.audit_table, me, filters, offset=number * AUDIT_PAGE, limit=AUDIT_PAGE)
    except GatehouseError as error:  # e.g. a date range that ends before it starts
        st.error(literal(error))
        return
    # One caption: the count (the pager says it when there are several pages) and how to read one in full
    st.caption(
        (f"{plural(found.total, 'event')}, newest first" if found.total <= AUDIT_PAGE else "Newest first")
        + " · click a row to read the event in full"
    )
    picked = st.dataframe(
        found.rows,
        hide_index=True,
        width="stretch",
        **widgets.AUDIT_TABLE,
        on_select="rerun",
        selection_mode="single-row",
        key=f"audit-table-{number}",
    )
    chosen = picked.selection.rows if picked is not None else []
    if chosen and chosen[0] < found.rows.num_rows:  # one event in full: long summaries and source names
        event = found.event(chosen[0])
        with st.container(border=True):
            st.text(
                f"{event['When']} · {event['Action']} · by {event['Actor']}"
                + (f" · on {event['Source']}" if event["Source"] else "")
                + (f" · about {event['Subject']}" if event["Subject"] else "")
            )
            st.text(event["Summary"])
    widgets.pager(found.total, AUDIT_PAGE, "audit-page", back="Newer", forward="Older", what="events")

    def audit_csv(chosen: audit_trail.AuditFilter = filters) -> str:
        """Made when the button is clicked (Streamlit calls it outside the page's run): nothing is kept."""
        return cached.read_text(audit_trail.export, me, "csv", chosen)

    st.download_button(
        "Download CSV",
        audit_csv,
        file_name="gatehouse-audit.csv",
        mime="text/csv",
        key="audit-download",
        help="Every event that matches the filters above, oldest first.",
        on_click="ignore",
    )


def audit_filters() -> audit_trail.AuditFilter:
    """The filters, in one horizontal container that wraps them onto a second row where the page is too narrow
    (columns would be a block for the row and one a field; two rows, two blocks)."""
    with st.container(horizontal=True, vertical_alignment="bottom"):
        since = widgets.any_date("From", utcnow().date() - timedelta(days=30), "audit-since")
        until = widgets.any_date("To", utcnow().date(), "audit-until")
        action = st.selectbox("Action", ["(any)", *cached.audit_action_names()], key="audit-action")
        who = st.text_input("Actor", key="audit-who")
        text = st.text_input("Text in the summary", key="audit-text")
        sign_ins = st.checkbox("Show sign-ins", key="audit-sign-ins", help="Sign-ins and sign-outs are most events.")
    return audit_trail.AuditFilter(
        since=since,
        until=until,
        action=None if action == "(any)" else action,
        actor=who or None,
        text=text or None,
        sign_ins=sign_ins,
    )


gh = running.gatehouse()
actor = signin.actor()
signin.require(actor.roles.platform_admin, "the platform team")
platform_page(gh, actor.user)
