"""Platform: the platform team's view of users, every source (hidden ones too), orphans, and IAM sync with AWS."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from core import actions
from core.actions import scim_token
from core.actions.sign_in_link import SignInLink, way_in
from core.adapters.models import User, utcnow
from core.config import Settings
from core.context import Gatehouse
from core.domain import MAX_REASON, GatehouseError
from core.reads import audit_trail, join_requests, platform, queues
from pages import cached, decisions, reviews_view, running, signin, widgets
from pages.markup import bold, literal, table

QUEUE_PAGE = 10  # cards a page: each holds a form, and Streamlit slows with many keyed widgets
AUDIT_PAGE = 50  # events a page of the audit trail, newest first
SIGN_IN_LINK = "sign-in-link-shown"  # a link just made, shown once
SCIM_TOKEN = "scim-token-shown"  # a SCIM token just made, shown once
REVOKED = "The token is revoked: whoever presents it is refused from now on."

gh = running.gatehouse()
actor = signin.actor()
signin.require(actor.roles.platform_admin, "the platform team")
me = actor.user


def told(settings: Settings, link: SignInLink | None) -> str:
    """How the member signs in; their one-time link is kept to be shown once, after the message, as code (copied
    whole: text on a page is escaped for Markdown)."""
    if link is not None:
        st.session_state[SIGN_IN_LINK] = link.url
    return way_in(settings, link)


st.title("Platform")
widgets.flash()
if shown_link := st.session_state.pop(SIGN_IN_LINK, None):
    st.code(shown_link, language=None, wrap_lines=True)
if shown_token := st.session_state.pop(SCIM_TOKEN, None):
    st.code(shown_token, language=None)


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
        with st.form("scim-token", clear_on_submit=True):
            name = st.text_input("Token name", placeholder="entra")
            made, revoked = st.columns(2)
            if made.form_submit_button("Make a token"):
                widgets.act(gh, lambda: scim_token.create_token(gh, me, name), made_token)
            if revoked.form_submit_button("Revoke it"):
                widgets.act(gh, lambda: scim_token.revoke_token(gh, me, name), lambda _: REVOKED)


def made_token(token: str) -> str:
    st.session_state[SCIM_TOKEN] = token  # shown once, after the message, as code (copied whole)
    return "Give this token to your identity provider now: it is shown this once."


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
                        "Asked": [r.asked_at for r in asking.items],
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
                                    [f"Added {joiner.user.username}.", told(gh.settings, joiner.sign_in_link)],
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
        with joiner.form("add-user", clear_on_submit=True):
            st.markdown("**Add a platform member**")
            username = st.text_input("Username (as on GitHub)")
            email = st.text_input("Email")
            display_name = st.text_input("Name")
            manager = st.text_input("Line manager's username (optional)")
            external = st.checkbox("External user")
            platform_admin = st.checkbox("Platform team")
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
                    lambda joiner: " ".join(
                        filter(
                            None,
                            [
                                f"Added {joiner.user.username}.",
                                told(gh.settings, joiner.sign_in_link),
                                "Their role's existing S3 access is kept until import-iam."
                                if joiner.existing_access_kept
                                else "",
                            ],
                        )
                    ),
                )
        if gh.settings.sign_in_method == "password":
            with joiner.form("sign-in-link", clear_on_submit=True):
                st.markdown("**A new sign-in link**")
                st.caption("For a member with no password yet, or who forgot theirs: their earlier link stops.")
                linked = st.text_input("Member's username", key="sign-in-link-username")
                if st.form_submit_button("Make a link"):
                    widgets.act(
                        gh,
                        lambda: actions.new_sign_in_link(gh, me, linked),
                        lambda link: told(gh.settings, link),
                    )
        with leaver.form("leaver"):
            st.markdown("**Someone has left**")
            leaving = st.text_input("Username")
            sure = st.checkbox("Revoke all their access now")
            if st.form_submit_button("Mark as left"):
                if not sure:
                    st.error("Tick the box to confirm: all their access is revoked at once.")
                else:
                    widgets.act(
                        gh,
                        lambda: actions.mark_left(gh, me, leaving),
                        lambda gone: (
                            f"{gone.username} is marked as having left"
                            + ("." if gone.sync_error else "; all their access is revoked in AWS.")
                            + (f" Now orphaned: {', '.join(gone.orphaned_sources)}." if gone.orphaned_sources else "")
                        ),
                    )
        search = st.text_input("Search users", key="platform-user-search")
        found = cached.read(platform.users, actor.user, search=search, limit=200)
        st.caption(
            f"{found.total:,} users" + (f", first {len(found.items):,} shown" if found.total > len(found.items) else "")
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
        with st.expander("Teams: your identity provider's groups, or made with `gatehouse teams`"):
            rows = [
                (t.name, "identity provider" if t.from_identity_provider else "Gatehouse", ", ".join(t.members))
                for t in cached.read(platform.teams, actor.user)
            ]
            if rows:
                st.markdown(table(["Team", "From", "Members"], rows))
            else:
                st.caption("No teams yet.")
        scim_tokens(gh, me)

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
            st.warning(f"{len(waiting):,} role(s) are not yet applied in AWS; Gatehouse retries them.")
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
            st.warning(f"{len({d.role_name for d in drift}):,} role(s) have drifted: IAM differs from Gatehouse.")
        elif not waiting and drift == []:
            st.success("Every role's policies are applied in AWS, and IAM matches Gatehouse.")
        elif not waiting:  # nothing waits, but only a drift check reads what IAM has now
            st.info("Nothing waits to be applied in AWS. Check for drift to compare IAM with Gatehouse.")
        st.divider()
        st.markdown("**Drift** — compare every role's live IAM policies with what the database says.")
        if st.button("Check for drift", key="check-drift"):
            st.session_state["drift"] = actions.find_drift(gh, actor.user)
            st.session_state.pop("repaired", None)
            st.rerun()  # the banner above says what the check found
        for done in st.session_state.get("repaired", []):
            st.success(literal(f"Repaired {done.sentence}."))
        if drift is not None:
            if not drift:
                st.success("No drift: AWS matches the database.")
            else:
                st.dataframe(
                    pd.DataFrame({"Role": [d.role_name for d in drift], "Difference": [d.what for d in drift]}),
                    hide_index=True,
                    width="stretch",
                )
                if st.button("Repair drift", type="primary", key="repair-drift"):
                    st.session_state["repaired"] = actions.repair(gh, drift, actor.user)
                    st.session_state["drift"] = actions.find_drift(gh, actor.user)
                    st.rerun()


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
                (f"{found.total:,} events, newest first" if found.total <= AUDIT_PAGE else "Newest first")
                + " · click a row to read the event in full"
            )
            picked = st.dataframe(
                found.rows,
                hide_index=True,
                width="stretch",
                column_config={"Summary": st.column_config.TextColumn(width="large")},
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
                return gh.run(lambda session: "".join(audit_trail.export(session, me, "csv", chosen)))

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
