"""Request access: ask for access with a business need, follow my requests, create a warehouse source, ask the
platform team for a webapp source, give up access I no longer need."""

from functools import partial

import streamlit as st

from core import actions
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import MAX_BUSINESS_NEED, AccessLevel, RequestStatus, format_paths
from core.reads import catalog, queues
from core.reads.queues import RequestView
from pages.ui import cached, questions_view, running, signin, team_access, widgets
from pages.ui.markup import bold, literal
from pages.ui.source_forms import new_source_forms
from pages.ui.widgets import ASKING_FOR

# Each field of the form as a fresh one has it: set (not forgotten) so that the browser shows it so too.
FRESH = {
    "ask-source": None,
    "ask-level": AccessLevel.READ_ONLY,
    "ask-paths": "",
    "ask-need": "",
    "ask-until": None,
    "ask-for-team": None,
}


def request_access(gh: Gatehouse, me: User) -> None:
    st.title("Request access")
    widgets.flash()
    start_the_form()
    shows = {
        "Ask for access": ask_for_access,
        "My requests": my_requests,
        "New data source": new_source_forms,
        "Give up access": give_up_access,
    }
    widgets.lazy_tabs({label: partial(show, gh, me) for label, show in shows.items()}, "request-tab")


def start_the_form() -> None:
    """The form starts fresh after a request is sent (a second click does not send it twice), or from a source chosen
    on another page (My data, Upload)."""
    preset = st.session_state.pop(ASKING_FOR, None)
    widgets.fresh("ask-form", FRESH)
    if preset:
        st.session_state.update(FRESH)
        st.session_state["ask-search"] = preset["source"]
        st.session_state["ask-source"] = preset["source"]
        st.session_state["ask-level"] = preset["level"]
        st.session_state["ask-paths"] = preset["paths"].text


def ask_for_access(gh: Gatehouse, me: User) -> None:
    search = st.text_input("Find a data source", key="ask-search", placeholder="Type part of its name")
    names = cached.read(catalog.source_names, me, search=search, limit=100)
    holds = cached.read(catalog.source_holdings, me, names)  # personal data said beside its name (issue #29)
    if st.session_state.get("ask-source") not in names:
        st.session_state["ask-source"] = None
    # chosen outside the form, so that what its classification asks is said before sending
    source = st.selectbox(
        "Data source",
        names,
        index=None,
        format_func=lambda name: literal(
            f"{name} ({holds[name].label})" if name in holds and holds[name].classification.is_personal else name
        ),
        placeholder="Choose a data source",
        key="ask-source",
    )
    if source is not None:
        source_rules(gh, me, source)
    with st.form("ask-form"):
        team = team_access.for_whom(me)  # for me, or a team I am in (issue #28)
        level = st.radio(
            "Access level",
            list(AccessLevel),
            format_func=lambda lvl: lvl.label,
            horizontal=True,
            key="ask-level",
            help="Ask for the lowest level you need: read only unless you must write; admin only to manage access.",
        )
        st.caption("Ask only for data you have a genuine business need for, at the lowest level that does the work.")
        paths = widgets.paths_field("Paths (optional)", "ask-paths", "Leave empty for the whole bucket.")
        slots = {"paths": st.empty()}  # what core refuses in a field is said under it, all at once
        need = st.text_area(
            "Business need",
            placeholder="What you will do with this data, and why you need it.",
            key="ask-need",
            max_chars=MAX_BUSINESS_NEED,
            help=f"The admins decide on it. At most {MAX_BUSINESS_NEED:,} characters.",
        )
        slots["need"] = st.empty()
        until = widgets.end_date("ask-until")
        slots["until"] = st.empty()
        submitted = st.form_submit_button("Send request", type="primary")
    if not submitted:
        return
    if source is None:
        st.error("Choose the data source you need.")
        return

    def sent(view: RequestView) -> str:
        widgets.succeeded("ask-form")  # the next run starts from a fresh form
        return f"Request sent for {view.source}: it waits for {view.waits_for}. It is under My requests."

    widgets.act(gh, lambda: actions.request_access(gh, me, source, level, paths, need, until, team=team), sent, slots)


def source_rules(gh: Gatehouse, me: User, source: str) -> None:
    """A source holding personal data: its classification and what it asks of access, as core says them (issue #29)."""
    terms = cached.read(catalog.source_terms, gh.settings, me, source)
    if not terms.rules:
        return
    owner = f"Its information asset owner is {terms.iao}." if terms.iao else ""
    with st.container(border=True):
        st.markdown(f"**{literal(source)} holds {literal(terms.classification.label.lower())}.** {literal(owner)}")
        st.text("\n".join(terms.rules))  # core's sentences, as text


def my_requests(gh: Gatehouse, me: User) -> None:
    """My requests for access (those that need my answer first, with the question and a form to answer it), each
    withdrawn while open, and the webapp sources I asked for."""
    questions_view.needs_my_answer(gh, me)
    mine = cached.read(queues.my_requests, me)
    source_asks = cached.read(queues.my_source_requests, me)
    if not mine:
        st.info("You have not asked for access yet.")
    for request in mine:
        my_request(gh, me, request)
    if source_asks:
        st.markdown("**Webapp data sources you asked for**")
        st.dataframe(
            {
                "Data source": [r.bucket_name for r in source_asks],
                "App": [r.app_name for r in source_asks],
                "State": [r.status.value.replace("-", " ") for r in source_asks],
                "Reason": [r.decision_reason or "" for r in source_asks],
            },
            hide_index=True,
        )


def my_request(gh: Gatehouse, me: User, request: RequestView) -> None:
    with st.container(border=True):
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.markdown(
            f"{bold(request.source)} · {request.level.label} · {literal(format_paths(request.paths))} · "
            f"asked {widgets.day(request.created_at)}{literal(team_access.asked_for_team(request))}"
        )
        state = request.status.value.replace("-", " ")
        detail = request.stands or (f"waits for {request.waits_for}" if request.status.is_open else state)
        if request.status is RequestStatus.PENDING_ANSWER:
            detail = "needs your answer: its question and a form to answer it are above"
        elif request.status is RequestStatus.CLOSED:
            detail = "closed: no one decided it in time; ask again if you still need it"
        if request.granted:
            detail += f" (granted: {request.granted})"
        left.caption(literal(detail))
        if request.decision_reason:  # the decider's own words, as they wrote them
            left.text(f"Reason: {request.decision_reason}")
        if not request.status.is_open:
            return
        with right:
            widgets.risky_button("Withdraw", f"withdraw-{request.id}")
        widgets.confirm(
            gh,
            f"withdraw-{request.id}",
            f"Withdraw your request for {request.source}?",
            [f"It no longer waits for {request.waits_for}: they are told.", "You can ask again later."],
            "Withdraw request",
            lambda r=request: actions.withdraw_request(gh, me, r.id),
            f"Request for {request.source} withdrawn.",
        )


def give_up_access(gh: Gatehouse, me: User) -> None:
    held = team_access.own(cached.read(catalog.usable_sources, me))  # a team's access is its admins' to revoke
    if not held:
        st.info("You have no access to give up.")
        return
    st.caption("Remove access you no longer need. To get it back you would have to ask again.")
    choice = st.selectbox("Data source", list(dict.fromkeys(s.name for s in held)), key="give-up-source")
    widgets.risky_button("Give up my access", f"give-up-{choice}")
    yours = [f"{s.level.label} on {format_paths(s.paths)}" for s in held if s.name == choice]
    widgets.confirm(
        gh,
        f"give-up-{choice}",
        f"Give up your access to {choice}?",
        [
            f"You lose all of it: {'; '.join(yours)}.",
            "To get it back you would have to ask again; its admins are told.",
        ],
        "Give up my access",
        lambda: actions.revoke_access(gh, me, choice, me.username),
        f"Your access to {choice} is removed.",
    )


gh = running.gatehouse()
request_access(gh, signin.actor().user)
