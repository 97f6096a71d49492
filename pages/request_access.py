"""Request access: ask for access with a business need, follow my requests, create a warehouse source, ask the
platform team for a webapp source, give up access I no longer need."""

import streamlit as st

from core import actions
from core.domain import MAX_BUSINESS_NEED, MAX_DESCRIPTION, AccessLevel, format_paths
from core.reads import catalog, queues
from core.reads.queues import RequestView
from pages import cached, running, signin, widgets
from pages.markup import bold, literal
from pages.widgets import ASKING_FOR

gh = running.gatehouse()
me = signin.actor().user

st.title("Request access")
widgets.flash()

ask, mine, create, give_up = st.tabs(
    ["Ask for access", "My requests", "New data source", "Give up access"], key="request-tab", on_change="rerun"
)  # lazy: only the open tab runs

# Each field of the form as a fresh one has it: set (not forgotten) so that the browser shows it so too.
FRESH = {"ask-source": None, "ask-level": AccessLevel.READ_ONLY, "ask-paths": "", "ask-need": "", "ask-until": None}
preset = st.session_state.pop(ASKING_FOR, None)  # a source chosen on another page (My data, Upload)
if st.session_state.pop("ask-sent", False) or preset:  # a fresh form: a sent request is not sent twice
    st.session_state.update(FRESH)
if preset:
    st.session_state["ask-search"] = preset["source"]
    st.session_state["ask-source"] = preset["source"]
    st.session_state["ask-level"] = AccessLevel(preset.get("level", AccessLevel.READ_ONLY))

if ask.open:
    with ask:
        search = st.text_input("Find a data source", key="ask-search", placeholder="Type part of its name")
        names = cached.read(catalog.source_names, me, search=search, limit=100)
        if st.session_state.get("ask-source") not in names:
            st.session_state["ask-source"] = None
        with st.form("ask-form"):
            source = st.selectbox(
                "Data source", names, index=None, placeholder="Choose a data source", key="ask-source"
            )
            level = st.radio(
                "Access level",
                list(AccessLevel),
                format_func=lambda lvl: lvl.label,
                horizontal=True,
                key="ask-level",
                help="Ask for the lowest level you need: read only unless you must write; admin only to manage access.",
            )
            st.caption(
                "Ask only for data you have a genuine business need for, at the lowest level that does the work."
            )
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
        if submitted:
            if source is None:
                st.error("Choose the data source you need.")
            else:

                def sent(view: RequestView) -> str:
                    st.session_state["ask-sent"] = True  # the next run starts from a fresh form
                    return f"Request sent for {view.source}: it waits for {view.waits_for}. It is under My requests."

                widgets.act(gh, lambda: actions.request_access(gh, me, source, level, paths, need, until), sent, slots)

if mine.open:
    with mine:
        mine_list = cached.read(queues.my_requests, me)
        source_asks = cached.read(queues.my_source_requests, me)
        if not mine_list:
            st.info("You have not asked for access yet.")
        for request in mine_list:
            with st.container(border=True):
                left, right = st.columns([5, 1], vertical_alignment="center")
                left.markdown(
                    f"{bold(request.source)} · {request.level.label} · {literal(format_paths(request.paths))} · "
                    f"asked {widgets.day(request.created_at)}"
                )
                state = request.status.value.replace("-", " ")
                detail = f"waits for {request.waits_for}" if request.status.is_open else state
                if request.granted:
                    detail += f" (granted: {request.granted})"
                left.caption(literal(detail))
                if request.decision_reason:  # the decider's own words, as they wrote them
                    left.text(f"Reason: {request.decision_reason}")
                if request.status.is_open and right.button("Withdraw", key=f"withdraw-{request.id}"):
                    widgets.act(gh, lambda r=request: actions.withdraw_request(gh, me, r.id), "Request withdrawn.")
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

if create.open:
    with create:
        st.markdown("**Create a warehouse data source**")
        st.caption(
            f"For data your own code uses. The name must start with {literal(gh.settings.bucket_prefix)}; you become "
            "its only admin and can give others access."
        )
        # A fresh form at first and after each success: a second click does not ask again for what was done
        st.session_state.setdefault("create-name", gh.settings.bucket_prefix)
        widgets.fresh("create-form", {"create-name": gh.settings.bucket_prefix, "create-description": ""})
        with st.form("create-form"):
            name = st.text_input("Name", key="create-name")
            description = st.text_input(
                "What it holds (optional)",
                key="create-description",
                max_chars=MAX_DESCRIPTION,
                help=f"One line, at most {MAX_DESCRIPTION:,} characters.",
            )
            if st.form_submit_button("Create data source", type="primary"):

                def created(source: actions.Created) -> str:
                    widgets.succeeded("create-form")
                    return f"{source.name} is created; you are its admin."

                widgets.act(gh, lambda: actions.create_source(gh, me, name, description=description), created)
        st.markdown("**Ask for a webapp data source**")
        st.caption(
            "For data that an app or pipeline reads. The platform team creates it; the app gets read-only access "
            "and you become its admin."
        )
        webapp_form = {"webapp-name": gh.settings.bucket_prefix, "webapp-app": "", "webapp-need": ""}
        st.session_state.setdefault("webapp-name", gh.settings.bucket_prefix)
        widgets.fresh("webapp-form", webapp_form)
        with st.form("webapp-form"):
            bucket = st.text_input("Name", key="webapp-name")
            app_name = st.text_input("App name", key="webapp-app")
            webapp_need = st.text_area(
                "Business need",
                key="webapp-need",
                max_chars=MAX_BUSINESS_NEED,
                help=f"The platform team decides on it. At most {MAX_BUSINESS_NEED:,} characters.",
            )
            if st.form_submit_button("Ask the platform team"):

                def sent_to_platform(_: object) -> str:
                    widgets.succeeded("webapp-form")
                    return "Sent to the platform team."

                widgets.act(
                    gh,
                    lambda: actions.request_webapp_source(gh, me, bucket, app_name, webapp_need),
                    sent_to_platform,
                )

if give_up.open:
    with give_up:
        held = cached.read(catalog.usable_sources, gh.settings, me)
        if not held:
            st.info("You have no access to give up.")
        else:
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
