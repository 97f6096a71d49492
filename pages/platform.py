"""Platform: the platform team's view of users, every source (hidden ones too), orphans, and IAM sync with AWS."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from core import actions
from core.adapters.models import User, utcnow
from core.context import Gatehouse
from core.domain import MAX_REASON, GatehouseError, plural
from core.reads import audit_trail, join_requests, platform, queues
from pages.ui import cached, decisions, identity_view, reviews_view, running, signin, widgets
from pages.ui.markup import bold, literal, table

QUEUE_PAGE = 10  # cards a page: each holds a form, and Streamlit slows with many keyed widgets
AUDIT_PAGE = 50  # events a page of the audit trail, newest first

gh = running.gatehouse()
actor = signin.actor()
signin.require(actor.roles.platform_admin, "the platform team")
me = actor.user


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


st.title("Platform")
widgets.flash()
if shown_link := st.session_state.pop(identity_view.SIGN_IN_LINK, None):
    st.code(shown_link, language=None, wrap_lines=True)
if shown_token := st.session_state.pop(identity_view.SCIM_TOKEN, None):
    st.code(shown_token, language=None)


requests_tab, webapp_tab, users_tab, sources_tab, aws_tab, audit_tab, reviews_tab = st.tabs(
    ["Requests", "Webapp sources", "Users", "Data sources", "AWS sync", "Audit trail", "Reviews"],
    key="platform-tab",
    on_change="rerun",
)  # lazy: only the open tab runs

if requests_tab.open:
    with requests_tab:
        waiting = cached.read_page(queues.platform_queue, me, key="platform-queue-page", size=QUEUE_PAGE)
        st.markdown(f"**Access requests for orphaned sources ({waiting.total:,})**")
        if not waiting.total:
            st.caption("No access request waits for the platform team.")
        request = decisions.request_queue(waiting, "platform-queue-page", QUEUE_PAGE, "platform-decide")
        if request is not None:
            with st.container(border=True):
                decisions.request_card(request)
                st.caption(
                    "No line manager on record: check the business need yourself."
                    if request.no_line_manager
                    else "Confirmed by the requester's line manager."
                )
                decisions.decision_form(
                    gh,
                    me,
                    request,
                    "Grant as asked",
                    lambda _, reason: actions.approve_request(gh, me, request.id, reason=reason),
                    lambda _: f"Granted to {request.requester}.",
                    f"Refused {request.requester}'s request.",
                )

if webapp_tab.open:
    with webapp_tab:
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
        if chosen is not None:
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

if users_tab.open:
    with users_tab:
        asking = cached.read(join_requests.open_join_requests, actor.user, limit=50)
        if asking.total:
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
                                filter(
                                    None,
                                    [
                                        f"Added {joiner.user.username}.",
                                        identity_view.told(gh.settings, joiner.sign_in_link),
                                    ],
                                )
                            ),
                        )
                    if dismiss.form_submit_button("Dismiss the request"):
                        widgets.act(
                            gh,
                            lambda r=chosen: actions.dismiss_join_request(gh, me, r.id),
                            lambda r: f"Dismissed {r.identity}'s request to join.",
                        )
        joiner, leaver = st.columns(2)
        # Fresh after a member is added, kept as typed when refused (to put right, not to type again)
        widgets.fresh("add-user", identity_view.ADD_USER_FORM)
        with joiner.form("add-user"):
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
                    lambda joiner: identity_view.added(gh.settings, joiner),
                )
        if gh.settings.sign_in_method == "password":
            widgets.fresh("sign-in-link", {"sign-in-link-username": ""})
            with joiner.form("sign-in-link"):
                st.markdown("**A new sign-in link**")
                st.caption("For a member with no password yet, or who forgot theirs: their earlier link stops.")
                linked = st.text_input("Member's username", key="sign-in-link-username")
                if st.form_submit_button("Make a link"):
                    widgets.act(
                        gh,
                        lambda: actions.new_sign_in_link(gh, me, linked),
                        lambda link: identity_view.linked(gh.settings, link),
                    )
        widgets.fresh("leaver", {"leaver-username": ""})
        with leaver.form("leaver"):
            st.markdown("**Someone has left**")
            leaving = st.text_input("Username", key="leaver-username")
            # The username is checked first (one sentence); only then does a dialog say what marking them does
            if st.form_submit_button("Mark as left…"):
                try:
                    cached.read(actions.leaving, me, leaving)
                except GatehouseError as error:
                    st.error(literal(error))
                else:
                    widgets.ask_to_confirm("leaver")
        leaver_view = (
            widgets.read_to_confirm(lambda: cached.read(actions.leaving, me, leaving))
            if widgets.confirming("leaver")
            else None
        )
        if leaver_view is not None:
            widgets.confirm(
                gh,
                "leaver",
                f"Mark {leaver_view.username} as having left?",
                [
                    f"All of {leaver_view.username}'s access is revoked at once, in AWS too"
                    + (f": {', '.join(leaver_view.sources)}." if leaver_view.sources else " (they have none now)."),
                    *(
                        [f"Orphaned, as they are its only admin: {', '.join(leaver_view.orphaned)}."]
                        if leaver_view.orphaned
                        else []
                    ),
                    "Their open requests are refused; they can no longer sign in.",
                ],
                f"Mark {leaver_view.username} as left",
                lambda: actions.mark_left(gh, me, leaver_view.username),
                lambda gone: left(gone),
            )
        search = st.text_input("Search users", key="platform-user-search")
        found = cached.read(platform.users, actor.user, search=search, limit=200)
        st.caption(
            plural(found.total, "user")
            + (f", first {len(found.items):,} shown" if found.total > len(found.items) else "")
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
        identity_view.teams(actor.user)
        identity_view.scim_tokens(gh, me)

if sources_tab.open:
    with sources_tab:
        left, right = st.columns([3, 1])
        search = left.text_input("Search data sources", key="platform-source-search")
        orphaned_only = right.toggle("Orphaned only", key="platform-orphaned")
        found_sources = cached.read(platform.sources, actor.user, search=search, orphaned_only=orphaned_only, limit=200)
        st.caption(f"{found_sources.total:,} data sources")
        st.dataframe(
            pd.DataFrame(
                {
                    "Data source": [s.name for s in found_sources.items],
                    "Kind": [s.kind.label for s in found_sources.items],
                    "Hidden": [s.hidden for s in found_sources.items],
                    "Admins": [", ".join(s.admins) or "none left (orphaned)" for s in found_sources.items],
                    "Archived": [s.archived for s in found_sources.items],
                }
            ),
            hide_index=True,
            width="stretch",
            key="platform-sources",
        )

if aws_tab.open:
    with aws_tab:
        waiting = cached.read(platform.unapplied_roles, actor.user)
        if waiting:
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
                (st.error if failed else st.success)(
                    f"{len(outcomes) - len(failed):,} applied, {len(failed):,} still failing."
                )
        drift = st.session_state.get("drift")
        if drift:
            st.warning(
                f"Drifted: {plural(len({d.role_name for d in drift}), 'role')}, where IAM differs from Gatehouse."
            )
        elif not waiting and drift == []:
            st.success("Every role's policies are applied in AWS, and IAM matches Gatehouse.")
        elif not waiting:  # nothing waits, but only a drift check reads what IAM has now
            st.info("Nothing waits to be applied in AWS. Check for drift to compare IAM with Gatehouse.")
        st.divider()
        st.markdown("**Drift** — compare every role's live IAM policies with what the database says.")
        if st.button("Check for drift", key="check-drift"):
            st.session_state["drift"] = actions.find_drift(gh, actor.user)
            st.rerun()  # the banner above says what the check found
        if drift is not None:
            if not drift:
                st.success("No drift: AWS matches the database.")
            else:
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


if audit_tab.open:
    with audit_tab:
        # Two rows of filters, each one horizontal container (columns would be a block for the row and one a field)
        with st.container(horizontal=True):
            since = widgets.any_date("From", utcnow().date() - timedelta(days=30), "audit-since")
            until = widgets.any_date("To", utcnow().date(), "audit-until")
            action = st.selectbox("Action", ["(any)", *cached.audit_action_names()], key="audit-action")
            who = st.text_input("Actor", key="audit-who")
        with st.container(horizontal=True, vertical_alignment="bottom"):
            text = st.text_input("Text in the summary", key="audit-text")
            sign_ins = st.checkbox(
                "Show sign-ins", key="audit-sign-ins", help="Sign-ins and sign-outs are most events."
            )
        filters = audit_trail.AuditFilter(
            since=since,
            until=until,
            action=None if action == "(any)" else action,
            actor=who or None,
            text=text or None,
            sign_ins=sign_ins,
        )
        audit_page = widgets.page_number("audit-page", repr(filters))
        try:
            found = cached.read(cached.audit_table, me, filters, offset=audit_page * AUDIT_PAGE, limit=AUDIT_PAGE)
        except GatehouseError as error:  # e.g. a date range that ends before it starts
            st.error(literal(error))
        else:
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
                key=f"audit-table-{audit_page}",
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

if reviews_tab.open:  # access reviews (issue #17): start one, follow them, their reports
    with reviews_tab:
        reviews_view.platform_reviews(gh, me)
