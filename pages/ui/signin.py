"""Who is signed in: the running Gatehouse (one a process), the sign-in form and its cookie, sign-out, and the
signed-in actor every page starts from. The bookkeeping of a sign-in is core's (core/auth.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import streamlit as st
import streamlit_authenticator as stauth
from extra_streamlit_components.CookieManager import _component_func as _cookie_component
from streamlit.delta_generator import DeltaGenerator
from streamlit_authenticator.utilities import LoginError

from core import auth
from core.actions import sign_in_link
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import GatehouseError, NotAllowed, NotFound
from core.reads.people import Roles, signed_in
from pages.ui import cached, oidc_signin
from pages.ui.markup import literal

T = TypeVar("T")
SIGNING_OUT = "signing-out"
COOKIE_NAME = "gatehouse"
ACTOR = "actor"  # the signed-in Actor, set by app.py at every run
REFUSED_COOKIE = "refused-cookie"  # what the refusal of this browser's sign-in cookie said
CARD_WIDTH = 440  # pixels: the sign-in page's card


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
    """Show the sign-in page until someone signs in; then return who they are (re-read from the database).

    GATEHOUSE_SIGN_IN chooses the way in: the password form (below) or the identity provider (pages/ui/oidc_signin.py).
    Everything after it is the same for both."""
    oidc = gh.settings.sign_in_method == "oidc"
    # Always the page's first element, empty once signed in: the page below keeps its place between the sign-in
    # run and the next, so the browser never shows the old page and the new one at once. A card in the middle of
    # the page, whichever the way in: two fields (or one button) across a wide page's whole width read as a banner.
    page_top = st.container(horizontal_alignment="center")
    # Signed in with a password already: no card inside it at every rerun of a page (a block less on every page)
    username = (None if oidc else _still_signed_in()) or _card(gh, page_top, oidc)
    cached.start_run(gh)
    try:
        who = cached.read(signed_in, username)
    except (NotAllowed, NotFound) as error:  # left, or removed, since signing in
        if not oidc:
            _authenticator(gh, {"usernames": {}}).logout(location="unrendered")
        st.error(literal(error))
        st.stop()
    return Actor(who.user, who.roles, who.unread)


def _still_signed_in() -> str | None:
    """Who is signed in with a password in this session, unless they are signing out."""
    if st.session_state.get(SIGNING_OUT) or not st.session_state.get("authentication_status"):
        return None
    username = st.session_state.get("username")
    return str(username) if username else None


def _card(gh: Gatehouse, page_top: DeltaGenerator, oidc: bool) -> str:
    """The way in, in a card in the middle of the page top; who signed in once they have."""
    with page_top.container(width=CARD_WIDTH):
        if oidc:
            st.session_state.pop(ACTOR, None)  # set again by app.py once someone is signed in
            username = oidc_signin.username(gh, st.session_state.pop(SIGNING_OUT, None))
        else:
            username = _password_sign_in(gh)
    return username


def _password_sign_in(gh: Gatehouse) -> str:
    """The password form until someone signs in; then their username.

    The form is Gatehouse's own and core checks it (auth.password_sign_in: the throttle, the password, the sentence
    that refuses); streamlit-authenticator keeps only the sign-in cookie, restored here and set after a
    sign-in. Its widget is built only while nobody is signed in, and to sign out: a signed-in rerun needs neither,
    and every page reruns at every click."""
    leaving = st.session_state.get(SIGNING_OUT)
    username = st.session_state.get("username") if st.session_state.get("authentication_status") else None
    if username and not leaving:
        return str(username)
    credentials: dict[str, Any] = {"usernames": {}}
    authenticator = _authenticator(gh, credentials)
    # The widget keeps this very dict: from here on it looks the cookie's account up in the database.
    credentials["usernames"] = auth.Accounts(functools.partial(cached.read_now, auth.account))
    if leaving:
        if st.session_state.get("authentication_status"):
            authenticator.logout(location="unrendered")
            gh.run(auth.record_sign_out, leaving)
        if _forget_sign_in_cookie():
            st.session_state.pop(SIGNING_OUT, None)
    else:
        try:
            authenticator.login(location="unrendered")  # a sign-in cookie signs the browser in again
        except LoginError:  # the cookie's account has left or lost its password since
            st.session_state["authentication_status"] = None
            st.error(literal(_refused_cookie(gh, authenticator)))
    if not st.session_state.get("authentication_status"):
        if st.query_params.get(sign_in_link.QUERY_PARAMETER):
            _choose_password_form(gh, authenticator)
        else:
            _password_form(gh, authenticator)
    if not st.session_state.get("authentication_status"):
        st.session_state.pop(ACTOR, None)
        st.stop()
    st.session_state.pop(SIGNING_OUT, None)  # signed in again: nothing left to forget
    return str(st.session_state["username"])


def _refused_cookie(gh: Gatehouse, authenticator: stauth.Authenticate) -> str:
    """Why the browser's sign-in cookie no longer signs it in: asked of core (and put on record) once a browser
    session, not at every rerun of the sign-in page."""
    said = st.session_state.get(REFUSED_COOKIE)
    if said is None:
        token = authenticator.cookie_controller.get_cookie() or {}
        said = st.session_state[REFUSED_COOKIE] = gh.run(auth.refuse_remembered_sign_in, str(token.get("username", "")))
    return str(said)


def _password_form(gh: Gatehouse, authenticator: stauth.Authenticate) -> None:
    st.title("Gatehouse")
    st.caption("Self-service access to the platform's S3 data sources.")
    with st.form("sign-in"):
        st.subheader("Sign in")
        name = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in")
    if not submitted:
        return
    client = auth.client_address(gh.settings, st.context.ip_address, st.context.headers.get("X-Forwarded-For"))
    outcome = gh.run(auth.password_sign_in, gh.settings, client, name, password)
    if outcome.username is None:
        st.error(literal(outcome.refusal or auth.SIGN_IN_FAILED))
        return
    try:
        authenticator.authentication_controller.login(token={"username": outcome.username})
    except LoginError:  # left, or lost their password, in the instant since
        st.error(literal(auth.SIGN_IN_FAILED))
        return
    authenticator.cookie_controller.set_cookie()


def _choose_password_form(gh: Gatehouse, authenticator: stauth.Authenticate) -> None:
    """A one-time link's form (actions/sign_in_link.py): the member chooses their password, and is signed in."""
    token = str(st.query_params.get(sign_in_link.QUERY_PARAMETER))
    st.title("Gatehouse")
    try:
        holder = cached.read_now(sign_in_link.link_holder, token)
    except GatehouseError as error:
        st.error(literal(error))
        if st.button("Go to sign-in"):
            del st.query_params[sign_in_link.QUERY_PARAMETER]
            st.rerun()
        return
    with st.form("choose-password"):
        st.subheader("Choose your password")
        st.caption(f"For {literal(holder)}: at least {literal(sign_in_link.MIN_PASSWORD_LENGTH)} characters.")
        st.text_input("Username", value=holder, disabled=True, autocomplete="username")
        password = st.text_input("New password", type="password", autocomplete="new-password")
        again = st.text_input("The same password again", type="password", autocomplete="new-password")
        submitted = st.form_submit_button("Set my password")
    if not submitted:
        return
    try:
        username = gh.run(sign_in_link.set_password_from_link, token, password, again)
    except GatehouseError as error:
        st.error(literal(error))
        return
    del st.query_params[sign_in_link.QUERY_PARAMETER]  # used up: a reload shows the app, not a refusal
    try:
        authenticator.authentication_controller.login(token={"username": username})
    except LoginError:  # left in the instant since
        st.error("Your password is set: sign in with it.")
        return
    authenticator.cookie_controller.set_cookie()


def _forget_sign_in_cookie() -> bool:
    """Delete the browser's sign-in cookie; True once the browser reports it gone.

    The cookie component only runs once the browser has loaded it; a rerun before then (and the sign-in form's own
    cookie component causes one) would drop it unrun, and a reload would sign the person in again. So it is drawn
    at every run until it reports back."""
    return bool(_cookie_component(method="delete", cookie=COOKIE_NAME, key="forget-sign-in", default=False))


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
