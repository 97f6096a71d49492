"""A source's classification and its information asset owner (issue #29): set by its admins or the platform team,
refused in one sentence where it cannot be, audited and told, shown wherever the source is listed, enforced on every
direct grant and change, and said to the admins when the owner leaves; the CLI's `sources set` and `show`. On SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from core import actions
from core.actor import platform_operator
from core.adapters.models import AccessRequest, AuditEvent, DataSource, Grant, Notification, User, utcnow
from core.adapters.review_models import ReviewItem
from core.context import Gatehouse
from core.domain import (
    AccessLevel,
    Classification,
    InvalidFields,
    InvalidInput,
    NotAllowed,
    NotFound,
    RequestStatus,
    day,
)
from core.queries import get_user
from core.reads import catalog, platform, sources
from tests.integration.test_cli import gatehouse_cli  # noqa: F401  (the fixture, as `gatehouse …` runs)
from tests.teams import make_team

pytestmark = pytest.mark.both_databases  # a classification's rules read in SQL: as both databases answer

SOURCE = "alpha-sales-analysis"  # bob administers it; alice reads /published
PERSONAL = Classification.PERSONAL
NEED = "The monthly sales review needs the published figures for the finance committee."
OPERATOR = platform_operator("ops")


def user(gatehouse: Gatehouse, name: str) -> User:
    with gatehouse.session() as session:
        return get_user(session, name)


def source_row(gatehouse: Gatehouse, name: str = SOURCE) -> DataSource:
    with gatehouse.session() as session:
        found = session.exec(select(DataSource).where(DataSource.name == name)).one()
        session.expunge(found)
        return found


def events(gatehouse: Gatehouse, action: str = "source-classified") -> list[AuditEvent]:
    with gatehouse.session() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


def told(gatehouse: Gatehouse, name: str) -> list[Notification]:
    with gatehouse.session() as session:
        return list(
            session.exec(
                select(Notification)
                .where(Notification.user_id == get_user(session, name).id)
                .order_by(col(Notification.id))
            )
        )


def classify(gatehouse: Gatehouse, iao: str | None = "carol", kind: Classification = PERSONAL) -> None:
    actions.set_classification(gatehouse, user(gatehouse, "bob"), SOURCE, kind, iao)


def external(gatehouse: Gatehouse, name: str = "xena") -> User:
    actions.add_user(gatehouse, OPERATOR, name, f"{name}@partner.example.org", external=True)
    return user(gatehouse, name)


# --- setting it --------------------------------------------------------------------------------------------------


def test_an_admin_marks_a_source_as_personal_data_its_owner_is_told_and_every_list_shows_it(
    gatehouse: Gatehouse,
) -> None:
    bob, alice = user(gatehouse, "bob"), user(gatehouse, "alice")
    done = actions.set_classification(gatehouse, bob, SOURCE, PERSONAL, "Carol")  # a username as typed
    assert (done.classification, done.iao, done.changed) == (PERSONAL, "carol", True)
    latest = utcnow().date() + timedelta(days=365)
    # access to personal data always ends: the grants that did not (alice's, bob's admin) end at the furthest date
    assert done.ended >= 2 and done.ends_on == latest
    assert done.sentence == (
        f"{SOURCE} is personal data, with carol as its information asset owner; {done.ended} grants that did not end "
        f"by then now end on {day(latest)}, as it asks."
    )
    with gatehouse.session() as session:
        on_it = session.exec(select(Grant).join(DataSource).where(DataSource.name == SOURCE)).all()
        assert len(on_it) == done.ended and {g.expires_on for g in on_it} == {latest}
    [ended] = events(gatehouse, "grants-end-by-classification")
    assert ended.actor == "bob" and ended.details["after"] == {"expires_on": latest.isoformat()}
    assert any(m.subject == f"Your access to {SOURCE} now ends on {day(latest)}" for m in told(gatehouse, "alice"))
    stored = source_row(gatehouse)
    assert stored.classification is PERSONAL and stored.iao_id == user(gatehouse, "carol").id
    [event] = events(gatehouse)
    assert event.actor == "bob" and event.source_id == stored.id
    assert event.summary == f"bob marked {SOURCE} as personal data with carol as its information asset owner"
    assert event.details["before"] == {"classification": "standard", "iao": None}
    assert event.details["after"] == {"classification": "personal", "iao": "carol"}
    [message] = told(gatehouse, "carol")[-1:]
    assert message.subject == f"You are the information asset owner of {SOURCE}"
    assert "approve access to it after its admins" in message.body

    label = "Personal data · IAO carol"
    with gatehouse.session() as session:
        mine = [s for s in catalog.usable_sources(session, alice) if s.name == SOURCE]
        assert [s.holds.label for s in mine] == [label]
        others = catalog.other_sources(session, user(gatehouse, "dave"), search="sales").items
        assert [(o.name, o.holds.label) for o in others] == [(SOURCE, label)]
        listed = platform.sources(session, user(gatehouse, "dave"), search="alpha-").items
        assert {s.name: s.holds.label for s in listed}[SOURCE] == label
        assert {s.name: s.holds.label for s in listed}["alpha-pricing-models"] == "Standard"
        assert catalog.source_holdings(session, alice, [SOURCE, "alpha-pricing-models"])[SOURCE].label == label
        assert sources.source_details(session, bob, SOURCE).holds.label == label

    again = actions.set_classification(gatehouse, bob, SOURCE, PERSONAL, "carol")
    assert not again.changed and again.sentence.endswith("already: nothing changed.")
    assert len(events(gatehouse)) == 1


def test_the_platform_team_sets_it_a_new_owner_replaces_the_old_and_standard_clears_it(gatehouse: Gatehouse) -> None:
    dave = user(gatehouse, "dave")
    actions.set_classification(gatehouse, dave, SOURCE, Classification.SPECIAL_CATEGORY, "carol")
    carol_before = len(told(gatehouse, "carol"))
    actions.set_classification(gatehouse, dave, SOURCE, Classification.SPECIAL_CATEGORY, "bob")
    assert told(gatehouse, "carol")[-1].subject == f"You are no longer the information asset owner of {SOURCE}"
    assert "named bob the information asset owner" in told(gatehouse, "carol")[-1].body
    assert len(told(gatehouse, "carol")) == carol_before + 1
    assert told(gatehouse, "bob")[-1].subject == f"You are the information asset owner of {SOURCE}"

    back = actions.set_classification(gatehouse, dave, SOURCE, Classification.STANDARD, None)
    assert (back.classification, back.iao) == (Classification.STANDARD, None)
    stored = source_row(gatehouse)
    assert stored.classification is Classification.STANDARD and stored.iao_id is None
    assert told(gatehouse, "bob")[-1].subject == f"You are no longer the information asset owner of {SOURCE}"
    assert events(gatehouse)[-1].details["after"] == {"classification": "standard", "iao": None}


# --- refusing it -------------------------------------------------------------------------------------------------


def _refused(gatehouse: Gatehouse, actor: str, iao: str | None, kind: Classification = PERSONAL) -> str:
    with pytest.raises((InvalidInput, NotFound, NotAllowed)) as refused:
        actions.set_classification(gatehouse, user(gatehouse, actor), SOURCE, kind, iao)
    assert source_row(gatehouse).classification is Classification.STANDARD  # nothing changed
    assert events(gatehouse) == []
    sentence = str(refused.value)
    assert sentence.count(". ") == 0 and sentence.endswith("."), sentence  # one sentence
    return sentence


def test_personal_data_without_an_owner_is_refused_in_one_sentence(gatehouse: Gatehouse) -> None:
    said = _refused(gatehouse, "bob", None)
    assert said.startswith("A source holding personal data must name its information asset owner")
    assert _refused(gatehouse, "bob", "  ").startswith("A source holding personal data must name")


def test_an_external_a_leaver_or_nobody_cannot_be_the_owner(gatehouse: Gatehouse) -> None:
    external(gatehouse)
    assert "external users cannot be information asset owners" in _refused(gatehouse, "bob", "xena")
    assert _refused(gatehouse, "bob", "erin") == (
        "erin has left the organisation and cannot be an information asset owner."
    )
    assert _refused(gatehouse, "bob", "nobody") == "There is no platform member called nobody."
    assert "leave out carol" in _refused(gatehouse, "bob", "carol", Classification.STANDARD)


def test_only_the_sources_admins_and_the_platform_team_set_it(gatehouse: Gatehouse) -> None:
    assert _refused(gatehouse, "alice", "carol") == f"Only an admin of {SOURCE} can manage its access."
    assert _refused(gatehouse, "carol", "carol") == f"Only an admin of {SOURCE} can manage its access."


def test_an_unknown_or_archived_source_is_refused(gatehouse: Gatehouse) -> None:
    bob = user(gatehouse, "bob")
    with pytest.raises(NotFound, match=r"^There is no data source called alpha-nothing\.$"):
        actions.set_classification(gatehouse, bob, "alpha-nothing", PERSONAL, "carol")
    actions.archive_source(gatehouse, bob, SOURCE)
    with pytest.raises(InvalidInput, match=f"^{SOURCE} is archived: its classification no longer changes"):
        actions.set_classification(gatehouse, bob, SOURCE, PERSONAL, "carol")


# --- its rules on direct grants and changes ----------------------------------------------------------------------


def _grant_refused(gatehouse: Gatehouse, **terms: object) -> dict[str, str]:
    before = _grants(gatehouse)
    with pytest.raises(InvalidFields) as refused:
        actions.grant_access(gatehouse, user(gatehouse, "bob"), SOURCE, ["carol"], AccessLevel.READ_ONLY, **terms)
    assert _grants(gatehouse) == before
    return refused.value.problems


def _grants(gatehouse: Gatehouse) -> int:
    with gatehouse.session() as session:
        return len(session.exec(select(Grant)).all())


def test_a_grant_of_personal_data_needs_an_end_date_at_most_a_year_away(gatehouse: Gatehouse) -> None:
    classify(gatehouse)
    today = utcnow().date()
    assert _grant_refused(gatehouse, paths="/published") == {
        "until": "Access to personal data always ends: choose an end date, at most 365 days away."
    }
    far = today + timedelta(days=366)
    assert _grant_refused(gatehouse, paths="/published", expires_on=far) == {
        "until": f"Access to personal data ends at most 365 days away: choose an end date by "
        f"{day(today + timedelta(days=365))}."
    }
    outcome = actions.grant_access(
        gatehouse,
        user(gatehouse, "bob"),
        SOURCE,
        ["carol"],
        AccessLevel.READ_ONLY,
        "/published",
        today + timedelta(days=365),
    )
    assert outcome.recorded == ["carol"]


def test_special_category_data_needs_paths_and_both_problems_are_said_at_once(gatehouse: Gatehouse) -> None:
    classify(gatehouse, kind=Classification.SPECIAL_CATEGORY)
    problems = _grant_refused(gatehouse)
    assert set(problems) == {"paths", "until"}
    assert problems["paths"].startswith("Access to special category data is to named paths, never the whole source")
    ends = utcnow().date() + timedelta(days=30)
    assert _grant_refused(gatehouse, expires_on=ends) == {"paths": problems["paths"]}


def test_a_teams_grant_and_a_change_keep_the_same_rules(gatehouse: Gatehouse) -> None:
    make_team(gatehouse, "analysts", ["carol"])
    classify(gatehouse)
    bob = user(gatehouse, "bob")
    with pytest.raises(InvalidFields) as refused:
        actions.grant_team_access(gatehouse, bob, SOURCE, "analysts", AccessLevel.READ_ONLY, "/published")
    assert set(refused.value.problems) == {"until"}
    with gatehouse.session() as session:
        alices = catalog.access_list(session, bob, SOURCE, search="alice").items[0]
    # granted before the source was classified, with no end: given the furthest one it allows
    assert alices.expires_on == utcnow().date() + timedelta(days=365)
    with pytest.raises(InvalidFields) as changed:  # a change keeps to what it holds now
        actions.change_access(gatehouse, bob, SOURCE, "alice", alices.grant_id, AccessLevel.READ_ONLY, "/published")
    assert set(changed.value.problems) == {"until"}
    ends = utcnow().date() + timedelta(days=90)
    actions.change_access(gatehouse, bob, SOURCE, "alice", alices.grant_id, AccessLevel.READ_ONLY, "/published", ends)
    with gatehouse.session() as session:
        assert catalog.access_list(session, bob, SOURCE, search="alice").items[0].expires_on == ends


def test_a_standard_source_keeps_its_open_ended_grants(gatehouse: Gatehouse) -> None:
    outcome = actions.grant_access(
        gatehouse, user(gatehouse, "bob"), SOURCE, ["carol"], AccessLevel.READ_ONLY, "/published"
    )
    assert outcome.recorded == ["carol"]


# --- the owner leaves ----------------------------------------------------------------------------------------------


def test_when_the_owner_leaves_the_admins_are_asked_for_a_new_one_and_the_platform_team_takes_their_requests(
    gatehouse: Gatehouse,
) -> None:
    classify(gatehouse)
    asked = actions.request_access(
        gatehouse, user(gatehouse, "dave"), "alpha-pricing-models", AccessLevel.READ_ONLY, "/reports", NEED
    )
    actions.set_classification(gatehouse, user(gatehouse, "bob"), "alpha-pricing-models", PERSONAL, "carol")
    with gatehouse.session() as session:  # as if bob had approved it as admin: it waits for carol
        session.exec(  # type: ignore[call-overload]
            update(AccessRequest).where(col(AccessRequest.id) == asked.id).values(status=RequestStatus.PENDING_IAO)
        )
    platform_before = len(told(gatehouse, "dave"))
    actions.mark_left(gatehouse, OPERATOR, "carol")
    [asked_bob] = [n for n in told(gatehouse, "bob") if n.subject == f"{SOURCE} needs a new information asset owner"]
    assert "carol, the information asset owner of" in asked_bob.body and "name a new one" in asked_bob.body
    platform_now = told(gatehouse, "dave")[platform_before:]
    assert [(n.subject, n.request_id) for n in platform_now] == [
        ("A request for alpha-pricing-models waits for you", asked.id)
    ]
    [left] = events(gatehouse, "user-left")
    assert left.details["iao_of"] == ["alpha-pricing-models", SOURCE]
    with gatehouse.session() as session:
        assert sources.source_details(session, user(gatehouse, "bob"), SOURCE).holds.label == (
            "Personal data · IAO carol (left)"
        )
    with pytest.raises(InvalidInput, match="carol has left the organisation"):
        classify(gatehouse)  # a new one is named, never the leaver again
    classify(gatehouse, "bob")
    assert source_row(gatehouse).iao_id == user(gatehouse, "bob").id


# --- the CLI -------------------------------------------------------------------------------------------------------


def test_the_operator_sets_and_shows_a_sources_classification(gatehouse: Gatehouse, gatehouse_cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    done = gatehouse_cli("sources", "set", SOURCE, "--classification", "personal", "--iao", "carol")
    assert done.returncode == 0, done.stderr
    latest = day(utcnow().date() + timedelta(days=365))
    assert done.stdout == (
        f"{SOURCE} is personal data, with carol as its information asset owner; 2 grants that did not end by then "
        f"now end on {latest}, as it asks.\n"
    )
    [event] = events(gatehouse)
    assert event.actor.startswith("cli:") and event.details["after"] == {"classification": "personal", "iao": "carol"}
    shown = gatehouse_cli("sources", "show", SOURCE)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[:8] == [
        f"source:\t{SOURCE}",
        "kind:\twarehouse",
        "classification:\tpersonal",
        "information asset owner:\tcarol",
        "admins:\tbob",
        "hidden:\tno",
        "archived:\tno",
        "grants:\t2",
    ]
    assert f"\talice\tread-only\t/published\tuntil {latest}" in lines[8:]  # ends now, as personal data does
    assert any(line.startswith("\tbob\tadmin\t") for line in lines[8:])
    open_ended = gatehouse_cli("access", "grant", SOURCE, "carol", "--level", "read-only", "--path", "/published")
    assert open_ended.returncode != 0 and open_ended.stderr == (
        "gatehouse: Access to personal data always ends: choose an end date, at most 365 days away.\n"
    )
    back = gatehouse_cli("sources", "set", SOURCE, "--classification", "standard")
    assert back.returncode == 0 and back.stdout == f"{SOURCE} is standard.\n", back.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ("sources", "set", SOURCE),
            f"Say what {SOURCE} holds: --classification standard, personal, special-category.",
        ),
        (("sources", "set", SOURCE, "--classification", "secret"), "secret is not a classification"),
        (("sources", "set", SOURCE, "--classification", "personal"), "must name its information asset owner"),
        (("sources", "set", SOURCE, "--classification", "personal", "--iao", "erin"), "erin has left"),
        (("sources", "set", SOURCE, "--classification", "personal", "--iao", "nobody"), "no platform member called"),
        (("sources", "set", "alpha-nothing", "--classification", "standard"), "no data source called alpha-nothing"),
        (("sources", "show", "alpha-nothing"), "There is no data source called alpha-nothing."),
    ],
)
def test_bad_input_to_sources_is_one_sentence_and_exit_2(  # type: ignore[no-untyped-def]
    gatehouse: Gatehouse,
    gatehouse_cli,  # noqa: F811
    arguments: tuple[str, ...],
    message: str,
) -> None:
    result = gatehouse_cli(*arguments)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert events(gatehouse) == []


def test_a_reviews_change_of_personal_data_is_refused_beside_each_field_at_once(gatehouse: Gatehouse) -> None:
    """A reviewer's Change is a change like any other: what the source's classification asks (an end date) and what
    is wrong in its paths are said together, each beside its field, and nothing changes."""
    bob, dave = user(gatehouse, "bob"), user(gatehouse, "dave")
    actions.set_classification(gatehouse, bob, SOURCE, PERSONAL, "carol")
    started = actions.start_review(gatehouse, dave, utcnow().date() + timedelta(days=30), [SOURCE])
    with gatehouse.session() as session:
        alice_id = get_user(session, "alice").id
        [item] = [
            i
            for i in session.exec(select(ReviewItem).where(ReviewItem.campaign_id == started.campaign_id))
            if i.user_id == alice_id
        ]
    with pytest.raises(InvalidFields) as refused:
        actions.review_grant(gatehouse, bob, item.id or 0, "change", AccessLevel.READ_ONLY, "s3://another-bucket/x")
    assert set(refused.value.problems) == {"paths", "until"}
    assert "Access to personal data always ends" in refused.value.problems["until"]
    with pytest.raises(InvalidFields, match="Access to personal data always ends"):
        actions.review_grant(gatehouse, bob, item.id or 0, "change", AccessLevel.READ_ONLY, "/published")
    with gatehouse.session() as session:
        assert session.get(ReviewItem, item.id).decision is None  # type: ignore[union-attr]
    ends = utcnow().date() + timedelta(days=60)
    actions.review_grant(gatehouse, bob, item.id or 0, "change", AccessLevel.READ_ONLY, "/published", ends)
    with gatehouse.session() as session:
        grant = session.exec(select(Grant).where(Grant.user_id == alice_id, Grant.source_id == item.source_id)).one()
        assert grant.expires_on == ends
