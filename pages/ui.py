"""What every page shares: the running Gatehouse, the signed-in actor, and showing core's answers."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Any, TypeVar

import streamlit as st
import streamlit_authenticator as stauth
from extra_streamlit_components.CookieManager import _component_func as _cookie_component
from streamlit_authenticator.utilities import LoginError

from core import actions, auth
from core.adapters.db import current_revision
from core.adapters.models import User, utcnow
from core.config import Settings
from core.context import Gatehouse
from core.domain import GatehouseError, NotAllowed, NotFound, format_paths
from core.notify import deliver_email
from core.reads import audit_trail
from core.reads.page import Page
from core.reads.people import Roles, signed_in
from core.reads.queues import RequestView
from core.startup import start
from pages.markup import bold, literal, table

T = TypeVar("T")
SIGNING_OUT = "signing-out"
COOKIE_NAME = "gatehouse"
REVISION = "gatehouse-revision"
ACTOR = "actor"  # the signed-in Actor, set by app.py at every run
# A cached read is dropped at the next write to the database (from any process) or after this long: what time alone
# changes (an end date passing) shows within it, and the expiry job's write ends it sooner.
READ_TTL_SECONDS = 120


@st.cache_resource(show_spinner="Starting Gatehouse…")
def gatehouse() -> Gatehouse:
    return start()


@dataclass(frozen=True)
class Actor:
    user: User
    roles: Roles
    unread: int = 0


def _authenticator(gh: Gatehouse, credentials: dict) -> stauth.Authenticate:
    return stauth.Authenticate(
        credentials,
        cookie_name=COOKIE_NAME,
        cookie_key=gh.settings.cookie_key.get_secret_value(),
        cookie_expiry_days=gh.settings.cookie_expiry_days,
        auto_hash=False,
        login_sleep_time=0,
    )


def sign_in(gh: Gatehouse) -> Actor:
    """Show the sign-in form until someone signs in; then return who they are (re-read from the database).

    The sign-in widget (and its cookie component) is built only while nobody is signed in, and to sign out: a
    signed-in rerun needs neither, and every page reruns at every click."""
    leaving = st.session_state.get(SIGNING_OUT)
    username = st.session_state.get("username") if st.session_state.get("authentication_status") else None
    # Always the page's first element, empty once signed in: the page below keeps its place between the sign-in
    # run and the next, so the browser never shows the old page and the new one at once.
    with st.container():
        if leaving or not username:
            credentials: dict[str, Any] = {"usernames": {}}
            authenticator = _authenticator(gh, credentials)
            # The widget keeps this very dict: from here on it looks accounts up in the database one at a time.
            accounts = credentials["usernames"] = auth.Accounts(gh.session, gh.settings)
            if leaving:
                if st.session_state.get("authentication_status"):
                    authenticator.logout(location="unrendered")
                    with gh.session() as session:
                        auth.record_sign_out(session, leaving)
                if _forget_sign_in_cookie():
                    st.session_state.pop(SIGNING_OUT, None)
            st.title("Gatehouse")
            st.caption("Self-service access to the platform's S3 data sources.")
            try:
                authenticator.login(
                    location="main",
                    max_login_attempts=gh.settings.max_failed_sign_ins,
                    fields={"Form name": "Sign in", "Login": "Sign in"},
                    callback=lambda event: _signed_in(gh, event["username"]),
                )
            except LoginError as error:
                st.session_state["authentication_status"] = None
                message = str(error)
                st.error(
                    literal(auth.lockout_message(gh.settings))
                    if "attempts" in message
                    else "You cannot sign in with this account."
                )
            failed = accounts.failed()
            if failed:
                with gh.session() as session:
                    for name in failed:
                        auth.record_failed_sign_in(session, gh.settings, name)
            if st.session_state.get("authentication_status") is False:
                st.error("The username or password is incorrect.")
            if not st.session_state.get("authentication_status"):
                st.session_state.pop(ACTOR, None)
                st.stop()
            username = st.session_state["username"]
            st.session_state.pop(SIGNING_OUT, None)  # signed in again: nothing left to forget
    revision = current_revision(gh.engine)
    st.session_state[REVISION] = (gh.instance, *revision) if revision else None
    try:
        who = read(signed_in, username)
    except (NotAllowed, NotFound) as error:  # left, or removed, since signing in
        _authenticator(gh, {"usernames": {}}).logout(location="unrendered")
        st.error(literal(error))
        st.stop()
    return Actor(who.user, who.roles, who.unread)


def read(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(session, *args, **kwargs)`, a read for the page, kept until the next write to the database.

    The key holds the database's write revision read at the start of this rerun (adapters.db), so a write anywhere, in
    this process or another, is seen at the next rerun (a write of only the audit trail and sign-in bookkeeping is
    seen by the reads of the trail, `_READS_THE_TRAIL`, and no other); and the arguments, so one user's reads are
    never another's (a row by its table and id: the actor's reads are keyed by who they are). A refusal
    (GatehouseError) is raised, never kept. The copy returned is the page's own (st.cache_data unpickles one at each
    call)."""
    revision = st.session_state.get(REVISION)
    if revision is not None:  # (process, epoch, n, trail): the trail's reads move with every write, others with n
        instance, epoch, n, trail = revision
        revision = (instance, epoch, "trail", trail) if fn in _READS_THE_TRAIL else (instance, epoch, n)

    def call() -> T:
        with gatehouse().session() as session:
            return fn(session, *args, **kwargs)

    if revision is None:  # no revision row (a schema made without the migrations): nothing to key on
        return call()
    # One string for Streamlit to hash (it walks a nested tuple element by element, at every call)
    return _cached_read(repr((revision, f"{fn.__module__}.{fn.__qualname__}", _key(args), _key(kwargs))), call)


# The reads that show audit events: keyed on every write (adapters.db `trail`). Other reads of the trail belong here.
_READS_THE_TRAIL = frozenset({audit_trail.search})


@st.cache_data(ttl=READ_TTL_SECONDS, max_entries=2000, show_spinner=False)  # a few MB: pages of rows
def _cached_read(key: str, _call: Callable[[], T]) -> T:
    return _call()


@st.cache_data(ttl=300, show_spinner=False)
def audit_action_names() -> list[str]:
    """Every action ever recorded, for the audit trail's filter: a DISTINCT over the whole trail, so read at most
    every five minutes whatever is written meanwhile (defined here, once: a page's module is run at every rerun)."""
    with gatehouse().session() as session:
        return audit_trail.actions(session)


def _key(value: Any) -> Any:
    """A plain, hashable stand-in for an argument of a cached read."""
    if value is None or isinstance(value, str | int | float | bool | Enum | date):
        return value
    if isinstance(value, tuple | list):
        return tuple(_key(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    if isinstance(value, Settings):
        return "settings"  # one per process, and so is the cache
    table = getattr(value, "__tablename__", None)
    if table is not None:
        if value.id is None:  # not stored: no id tells it from another
            raise TypeError(f"an unsaved {type(value).__name__} cannot key a cached read")
        return (table, value.id)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__qualname__, tuple(_key(getattr(value, f.name)) for f in dataclasses.fields(value)))
    raise TypeError(f"{type(value).__name__} cannot key a cached read")


def _forget_sign_in_cookie() -> bool:
    """Delete the browser's sign-in cookie; True once the browser reports it gone.

    The cookie component only runs once the browser has loaded it; a rerun before then (and the sign-in form's own
    cookie component causes one) would drop it unrun, and a reload would sign the person in again. So it is drawn
    at every run until it reports back."""
    return bool(_cookie_component(method="delete", cookie=COOKIE_NAME, key="forget-sign-in", default=False))


def _signed_in(gh: Gatehouse, username: str) -> None:
    with gh.session() as session:
        auth.record_sign_in(session, username)


def sign_out_button(who: Actor) -> None:
    """Sign out at the next run (see sign_in): in this session, and the cookie that would sign the browser in."""
    st.button("Sign out", key="sign-out", on_click=lambda: st.session_state.update({SIGNING_OUT: who.user.username}))


def built_once(build: Callable[..., T], *args: Any) -> T:
    """`build(*args)`, kept in this browser session until the arguments change: for what a rerun would only build
    again the same (the navigation's pages: each st.Page looks its file up on disk)."""
    name = f"built-{build.__qualname__}"
    kept = st.session_state.get(name)
    if kept is None or kept[0] != args:
        kept = st.session_state[name] = (args, build(*args))
    return kept[1]


def actor() -> Actor:
    """The signed-in actor, set by app.py before any page runs. A page reached any other way (a signed-out visit
    straight to its address, while the process still runs pages/ as Streamlit's old multipage app: until a run
    declares its pages with st.navigation, every file in pages/ is a page of its own) goes to the
    sign-in page at once: nothing of it runs."""
    who = st.session_state.get(ACTOR)
    if who is None:
        st.switch_page("app.py")
    return who


def require(allowed: bool, what: str) -> None:
    """A page reached without the role refuses to render (core refuses the actions too)."""
    if not allowed:
        st.error(f"This page is for {literal(what)}.")
        st.stop()


def aws_state(applied: bool, error: str | None) -> str:
    if applied:
        return "applied"
    return f"not yet applied: {error}" if error else "not yet applied"


def act(gh: Gatehouse, action: Callable[[], Any], success: str | Callable[[Any], str]) -> Any:
    """Run one core action for the page: its one-sentence refusal is shown under the form, its success after the
    rerun that shows the new state. Whom it concerns is emailed (when SMTP is set up)."""
    try:
        result = action()
    except GatehouseError as error:
        st.error(literal(error))
        return None
    # Email in the background: a slow mail server must not hold the page (the inbox already has the message).
    threading.Thread(target=deliver_email, args=(gh,), daemon=True, name="gatehouse-email").start()
    message = success(result) if callable(success) else success
    pending = getattr(result, "aws_pending", None)  # a use case's result says when AWS has not applied it yet
    if pending:  # said first: the sentence after it tells what was decided, not what AWS does yet
        message = f"Recorded, not yet applied in AWS (Gatehouse retries; AWS said: {pending}). {message}"
        st.session_state["flash"] = ("warning", message)
    else:
        st.session_state["flash"] = ("success", message)
    st.rerun()


def flash() -> None:
    """Show the outcome of the action of the previous run, once."""
    kind, message = st.session_state.pop("flash", (None, None))
    if kind == "success":
        st.success(literal(message))
    elif kind == "warning":
        st.warning(literal(message))


def request_card(request: RequestView) -> None:
    """Who asks for what and why: the same words wherever a request is decided."""
    st.markdown(
        f"{bold(request.requester)} asks for **{request.level.label.lower()}** access to {bold(request.source)} "
        f"({literal(format_paths(request.paths))})"
        + (f", until {request.expires_on:%d %b %Y}" if request.expires_on else "")
    )
    st.caption(f"Asked {request.created_at:%d %b %Y %H:%M} UTC")
    st.text(request.business_need)  # their own words, exactly as written


def end_date(key: str | None = None, value: date | None = None) -> date | None:
    """When access ends: a date after today, or empty (the default) for access that does not end. One widget: a
    date shown beside an "only until" switch would read as set when it is not."""
    tomorrow = utcnow().date() + timedelta(days=1)
    return st.date_input(
        "End date (optional)",
        value=value,
        min_value=None if value is not None and value < tomorrow else tomorrow,  # an edit keeps a date now passed
        key=key,
        format="YYYY-MM-DD",
        help="Access ends on this day: its holder and the source's admins are told a week before. "
        "Leave empty for access that does not end.",
    )


def decide_one(items: list[T], key: str, describe: Callable[[T], str], what: str = "Decide on") -> T | None:
    """A queue's page as one table, and the one item to decide now (the first, unless another is chosen): one
    item's forms at a time, however long the queue, so a page costs the same on day 1,000 as on day 1."""
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    return st.selectbox(literal(what), items, format_func=describe, key=key)


def request_queue(queue: Page[RequestView], page_key: str, size: int, decide_key: str) -> RequestView | None:
    """A page of a request queue: its table, the pager that turns it (`read_page(…, key=page_key)`), and the one
    request to decide now."""
    requests_table(queue.items)
    pager(queue.total, size, page_key, what="requests")
    return decide_one(queue.items, decide_key, describe_request)


def requests_table(requests: list[RequestView]) -> None:
    if not requests:
        return
    st.markdown(
        table(
            ["Requester", "Access", "Data source", "Paths", "Asked"],
            [
                [r.requester, r.level.label, bold(r.source), format_paths(r.paths), f"{r.created_at:%d %b %Y}"]
                for r in requests
            ],
        )
    )


def describe_request(request: RequestView) -> str:
    return f"{request.requester}: {request.level.label.lower()} on {request.source} ({format_paths(request.paths)})"


def kept(key: str, options: list[str] | None = None) -> dict[str, Any]:
    """Keyword arguments for a widget whose value should outlive the runs that do not draw it (a closed lazy tab):
    Streamlit forgets a widget's value when a run ends without it, so a copy is kept at each change and given back
    when it is drawn again (a choice only while it is still among the options). `st.text_input(..., **kept(k))`"""
    return {"key": restore(key, options), "on_change": keep, "args": (key,)}


def restore(key: str, options: list[str] | None = None) -> str:
    """Give back the kept copy of a widget's value (see `kept`); for a widget without callbacks, `keep` after it."""
    copy = st.session_state.get(f"kept-{key}")
    if key not in st.session_state and copy is not None and (options is None or copy in options):
        st.session_state[key] = copy
    return key


def keep(key: str) -> None:
    st.session_state[f"kept-{key}"] = st.session_state.get(key)


def read_page(fn: Callable[..., T], *args: Any, key: str, size: int) -> T:
    """`read` of one page of a list paged in the database: the page number is the one `pager(…, key)` turns."""
    return read(fn, *args, offset=int(st.session_state.get(key, 0)) * size, limit=size)


def page_number(key: str, search: str = "") -> int:
    """The page of a paged list to show: back to the first page whenever its search changes."""
    if st.session_state.get(f"{key}-search") != search:
        st.session_state[f"{key}-search"] = search
        st.session_state[key] = 0
    return int(st.session_state.get(key, 0))


def pager(total: int, size: int, key: str, *, back: str = "Previous", forward: str = "Next", what: str = "") -> None:
    """Previous/next buttons under a list paged in the database; the page number lives in session state `key`."""
    number = st.session_state.get(key, 0)
    pages = max(1, -(-total // size))
    if pages <= 1:
        return
    left, middle, right = st.columns([1, 2, 1])
    # Only the buttons that lead somewhere (a button costs a rerun's time whether it can be clicked or not). A
    # callback turns the page before the rerun the click makes: one rerun a click, not two.
    if number > 0:
        left.button(literal(back), key=f"{key}-back", on_click=_turn_page, args=(key, number - 1))
    middle.caption(f"Page {number + 1:,} of {pages:,}" + (f" · {total:,} {literal(what)}" if what else ""))
    if number + 1 < pages:
        right.button(literal(forward), key=f"{key}-forward", on_click=_turn_page, args=(key, number + 1))


def _turn_page(key: str, number: int) -> None:
    st.session_state[key] = number


def decision_form(
    gh: Gatehouse,
    me: User,
    request: RequestView,
    approve: str,
    approving: Callable[[Any], Any],
    approved: Callable[[Any], str],
    refused: str,
    fields: Callable[[], Any] = lambda: None,
) -> None:
    """One form to decide a request, the same wherever requests are decided: the approver's own fields (`fields`,
    drawn first; what it returns is what was chosen), the reason the requester is told if it is refused, and the
    two buttons side by side. On approval, `approving(chosen)` acts and `approved(chosen)` is the sentence shown."""
    with st.form(f"decide-{request.id}"):
        chosen = fields()
        reason = st.text_area(
            "Reason for refusing",
            key=f"reason-{request.id}",
            help="The requester reads it. Not needed to approve.",
        )
        with st.container(horizontal=True):
            approve_clicked = st.form_submit_button(literal(approve), type="primary")
            refuse_clicked = st.form_submit_button("Refuse")
    if approve_clicked:
        act(gh, lambda: approving(chosen), approved(chosen))
    if refuse_clicked:
        act(gh, lambda: actions.refuse_request(gh, me, request.id, reason), refused)


if __name__ == "__main__":  # Streamlit's old multipage app runs every file in pages/ as a page: this is not one
    st.switch_page("app.py")
