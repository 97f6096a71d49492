"""The data movement form, shown before any upload, download or copy: the same questions everywhere, and the
answers of a previous form as a starting point."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.actions.record_movement import record_movement, reuse_movement
from core.adapters.models import MovementKind, utcnow
from core.context import Gatehouse
from core.domain import GatehouseError
from core.movement import CLASSIFICATIONS, FORM_VALID_FOR, MovementForm
from core.reads.movements import PreviousForm, personal_sources, previous_forms
from pages.ui import cached
from pages.ui.markup import literal
from pages.ui.signin import Actor
from pages.ui.widgets import clock, moment


def movement_form(
    gh: Gatehouse,
    actor: Actor,
    key: str,
    kind: MovementKind,
    source: str,
    target: str | None = None,
    destination: str = "",
) -> int | None:
    """Render the form; once it is complete and stored, return its id (kept for this session and this movement)."""
    done_key = f"{key}-movement"
    done = st.session_state.get(done_key)
    if done and done[1:] == (kind, source, target):
        return _completed(key, done_key, int(done[0]))
    previous = cached.read(previous_forms, actor.user, limit=10)
    same_work = _same_work(previous, kind, source, target)
    if same_work is not None:
        _offer_reuse(gh, actor, key, same_work, kind, source, target)
    start = _starting_answers(previous, key, kind, source, destination, same_work is None) if previous else {}
    personal = cached.read(personal_sources, (source, target))
    if personal:
        start["personal_data"] = True
        held = "; ".join(f"{name} holds {label.lower()}" for name, label in personal.items())
        leaving = kind is not MovementKind.UPLOAD and source in personal and target != source
        st.info(
            f"{literal(held)}: this form says the data holds personal data, with its DPIA reference."
            + (" Its information asset owner signs the form before any data leaves." if leaving else "")
        )
    answers = _answers(key, start, destination)
    if answers is None:
        return None
    try:
        movement_id = record_movement(gh, actor.user, kind, MovementForm(**answers), source, target)
    except GatehouseError as error:
        st.error(literal(error))
        return None
    st.session_state[done_key] = (movement_id, kind, source, target)
    st.rerun()


def _completed(key: str, done_key: str, movement_id: int) -> int:
    """The form of this movement, complete: its number, and a button to fill in a new one instead."""
    st.success(f"Data movement form {movement_id:d} is complete.")
    if st.button("Fill in a new form", key=f"{key}-new-form"):
        del st.session_state[done_key]
        st.rerun()
    return movement_id


def _same_work(
    previous: list[PreviousForm], kind: MovementKind, source: str, target: str | None
) -> PreviousForm | None:
    """A previous form for the same direction and sources, still valid."""
    now = utcnow().replace(tzinfo=None)
    return next(
        (
            p
            for p in previous
            if p.kind == kind
            and (p.source, p.target) == (source, target)
            and now - p.created_at.replace(tzinfo=None) < FORM_VALID_FOR
        ),
        None,
    )


def _offer_reuse(
    gh: Gatehouse,
    actor: Actor,
    key: str,
    same_work: PreviousForm,
    kind: MovementKind,
    source: str,
    target: str | None,
) -> None:
    """The same work's form, still valid, used again at one click: recorded as its own movement."""
    if st.button(
        f"Use the form you completed at {clock(same_work.created_at)} for this work",
        key=f"{key}-reuse-{same_work.id}",
        type="primary",
    ):
        try:
            movement_id = reuse_movement(gh, actor.user, same_work.id, kind, source, target)
        except GatehouseError as error:
            st.error(literal(error))
        else:
            st.session_state[f"{key}-movement"] = (movement_id, kind, source, target)
            st.rerun()
    st.caption("Or complete a new form below.")


def _starting_answers(
    previous: list[PreviousForm], key: str, kind: MovementKind, source: str, destination: str, latest_first: bool
) -> dict[str, Any]:
    """The answers of the previous form chosen to start from (none: a blank form). A new direction on the same
    source (a download after an upload) starts from that form unless the same work's form is offered
    (`latest_first`): a review and a tick."""
    labels = {f"Form {p.id} · {p.kind.value} · {p.source or ''} · {moment(p.created_at)}": p for p in previous}
    latest = next((label for label, p in labels.items() if p.source == source), None)
    options = ["(a blank form)", *labels]
    chosen = st.selectbox(
        "Start from one of your previous forms (optional)",
        options,
        index=options.index(latest) if latest and latest_first else 0,
        key=f"{key}-previous",
    )
    if chosen not in labels:
        return {}
    start = dict(labels[chosen].answers)
    if labels[chosen].kind != kind:  # another direction: where it goes is this movement's own
        start["destination"] = destination
        if kind is not MovementKind.UPLOAD:
            start["origin"] = source
    return start


def _answers(key: str, start: dict[str, Any], destination: str) -> dict[str, Any] | None:
    """The form's questions, from `start`; what was answered once it is submitted, else None."""
    with st.form(f"{key}-form"):
        st.markdown("**Data movement form** — required before any data moves, by the information governance rules.")
        description = st.text_area("What the data is", value=start.get("description", ""))
        origin = st.text_input("Where it comes from", value=start.get("origin", ""))
        where_to = st.text_input("Where it goes", value=start.get("destination", destination))
        purpose = st.text_area("Purpose of the move", value=start.get("purpose", ""))
        classification = st.selectbox(
            "Security classification",
            CLASSIFICATIONS,
            index=CLASSIFICATIONS.index(start["classification"])
            if start.get("classification") in CLASSIFICATIONS
            else 0,
        )
        personal = st.radio(
            "Does it hold personal data?", ["No", "Yes"], horizontal=True, index=1 if start.get("personal_data") else 0
        )
        dpia = st.text_input("DPIA reference (required for personal data)", value=start.get("dpia_reference") or "")
        retention = st.text_input("How long it will be kept", value=start.get("retention", ""))
        declaration = st.checkbox("I declare that the information governance procedures for this data were followed")
        submitted = st.form_submit_button("Complete the form", type="primary")
    if not submitted:
        return None
    return {
        "description": description,
        "origin": origin,
        "destination": where_to,
        "purpose": purpose,
        "classification": classification,
        "personal_data": personal == "Yes",
        "retention": retention,
        "declaration": declaration,
        "dpia_reference": dpia or None,
    }
