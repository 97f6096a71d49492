"""Joiners, movers and leavers as the identity provider says them (SCIM, issue #27). Each is what the platform team
does by hand, done by the same actions: a joiner is `add_user`, a leaver `mark_left`; a mover's line manager moves,
with the confirmations that waited for the old one; a member the provider deletes is a leaver it no longer sees."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import Session, col, select

from core import audit
from core.access import mark_changed, user_principal
from core.actions.add_user import add_user
from core.actions.deciding import send_on
from core.actions.mark_left import mark_left
from core.actor import acting
from core.adapters.models import AccessRequest, Grant, RequestStatus, User, UserStatus, utcnow
from core.context import Gatehouse
from core.domain import (
    InvalidInput,
    NotFound,
    check_text,
    plural,
    shown,
    validate_email,
    validate_username,
)
from core.notify import NotificationKind, notify
from core.rules import check_platform_admin


class AlreadyMember(InvalidInput):
    """The username is another member's already (SCIM answers 409 uniqueness)."""


class Unchangeable(InvalidInput):
    """What the identity provider asked to change cannot change (SCIM answers 400 mutability)."""


@dataclass(frozen=True)
class Provisioned:
    """A member as the identity provider has them, whole: what a PUT sends, or a PATCH leaves."""

    username: str
    email: str
    display_name: str = ""
    external_id: str | None = None
    active: bool | None = None  # None: as they are (a new member is active); false: a leaver
    external: bool = False  # Entra's userType "Guest"
    manager_id: int | None = None  # the manager's id, as the identity provider learnt it from Gatehouse
    sign_in_name: str | None = None  # the userName, when it is an address (`username_for`)


def username_for(user_name: str) -> tuple[str, str | None]:
    """(username, sign-in name) for the identity provider's userName. A userName that is an address (Entra ID sends
    the UPN, alice.smith@example.org) is what the sign-in claim will carry (preferred_username): it is kept, lower
    case, as the member's sign-in name, which names them at sign-in as an email does (auth.find_member); their
    username is its part before the @, each run of characters a username cannot hold made one hyphen (alice-smith).
    Any other userName is the username itself, by the one rule for usernames."""
    if "@" not in user_name:
        return validate_username(user_name), None
    address = validate_email(user_name).lower()
    local = re.sub(r"[^a-z0-9]+", "-", address.split("@", 1)[0]).strip("-")[:39].rstrip("-")
    if not local:
        raise InvalidInput(f"{shown(user_name, 40)!r} gives no username: put a letter or digit before its @.")
    return validate_username(local), address


def provision_user(gatehouse: Gatehouse, actor: User, wanted: Provisioned) -> User:
    """A joiner, added as the platform team adds one; a member the identity provider deleted before comes back as a
    returner (their history is theirs), with no access."""
    name = validate_username(wanted.username)
    manager = None
    if wanted.manager_id is not None:
        with gatehouse.session() as session:
            check_platform_admin(acting(session, actor)).enforce()
            manager = _manager(session, wanted.manager_id)
    try:  # the usual case first, in one transaction: a new name (add_user refuses one that is taken)
        joiner = add_user(
            gatehouse,
            actor,
            name,
            wanted.email,
            display_name=wanted.display_name,
            line_manager=manager.username if manager and manager.is_active else None,
            external=wanted.external,
            external_id=_external_id(wanted.external_id),
            provisioned=True,
            role_afterwards=True,
            sign_in_name=wanted.sign_in_name,
        )
    except InvalidInput:
        with gatehouse.session() as session:  # the name is taken: by a member, or one the provider deleted before
            existing = session.exec(select(User).where(User.username == name)).first()
            returner = existing is not None and existing.scim_deleted_at is not None
            if existing is not None and returner:
                existing.scim_deleted_at = None
                session.add(existing)
        if existing is None:
            raise
        if not returner:  # also the same joiner sent twice at once: the second is told so
            raise AlreadyMember(f"There is already a platform member called {name}.") from None
        return update_member(gatehouse, actor, existing.id or 0, wanted)
    if wanted.active is False or (manager is not None and not manager.is_active):
        return update_member(gatehouse, actor, joiner.user.id or 0, wanted)  # a leaver already, or their manager
    return joiner.user  # as it was committed, all of it loaded: no read again


def update_member(gatehouse: Gatehouse, actor: User, member_id: int, wanted: Provisioned) -> User:
    """The member made as the identity provider has them now: their details, their line manager (a mover), and
    whether they may use Gatehouse (`active`: false makes a leaver; true again lets them sign in, with no access)."""
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        user = _member(session, member_id)
        session.refresh(user, with_for_update=True)
        if validate_username(wanted.username) != user.username:
            raise Unchangeable(f"A member's username cannot change: {user.username} stays {user.username}.")
        before = _details(user)
        user.email = validate_email(wanted.email)
        user.display_name = check_text(wanted.display_name, "name", 120, multiline=False) or user.username
        user.external_id = _external_id(wanted.external_id)
        user.sign_in_name = wanted.sign_in_name
        if wanted.external and user.is_platform_admin:
            raise InvalidInput(f"{user.username} is in the platform team, so cannot be an external user.")
        user.is_external = wanted.external
        manager = _manager(session, wanted.manager_id) if wanted.manager_id is not None else None
        if manager is not None and manager.id == user.id:
            raise InvalidInput(f"{user.username} cannot be their own line manager.")
        if (manager.id if manager else None) != user.line_manager_id:
            _move(session, actor, user, manager)
        user.scim_managed = True
        session.add(user)
        if (after := _details(user)) != before:
            audit.record(
                session,
                actor.username,
                "user-changed",
                f"{actor.username} changed {user.username}'s details",
                subject=user.username,
                before=before,
                after=after,
            )
        leaving = user.is_active and wanted.active is False
        returning = not user.is_active and wanted.active is True
        username = user.username
    if leaving:
        mark_left(gatehouse, actor, username)
    elif returning:
        _return(gatehouse, actor, member_id)
    return provisioned_member(gatehouse, member_id)


def deprovision(gatehouse: Gatehouse, actor: User, member_id: int) -> None:
    """The identity provider deleted the member: a leaver (unless they are one already), kept with their history;
    from now on the identity provider no longer sees them."""
    with gatehouse.session() as session:
        check_platform_admin(acting(session, actor)).enforce()
        user = _member(session, member_id)
    if user.is_active:
        mark_left(gatehouse, actor, user.username)
    with gatehouse.session() as session:
        user = _member(session, member_id)
        user.scim_deleted_at = utcnow()
        session.add(user)
        audit.record(
            session,
            actor.username,
            "user-deprovisioned",
            f"{actor.username} deleted {user.username}; they are kept as having left, with their history",
            subject=user.username,
        )


def provisioned_member(gatehouse: Gatehouse, member_id: int) -> User:
    with gatehouse.session() as session:
        return _member(session, member_id)


def _member(session: Session, member_id: int) -> User:
    user = session.get(User, member_id, populate_existing=True)
    if user is None or user.scim_deleted_at is not None:
        raise NotFound("There is no such platform member.")
    return user


def _manager(session: Session, manager_id: int) -> User:
    """The line manager the identity provider names. One who has left is taken as it says (identity providers keep
    a disabled manager on their reports): nothing waits for a leaver, as when a line manager leaves later, so
    requests that need a line manager's confirmation go to the platform team instead."""
    manager = session.get(User, manager_id)
    if manager is None or manager.scim_deleted_at is not None:
        raise InvalidInput("The manager given is no platform member: provision them first.")
    return manager


def _external_id(external_id: str | None) -> str | None:
    """The identity provider's own id for the member; empty is none."""
    if external_id is None:
        return None
    return check_text(external_id, "externalId", 255, multiline=False) or None


def _details(user: User) -> dict[str, object]:
    return {
        "email": user.email,
        "display_name": user.display_name,
        "external_id": user.external_id,
        "sign_in_name": user.sign_in_name,
        "external": user.is_external,
        "line_manager_id": user.line_manager_id,
    }


def _move(session: Session, actor: User, user: User, manager: User | None) -> None:
    """A mover: their line manager changes, and their requests that waited for the old one to confirm wait for the
    new one (or the platform team, with none); the old one is told they no longer decide them."""
    old = session.get(User, user.line_manager_id) if user.line_manager_id else None
    user.line_manager_id = manager.id if manager else None
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor.username,
        "line-manager-changed",
        f"{actor.username} made {manager.username if manager else 'nobody'} {user.username}'s line manager"
        + (f" instead of {old.username}" if old else ""),
        subject=user.username,
        before={"line_manager": old.username if old else None},
        after={"line_manager": manager.username if manager else None},
    )
    if old is None:
        return
    waiting = session.exec(
        select(AccessRequest).where(
            AccessRequest.requester_id == user.id,
            AccessRequest.line_manager_id == old.id,
            AccessRequest.status == RequestStatus.PENDING_LINE_MANAGER,
        )
    ).all()
    for request in waiting:
        send_on(session, actor, request, old, manager, "is no longer {their} line manager")
    # a request the old manager asked a question about returns, once answered, to whoever manages them now (or,
    # with none, on to the platform team: answer_question sends it where a new request would go)
    asked = session.exec(
        select(AccessRequest).where(
            AccessRequest.requester_id == user.id,
            AccessRequest.line_manager_id == old.id,
            AccessRequest.status == RequestStatus.PENDING_ANSWER,
        )
    ).all()
    for request in asked:
        request.line_manager_id = manager.id if manager is not None else None
        session.add(request)
    if waiting:
        notify(
            session,
            [old],
            NotificationKind.REQUEST_MOVED,
            f"You are no longer {user.username}'s line manager",
            f"You are no longer {user.username}'s line manager: {plural(len(waiting), 'request')} of theirs that "
            f"waited for you to confirm now wait for {manager.username if manager else 'the platform team'}.",
        )


def _return(gatehouse: Gatehouse, actor: User, member_id: int) -> None:
    """A leaver the identity provider makes active again may sign in, with no access: the grants their leaving ended
    are ended for good (the audit event lists them), so that none comes back by itself."""
    with gatehouse.session() as session:
        user = _member(session, member_id)
        session.refresh(user, with_for_update=True)
        if user.status != UserStatus.LEFT:
            return
        ended = session.exec(select(Grant).where(Grant.user_id == user.id)).all()
        session.exec(delete(Grant).where(col(Grant.user_id) == user.id))  # type: ignore[call-overload]
        user.status, user.left_at = UserStatus.ACTIVE, None
        session.add(user)
        mark_changed(session, [user_principal(gatehouse.settings.env, user)])
        audit.record(
            session,
            actor.username,
            "user-returned",
            f"{actor.username} made {user.username} active again; they may sign in, with none of their earlier access",
            subject=user.username,
            ended_grants=[{"source_id": g.source_id, "level": g.level, "paths": g.paths} for g in ended],
        )
