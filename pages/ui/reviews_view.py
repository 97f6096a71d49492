"""Access reviews on the pages (issue #17): a reviewer's grants to review (Admin → Review access, and Platform →
Reviews for what only the platform team can review), the platform team's campaigns and their reports, and a holder's
questions on the Inbox page. Every decision is one core action through widgets.act."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pyarrow as pa
import streamlit as st

from core import actions
from core.adapters.models import User, utcnow
from core.context import Gatehouse
from core.domain import MAX_REASON, AccessLevel, format_paths, moment, plural
from core.reads import catalog, review_signatures, reviews
from core.rules.reviews import review_named
from pages.ui import cached, team_access, widgets
from pages.ui.markup import bold, literal, table

REVIEW_PAGE = 25  # grants a page of the Review tab
REPORT_PAGE = 100
QUESTIONS_PAGE = 10
ALL = "All my sources"
ANSWERS = {"yes": "still needed", "no": "no longer needed"}


def _when(at: object) -> str:
    return widgets.day(at) if at else ""  # type: ignore[arg-type]


def review_block(gh: Gatehouse, me: User, key: str, *, as_platform: bool = False) -> None:
    """The grants the reviewer reviews in the open campaigns: progress, one page of them with what helps decide,
    the one to decide now (Keep, Change, Revoke) and Keep the rest."""
    sources = cached.read(reviews.review_sources, me, as_platform=as_platform)
    if not sources:
        st.caption("No access review is open for you." if not as_platform else "Nothing waits for the platform team.")
        return
    chosen = st.selectbox("Data source", [ALL, *sources], key=widgets.restore(f"{key}-source", [ALL, *sources]))
    widgets.keep(f"{key}-source")
    source = None if chosen == ALL else chosen
    pending_only = st.toggle("Only those still to review", key=f"{key}-pending")
    number = widgets.page_number(f"{key}-page", f"{source}\n{pending_only}")
    listed = cached.read(
        reviews.to_review,
        me,
        source,
        as_platform=as_platform,
        pending_only=pending_only,
        offset=number * REVIEW_PAGE,
        limit=REVIEW_PAGE,
    )
    _review_table(listed)
    widgets.pager(listed.total, REVIEW_PAGE, f"{key}-page", what="grants")
    pending = [r for r in listed.items if r.pending and r.grant_id is not None]
    row = _chosen(pending, f"{key}-item")
    if row is not None:
        _decide(gh, me, row, key, _following(pending, row))
    _keep_the_rest(gh, me, key, source, listed.progress.total - listed.progress.reviewed, as_platform)


def _review_table(listed: reviews.ReviewPage) -> None:
    """The progress of the review, and a page of its grants with what helps decide."""
    done = listed.progress
    st.progress(
        done.reviewed / done.total if done.total else 1.0,
        text=f"{done.reviewed:,} of {done.total:,} reviewed" + (f" · {done.flagged:,} overdue" if done.flagged else ""),
    )
    st.dataframe(
        pa.table(  # straight to Arrow, what Streamlit sends: no pandas frame made from a dict at every rerun
            {
                "Source": [r.source for r in listed.items],
                "Who": [r.holder + (" (external)" if r.external else "") for r in listed.items],
                "Access": [r.level.label for r in listed.items],
                "Paths": [format_paths(r.paths) for r in listed.items],
                "Since": [_when(r.since) for r in listed.items],
                "Granted by": [r.granted_by for r in listed.items],
                "Ends": [_when(r.expires_on) for r in listed.items],
                "Last data movement": [_when(r.last_movement) or "none" for r in listed.items],
                "Holder says": [ANSWERS.get(r.holder_answer or "", "") for r in listed.items],
                "Review": [_review_state(r) for r in listed.items],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def _keep_the_rest(gh: Gatehouse, me: User, key: str, source: str | None, remaining: int, as_platform: bool) -> None:
    if not remaining:
        return
    where = f"of {source}" if source else "of all your sources"
    if st.button(
        f"Keep the rest ({remaining:,})",
        key=f"{key}-keep-rest",
        help=f"The {plural(remaining, 'grant')} {literal(where)} still to review are kept as they are.",
    ):
        widgets.act(
            gh,
            lambda: actions.keep_the_rest(gh, me, source, as_platform=as_platform),
            lambda kept: f"Kept the remaining {plural(kept, 'grant')}.",
        )


def _review_state(row: reviews.ReviewRow) -> str:
    if row.ended:
        return row.ended.sentence()
    return row.decision.label if row.decision else "to review"


def _describe(row: reviews.ReviewRow) -> str:
    return f"{row.holder}: {row.level.label.lower()} on {format_paths(row.paths)} of {row.source}"


def _chosen(pending: list[reviews.ReviewRow], key: str) -> reviews.ReviewRow | None:
    """The grant to decide now: none at first while several wait (the table shows them; a first view draws no
    card, issue 26), the one chosen, and after each decision the next still to review (`_then`)."""
    if not pending:
        return None
    if len(pending) == 1:
        return pending[0]
    if (following := st.session_state.pop(f"{key}-next", None)) is not None:
        st.session_state[key] = following
    named = {r.item_id: _describe(r) for r in pending}
    chosen = st.selectbox(
        "Review",
        list(named),
        index=None,
        format_func=named.__getitem__,
        placeholder="Choose a grant to keep, change or revoke",
        key=key,
    )
    return next((r for r in pending if r.item_id == chosen), None)


def _following(pending: list[reviews.ReviewRow], row: reviews.ReviewRow) -> int | None:
    """The grant still to review after `row`: the next in the table, else the first."""
    others = [r.item_id for r in pending if r.item_id != row.item_id]
    later = [r.item_id for r in pending[pending.index(row) + 1 :]]
    return (later or others or [None])[0]


def _then(key: str, following: int | None, said: str) -> Callable[[object], str]:
    """A decision's sentence, with the next grant to review chosen for the next run (a chosen widget cannot be
    changed in the run that drew it)."""

    def done(_: object) -> str:
        st.session_state[f"{key}-item-next"] = following
        return said

    return done


def _decide(gh: Gatehouse, me: User, row: reviews.ReviewRow, key: str, following: int | None) -> None:
    """Keep is one click; Change… and Revoke… open their form (what to lower, or a reason) with Cancel beside it.
    Most grants are kept: a rerun of the tab draws three buttons, not the four fields only a change needs."""
    ident = f"{key}-{row.item_id}"
    step = st.session_state.get(f"{key}-step")
    doing = step[1] if step and step[0] == row.item_id else None  # a step opened for another grant is not this one's
    with st.container(border=True):
        st.markdown(
            f"{bold(row.holder)} has **{row.level.label.lower()}** access to {bold(row.source)} "
            f"({literal(format_paths(row.paths))})"
            + (f", until {widgets.day(row.expires_on)}" if row.expires_on else "")
            + (f". {literal(row.holder)} says: {literal(ANSWERS[row.holder_answer])}." if row.holder_answer else "")
        )
        team_access.reviewed_team(row)  # a team's grant: the members it reaches (issue #28)
        if doing is None:
            _keep_change_or_revoke(gh, me, row, key, ident, _then(key, following, f"Kept {row.holder}'s access."))
        elif doing == "change":
            _change_form(gh, me, row, key, ident, _then(key, following, f"Lowered {row.holder}'s access."))
        else:
            _revoke_form(gh, me, row, key, ident, _then(key, following, f"Revoked {row.holder}'s access."))


def _keep_change_or_revoke(
    gh: Gatehouse, me: User, row: reviews.ReviewRow, key: str, ident: str, kept: Callable[[object], str]
) -> None:
    with st.container(horizontal=True):
        keep = st.button("Keep", type="primary", key=f"review-keep-{ident}")
        st.button("Change…", key=f"review-change-{ident}", on_click=_open_step, args=(key, row, "change"))
        st.button("Revoke…", key=f"review-revoke-{ident}", on_click=_open_step, args=(key, row, "revoke"))
    if keep:
        widgets.act(gh, lambda: actions.review_grant(gh, me, row.item_id, "keep"), kept)


def _change_form(
    gh: Gatehouse, me: User, row: reviews.ReviewRow, key: str, ident: str, lowered: Callable[[object], str]
) -> None:
    """What to lower the grant to: a level no higher, fewer paths, an end date, and why."""
    with st.form(f"review-change-form-{ident}", border=False):
        levels = [lvl for lvl in AccessLevel if lvl.rank <= row.level.rank]
        level = st.selectbox(
            "Level", levels, index=len(levels) - 1, format_func=lambda lvl: lvl.label, key=f"rl-{ident}"
        )
        paths = widgets.paths_field("Paths", f"rp-{ident}", "Fewer paths, or none.", row.paths)
        until = widgets.end_date(f"ru-{ident}", row.expires_on)
        reason = _reason(ident)
        with st.container(horizontal=True):
            change = st.form_submit_button("Save change", type="primary")
            st.form_submit_button("Cancel", on_click=_close_step, args=(key,))
    if change:
        widgets.act(
            gh,
            lambda: actions.review_grant(gh, me, row.item_id, "change", level, paths, until, reason),
            lowered,
        )


def _revoke_form(
    gh: Gatehouse, me: User, row: reviews.ReviewRow, key: str, ident: str, revoked: Callable[[object], str]
) -> None:
    with st.form(f"review-revoke-form-{ident}", border=False):
        reason = _reason(ident)
        with st.container(horizontal=True):
            revoke = st.form_submit_button(f"Revoke {literal(row.holder)}'s access", type="primary")
            st.form_submit_button("Cancel", on_click=_close_step, args=(key,))
    if revoke:
        widgets.act(
            gh,
            lambda: actions.review_grant(gh, me, row.item_id, "revoke", reason=reason),
            revoked,
        )


def _reason(ident: str) -> str:
    return st.text_input(
        "Reason (optional)",
        key=f"rr-{ident}",
        max_chars=MAX_REASON,
        help=f"Kept in the review's report. At most {MAX_REASON:,} characters.",
    )


def _open_step(key: str, row: reviews.ReviewRow, what: str) -> None:
    st.session_state[f"{key}-step"] = (row.item_id, what)


def _close_step(key: str) -> None:
    st.session_state.pop(f"{key}-step", None)


def platform_reviews(gh: Gatehouse, me: User) -> None:
    """Start a campaign; the campaigns with their progress; a campaign's report (and its CSV); and the grants only the
    platform team can review."""
    _start_review(gh, me)
    listed = cached.read(reviews.campaigns, me, limit=50)
    if not listed.items:
        st.caption("No access review yet.")
        return
    _campaigns(listed.items)
    _report(me, [c.id for c in listed.items])
    st.divider()
    st.markdown("**Grants only the platform team can review** (orphaned sources, and a source's only admin)")
    review_block(gh, me, "platform-review", as_platform=True)


def _start_review(gh: Gatehouse, me: User) -> None:
    with st.form("review-start"):
        st.markdown("**Start an access review**")
        due = widgets.any_date(
            "Due date", utcnow().date() + timedelta(days=28), "review-due", help="After today, within a year."
        )
        scope = st.multiselect(
            "Sources (none: every source)", cached.read(catalog.source_names, me, limit=500), key="review-scope"
        )
        if st.form_submit_button("Start review", type="primary"):
            widgets.act(
                gh,
                lambda: actions.start_review(gh, me, due, scope or None),
                lambda s: (
                    f"Started the {review_named(s.due_on)}: {plural(s.grants, 'grant')} of "
                    f"{plural(s.holders, 'person', 'people')}."
                ),
            )


def _campaigns(campaigns: list[reviews.CampaignRow]) -> None:
    """The campaigns with their progress, the overdue ones said first."""
    overdue = [c for c in campaigns if c.overdue]
    if overdue:
        st.warning(
            f"Overdue: {plural(len(overdue), 'access review')}; grants nobody reviewed by the due date are flagged."
        )
    st.markdown(
        table(
            ["Review", "Started", "By", "Due", "Sources", "Progress", "State"],
            [
                [
                    f"{c.id:d}",
                    _when(c.started_at),
                    c.started_by,
                    _when(c.due_on),
                    c.scope,
                    c.progress.text,
                    c.state.value,
                ]
                for c in campaigns
            ],
        )
    )


def _report(me: User, campaign_ids: list[int]) -> None:
    """The chosen campaign's report, a page at a time, and all of it as CSV."""
    campaign = st.selectbox(
        "Report of review", campaign_ids, key="review-report", format_func=lambda n: f"Review {n:d}"
    )
    number = widgets.page_number("review-report-page", str(campaign))
    rows = cached.read(reviews.report, me, campaign, offset=number * REPORT_PAGE, limit=REPORT_PAGE)
    st.dataframe(
        {name.replace("_", " ").capitalize(): [r[name] for r in rows.items] for name in reviews.REPORT_FIELDS[1:]},
        hide_index=True,
        width="stretch",
        key="review-report-table",
    )
    widgets.pager(rows.total, REPORT_PAGE, "review-report-page", what="grants")

    def report_csv(chosen: int = campaign) -> str:
        """Made when the button is clicked: nothing is kept."""
        return cached.read_text(reviews.report_csv, me, chosen)

    st.download_button(
        "Download the report (CSV)",
        report_csv,
        file_name=f"gatehouse-review-{campaign}.csv",
        mime="text/csv",
        key="review-download",
        on_click="ignore",
    )
    _signatures(me, campaign)


def _signatures(me: User, campaign: int) -> None:
    """Per source of the campaign: whether its information asset owner signed its report (by whom, when)."""
    signed = cached.read(review_signatures.signatures, me, campaign)
    st.markdown(
        table(
            ["Source", "Information asset owner", "Report signed"],
            [
                [
                    s.source,
                    s.iao or "none (not personal data)",
                    f"by {s.signed_by} at {moment(s.signed_at)}"
                    if s.signed_at
                    else ("not signed" if s.iao else "no signature needed"),
                ]
                for s in signed
            ],
        )
    )


def holder_questions(gh: Gatehouse, me: User) -> None:
    """On the Inbox page: for each of the holder's grants under review, do they still need it?"""
    asked = cached.read_page(reviews.my_questions, me, key="questions-page", size=QUESTIONS_PAGE)
    if not asked.total:
        return
    st.subheader("Do you still need this access?", help="An access review asks each holder of the access it reviews.")
    # One table and one pair of buttons for the page of questions: a rerun draws the same few elements however many
    # grants are asked about.
    st.markdown(
        table(
            ["Data source", "Access", "Paths", "Answer by"],
            [[bold(q.source), q.level.label, format_paths(q.paths), widgets.day(q.due_on)] for q in asked.items],
        )
    )
    question = asked.items[0]
    if len(asked.items) > 1:
        named = {q.item_id: f"{q.source}: {q.level.label.lower()} on {format_paths(q.paths)}" for q in asked.items}
        chosen = st.selectbox("Which access", list(named), format_func=named.__getitem__, key="question-pick")
        question = next((q for q in asked.items if q.item_id == chosen), question)
    with st.container(horizontal=True):
        if st.button(
            "Yes, still needed",
            key="still-needed",
            help="The source's admins see your answer beside the access they review.",
        ):
            widgets.act(
                gh,
                lambda q=question: actions.answer_review(gh, me, q.item_id, True),
                f"Thank you: the admins of {question.source} see that you still need it.",
            )
        widgets.risky_button("No longer needed", "no-longer-needed")
    widgets.confirm(
        gh,
        "no-longer-needed",
        f"End your access to {question.source}?",
        [
            f"Your {question.level.label.lower()} access to {format_paths(question.paths)} ends now, in AWS too.",
            f"The admins of {question.source} see your answer; to have it again you would ask for it.",
        ],
        "End my access",
        lambda q=question: actions.answer_review(gh, me, q.item_id, False),
        f"Your access to {question.source} is revoked.",
    )
    widgets.pager(asked.total, QUESTIONS_PAGE, "questions-page", what="grants")
