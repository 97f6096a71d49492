"""The information asset owner's sign-offs (issue #29): data leaving a source, and access review reports."""

import streamlit as st

from core import actions
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import MAX_REASON, day, plural
from core.movement import VERBS
from core.reads import review_signatures
from core.reads.movements import MovementToSign
from core.reads.movements import movements_to_sign as waiting_movements
from core.reads.review_signatures import COUNTS, ReportToSign
from pages.ui import cached, widgets
from pages.ui.markup import bold, literal, table
from pages.ui.widgets import moment

# the form's questions as the movement form asks them (pages/ui/movement_form.py)
QUESTIONS = {
    "description": "What the data is",
    "origin": "Where it comes from",
    "destination": "Where it goes",
    "purpose": "Purpose of the move",
    "classification": "Security classification",
    "personal_data": "Does it hold personal data?",
    "dpia_reference": "DPIA reference",
    "retention": "How long it will be kept",
}


def movements_to_sign(gh: Gatehouse, me: User, heading: str = "Data leaving your sources") -> None:
    """The forms waiting for my sign-off (the platform team's, on Platform → Requests: those whose owner cannot sign
    them)."""
    st.subheader(literal(heading))
    waiting = cached.read(waiting_movements, me)
    if not waiting:
        st.caption("No movement is waiting for your sign-off.")
        return
    st.caption(
        "Each form was completed by the person moving the data: no byte leaves before you sign it, and once signed "
        f"the data may leave for {plural(gh.settings.signed_download_hours, 'hour')}. The oldest first, one at a time."
    )
    # one table of what waits, and one form to read and sign: the page draws the same whatever waits
    st.markdown(
        table(
            ["Form", "Moved by", "What", "From", "To", "Completed"],
            [[str(m.id), m.mover, VERBS[m.kind], m.source, m.target or "", moment(m.created_at)] for m in waiting],
        )
    )
    chosen = waiting[0]
    if len(waiting) > 1:
        chosen = st.selectbox(
            "Form to read and sign",
            waiting,
            format_func=lambda m: literal(f"Form {m.id}: {m.mover}, {VERBS[m.kind]} from {m.source}"),
            key=f"signoff-pick-{heading}",
        )
    _movement(gh, me, chosen)


def _movement(gh: Gatehouse, me: User, movement: MovementToSign) -> None:
    where = f" to {movement.target}" if movement.target else ""
    with st.container(border=True):
        st.markdown(
            f"{bold(f'Form {movement.id}')} · {literal(movement.mover)} · {literal(VERBS[movement.kind])} from "
            f"{literal(movement.source)}{literal(where)} · {moment(movement.created_at)}"
        )
        st.markdown(
            table(
                ["Question", "Answer"],
                [[QUESTIONS.get(name, name), _answer(value)] for name, value in movement.answers.items()],
            )
        )
        key = f"signoff-{movement.id}"
        if st.button("Sign", key=f"{key}-sign", type="primary"):
            widgets.act(
                gh,
                lambda: actions.sign_off_movement(gh, me, movement.id),
                lambda until: f"Signed form {movement.id}: the data may leave until {moment(until)}.",
            )
        reason = st.text_input("Reason to refuse", key=f"{key}-reason", max_chars=MAX_REASON)
        if st.button("Refuse", key=f"{key}-refuse"):
            widgets.act(
                gh,
                lambda: actions.refuse_movement(gh, me, movement.id, reason),
                f"Refused form {movement.id}: no data leaves under it.",
            )


def _answer(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def reports_to_sign(gh: Gatehouse, me: User) -> None:
    st.subheader("Access review reports")
    reports = cached.read(review_signatures.reports_to_sign, me)
    if not reports:
        st.caption("No access review has looked at your sources yet.")
        return
    st.caption(
        "An access review's report of each of your sources: what became of every grant. Your signature keeps what you "
        "saw (these figures, and a fingerprint of the report) beside your name."
    )
    # one table of the reports (signed or not), and one report read and signed at a time: the page draws the same
    st.markdown(
        table(
            ["Review", "Source", "Due", "State", *[name.capitalize() for name in COUNTS], "Signed"],
            [
                [
                    f"Review {r.campaign_id}",
                    r.source,
                    day(r.due_on),
                    r.state,
                    *[r.seen.counts.get(n, 0) for n in COUNTS],
                    f"{r.signed_by} at {moment(r.signed_at)}" if r.signed_at is not None else "not yet",
                ]
                for r in reports
            ],
        )
    )
    unsigned = [r for r in reports if r.signed_at is None]
    if not unsigned:
        st.caption("You have signed every report listed.")
        return
    chosen = unsigned[0]
    if len(unsigned) > 1:
        chosen = st.selectbox(
            "Report to sign",
            unsigned,
            format_func=lambda r: literal(f"Review {r.campaign_id} of {r.source}, due {day(r.due_on)}"),
            key="report-pick",
        )
    _report(gh, me, chosen)


def _report(gh: Gatehouse, me: User, report: ReportToSign) -> None:
    st.caption(
        literal(
            f"Review {report.campaign_id} of {report.source}: "
            + ", ".join(f"{report.seen.counts.get(n, 0)} {n}" for n in COUNTS)
            + ". Your signature keeps these figures and the report's fingerprint."
        )
    )
    key = f"report-{report.campaign_id}-{report.source}"
    if st.button("Sign the report", key=key, type="primary"):
        widgets.act(
            gh,
            lambda: actions.sign_review_report(gh, me, report.campaign_id, report.source, report.seen.sha256),
            f"Signed review {report.campaign_id}'s report of {report.source}.",
        )
