"""What pages share to act and to show: one core action run with its one-sentence answer, the outcome shown after
the rerun, widgets whose values outlive a closed tab, the end-date field, and the pager of a list paged in the
database."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

import streamlit as st

from core import domain
from core.context import Gatehouse
from core.domain import (
    MAX_END_DAYS,
    MAX_PATH_BYTES,
    MAX_PATHS,
    MAX_PATHS_TEXT,
    AccessLevel,
    GatehouseError,
    InvalidFields,
)
from core.paths import Paths
from core.rules import EndedByLeaving
from pages.ui.markup import bold, literal

T = TypeVar("T")


def act(
    gh: Gatehouse,
    action: Callable[[], Any],
    success: str | Callable[[Any], str],
    at: Mapping[str, Any] | None = None,
) -> Any:
    """Run one core action for the page: its refusal is shown where it was called (under the form), or, when core
    refuses several fields at once (InvalidFields), each sentence beside its field, in the `at` slot of its name
    (an `st.empty()` under the field); its success after the rerun that shows the new state. (Whom it concerns is
    emailed by core, after the action's commit.)"""
    try:
        result = action()
    except GatehouseError as error:
        problems = error.problems if isinstance(error, InvalidFields) else {"": str(error)}
        for name, problem in problems.items():
            (at or {}).get(name, st).error(literal(problem))
        return None
    message = success(result) if callable(success) else success
    pending = getattr(result, "aws_pending", None)  # a use case's result says when AWS has not applied it yet
    if pending:  # said first: the sentence after it tells what was decided, not what AWS does yet
        message = f"Recorded, not yet applied in AWS: {pending}. Gatehouse retries until it is. {message}"
        st.session_state["flash"] = ("warning", message)
    else:
        st.session_state["flash"] = ("success", message)
    st.rerun()


ASKING_FOR = "asking-for"  # {"source": name, "level": AccessLevel, "paths": Paths}: Request access starts from it
CONFIRMING = "confirming"  # the key of the action whose confirmation dialog is open


def risky_button(label: str, key: str) -> None:
    """The button of an action that takes something away (revoke, archive, mark a leaver): it only opens the action's
    dialog (`confirm`, under the same key), which says what will happen and acts."""
    st.button(literal(label), key=key, on_click=ask_to_confirm, args=(key,))


def confirming(key: str) -> bool:
    """Whether the dialog of the action `key` is open (what it says may be read only then)."""
    return st.session_state.get(CONFIRMING) == key


def read_to_confirm(read: Callable[[], T]) -> T | None:
    """What an open dialog says, read as it is drawn: a refusal (what it is about changed a moment ago) closes the
    dialog and is said on the page instead."""
    try:
        return read()
    except GatehouseError as error:
        _cancel_confirming()
        st.error(literal(error))
        return None


def ask_to_confirm(key: str) -> None:
    st.session_state[CONFIRMING] = key


def _cancel_confirming() -> None:
    st.session_state.pop(CONFIRMING, None)


def confirm(
    gh: Gatehouse,
    key: str,
    question: str,
    consequences: list[str],
    button: str,
    action: Callable[[], Any],
    success: str | Callable[[Any], str],
) -> None:
    """The dialog of the action `key`, while it is asked for: the question, what will happen (as text: names and paths
    as typed), and the button that acts beside Cancel. Closing it (Cancel, Esc, a click outside) changes nothing;
    a refusal stays in it; a success closes it and is said on the page. Open while the session says so, so that the
    click in it runs the page again with the dialog drawn (in the browser and in AppTest alike)."""
    if not confirming(key):
        return
    st.dialog(literal(button), on_dismiss=_cancel_confirming)(_confirmation)(
        gh, question, consequences, button, action, success
    )


def _confirmation(
    gh: Gatehouse,
    question: str,
    consequences: list[str],
    button: str,
    action: Callable[[], Any],
    success: str | Callable[[Any], str],
) -> None:
    st.markdown(bold(question))
    if consequences:
        st.text("\n".join(consequences))
    with st.container(horizontal=True):
        confirmed = st.button(literal(button), type="primary", key="confirm-yes")
        cancelled = st.button("Cancel", key="confirm-cancel")
    if cancelled:
        _cancel_confirming()
        st.rerun()
    if confirmed:

        def done(result: Any) -> str:
            _cancel_confirming()
            return success(result) if callable(success) else success

        act(gh, action, done)


def fresh(form: str, fields: dict[str, Any]) -> None:
    """Before a form is drawn: when its last action succeeded (`succeeded(form)`), its fields start as a fresh
    form's, so that a second click does not act again on what was just done."""
    if st.session_state.pop(f"{form}-succeeded", False):
        st.session_state.update(fields)


def succeeded(form: str) -> None:
    st.session_state[f"{form}-succeeded"] = True


def ask_for(source: str, level: AccessLevel = AccessLevel.READ_ONLY, paths: Paths = Paths.WHOLE) -> None:
    """Open Request access with this source (and level, and paths) chosen: a button's callback on My data or Upload."""
    st.session_state[ASKING_FOR] = {"source": source, "level": level, "paths": paths}
    st.session_state["request-tab"] = "Ask for access"


# The audit trail's tables (Platform, a source's Admin tab): the Summary says what happened, so it takes the room left,
# and a long one wraps over the lines of a taller row (Streamlit wraps a cell only in rows over 4rem) instead of
# being cut at the column's edge.
AUDIT_TABLE: dict[str, Any] = {
    "column_config": {"Summary": st.column_config.TextColumn(width="large")},
    "row_height": 72,
}


def flash() -> None:
    """Show the outcome of the action of the previous run, once."""
    kind, message = st.session_state.pop("flash", (None, None))
    if kind == "success":
        st.success(literal(message))
    elif kind == "warning":
        st.warning(literal(message))


def aws_state(applied: bool, error: str | None, ended: EndedByLeaving | None = None) -> str:
    """Whether AWS has what the database says, as a person would say it; a leaver's grant is revoked, not live."""
    if ended:
        waiting = (
            ""
            if applied
            else (f"; removing it from AWS is pending: {error}" if error else "; removing it from AWS is pending")
        )
        return ended.sentence() + waiting
    if applied:
        return "Applied in AWS"
    return f"Waiting for AWS: {error}" if error else "Waiting for AWS"


# One way to write a day and a moment, on every page as in core's messages: core.domain's (30 Jun 2027, 14:05 UTC).
day, clock, moment = domain.day, domain.clock, domain.moment


def any_date(label: str, value: date | None, key: str, help: str | None = None) -> date | None:
    """The one date field of every page. Its bounds are the calendar's own (date.min, date.max): Streamlit shows a
    typed date outside a field's bounds in red and gives the script the field's last valid value (or None) instead,
    so a bound would hand core a date the person did not choose. Every date typed reaches the script as typed, and
    core's rules refuse what is out of range with one sentence (`rules.check_end_date`, `check_due_date`)."""
    return st.date_input(
        literal(label),
        value=value,
        min_value=date.min,
        max_value=date.max,
        key=key,
        format="YYYY-MM-DD",
        help=None if help is None else literal(help),
    )


def end_date(key: str, value: date | None = None, asked: date | None = None) -> date | None:
    """When access ends: a date after today, or empty (the default) for access that does not end, or, when the
    request being approved asked for an end date (`asked`), for that date. One widget: a date shown beside an "only
    until" switch would read as set when it is not."""
    empty = "Leave empty for access that does not end."
    if asked:
        empty = f"Leave empty to end it on {day(asked)}, as asked."
    return any_date(
        "End date (optional)",
        value,
        key,
        help=f"Access ends on this day, at most two years ({MAX_END_DAYS:,} days) ahead: its holder and the "
        f"source's admins are told a week before. {empty}",
    )


def paths_field(label: str, key: str, guidance: str, value: Paths | None = None) -> str:
    """The one paths field of every form: one path a line, as long as core takes (`domain.Paths.parse` reads it),
    what the paths mean here said by `guidance`. `value` starts it from paths held or asked (as `Paths.text`); None
    leaves it to session state."""
    return st.text_area(
        literal(label),
        **({} if value is None else {"value": value.text}),
        placeholder="/folder-one\n/folder-two",
        key=key,
        max_chars=MAX_PATHS_TEXT,
        help=literal(
            f"{guidance} One folder a line, each starting with / (for example /models; an s3:// address of this "
            f"source is taken as its path). At most {MAX_PATHS:d} paths, each at most {MAX_PATH_BYTES:,} bytes long."
        ),
    )


def decide_one(items: list[T], key: str, describe: Callable[[T], str], what: str = "Decide on") -> T | None:
    """A queue's page as one table, and the one item to decide now (the first, unless another is chosen): one
    item's forms at a time, however long the queue, so a page costs the same on day 1,000 as on day 1."""
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    return st.selectbox(literal(what), items, format_func=describe, key=key)


def lazy_tabs(shows: Mapping[str, Callable[[], Any]], key: str, *, kept: bool = False) -> None:
    """Tabs of which only the open one runs (`shows`: each tab's label and what it draws): the others' widgets are
    not built at every rerun, and clicking a tab reruns the page with it open. `kept`: the open tab outlives the runs
    that do not draw the tabs (a tab within a closed tab; see `kept`)."""
    tabs = st.tabs([literal(label) for label in shows], key=restore(key) if kept else key, on_change="rerun")
    if kept:
        keep(key)
    for tab, show in zip(tabs, shows.values(), strict=True):
        if tab.open:
            with tab:
                show()


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
    # One row (a horizontal container is one element; columns would be four). Only the buttons that lead somewhere
    # (a button costs a rerun's time whether it can be clicked or not). A callback turns the page before the rerun
    # the click makes: one rerun a click, not two.
    with st.container(horizontal=True, horizontal_alignment="distribute", vertical_alignment="center"):
        if number > 0:
            st.button(literal(back), key=f"{key}-back", on_click=_turn_page, args=(key, number - 1))
        st.caption(f"Page {number + 1:,} of {pages:,}" + (f" · {total:,} {literal(what)}" if what else ""))
        if number + 1 < pages:
            st.button(literal(forward), key=f"{key}-forward", on_click=_turn_page, args=(key, number + 1))


def _turn_page(key: str, number: int) -> None:
    st.session_state[key] = number
