"""A joiner: the platform team adds them; their IAM role is created (with no access yet)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from core import audit
from core.access import Principal, mark_changed, user_principal
from core.actions.ask_to_join import close_join_requests
from core.actions.sign_in_link import SignInLink, make_link, send_link
from core.actor import acting
from core.adapters.aws import AwsError
from core.adapters.db import taken_means
from core.adapters.models import RoleSync, User
from core.adapters.sign_in_models import JoinRequest
from core.auth import hash_password
from core.context import Gatehouse
from core.domain import InvalidInput, NotFound, check_text, validate_email, validate_username
from core.effects import applied
from core.queries import get_user
from core.rules import check_not_left, check_platform_admin


@dataclass(frozen=True)
class Joiner:
    user: User
    existing_access_kept: bool  # their role already had an s3-access policy: left in place for import-iam
    sync_error: str | None = None  # why their role is not made in AWS yet (retried)
    # Password sign-in: the one-time link that sets their password, shown this once. None with the identity
    # provider (it signs them in), or when a password was given (the demo's accounts).
    sign_in_link: SignInLink | None = None

    @property
    def aws_pending(self) -> str | None:
        return self.sync_error


def add_user(
    gatehouse: Gatehouse,
    actor: User,
    username: str,
    email: str,
    *,
    display_name: str = "",
    line_manager: str | None = None,
    platform_admin: bool = False,
    external: bool = False,
    password: str | None = None,
    join_request: int | None = None,
    external_id: str | None = None,
    provisioned: bool = False,
    role_afterwards: bool = False,
    sign_in_name: str | None = None,
) -> Joiner:
    """A joiner: the platform team adds them; their IAM role is created (with no access yet). Added from a request
    to join, they are bound to the identity at the identity provider that asked (and only that one signs in as
    them). With password sign-in and no password given, they get a one-time link that sets theirs. `provisioned`: the
    identity provider added them (SCIM), by `external_id`, its own id for them, and `sign_in_name`, the address it
    calls them by. `role_afterwards`: their IAM role is
    made after this returns (`make_role`, on the service's background thread): a joiner holds nothing yet, so nobody
    is told of access that is not in AWS, and an identity provider's sync of thousands is not held up by IAM."""
    name = validate_username(username)
    email = validate_email(email)
    if external and platform_admin:
        raise InvalidInput("An external user cannot be in the platform team.")
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_platform_admin(actor).enforce()
        if session.exec(select(User.id).where(User.username == name)).first() is not None:
            raise InvalidInput(f"There is already a platform member called {name}.")
        manager = get_user(session, line_manager) if line_manager else None
        if manager is not None:
            check_not_left(manager, " and cannot be a line manager").enforce(InvalidInput)
        asked = _open_join_request(session, join_request) if join_request is not None else None
        user = User(
            username=name,
            email=email,
            display_name=check_text(display_name, "name", 120, multiline=False) or name,
            line_manager_id=manager.id if manager else None,
            is_platform_admin=platform_admin,
            is_external=external,
            password_hash=hash_password(password) if password else None,
            oidc_issuer=asked.oidc_issuer if asked else None,
            oidc_subject=asked.oidc_subject if asked else None,
            scim_managed=provisioned,
            external_id=external_id,
            sign_in_name=sign_in_name,
        )
        session.add(user)
        with taken_means(f"There is already a platform member called {name}."):
            session.flush()  # the unique username answers for a member added since the check above
        answered = close_join_requests(session, user, actor.username, also=asked)
        principal = user_principal(gatehouse.settings.env, user)
        existing_access = not role_afterwards and _has_existing_access(gatehouse, principal.role_name)
        if not (existing_access or role_afterwards):
            mark_changed(session, [principal])
        audit.record(
            session,
            actor.username,
            "user-added",
            f"{actor.username} added {name}"
            + (" (external)" if external else "")
            + (" to the platform team" if platform_admin else ""),
            subject=name,
            line_manager=manager.username if manager else None,
            existing_access_kept=None if role_afterwards else existing_access,
            join_requests_answered=answered,
        )
        link = None
        if gatehouse.settings.sign_in_method == "password" and not password:
            link = make_link(session, gatehouse.settings, user, actor.username)
    if link is not None:
        link = send_link(gatehouse, link, email)
    if role_afterwards:
        gatehouse.afterwards(make_role, gatehouse, principal, name)
        return Joiner(user, False, "their IAM role is being made", link)
    synced = applied(session)
    return Joiner(user, existing_access, next((o.error for o in synced if o.error), None), link)


def _open_join_request(session: Session, request_id: int) -> JoinRequest:
    asked = session.exec(
        select(JoinRequest).where(JoinRequest.id == request_id, col(JoinRequest.closed_at).is_(None))
    ).first()
    if asked is None:
        raise NotFound("That request to join is no longer open.")
    if asked.oidc_subject is not None:
        bound = session.exec(
            select(User.username).where(User.oidc_issuer == asked.oidc_issuer, User.oidc_subject == asked.oidc_subject)
        ).first()
        if bound is not None:
            raise InvalidInput(f"The identity that asked to join is already {bound}'s: dismiss the request.")
    return asked


def make_role(gatehouse: Gatehouse, principal: Principal, username: str) -> None:
    """A joiner's IAM role, made after they were added, as `add_user` makes it: unless anything has marked the role
    since (a grant, their leaving: that change makes it), and unless the old platform's role is there with access,
    which is kept until import-iam (said in the audit trail). Whatever AWS refuses is recorded and retried; if this
    never runs (the process stopped), the role is made by the first change of their access, and reconcile shows it
    missing until then."""
    if _marked(gatehouse, principal):
        return
    if _has_existing_access(gatehouse, principal.role_name):
        if _marked(gatehouse, principal):  # a grant's sync wrote it a moment ago: that was its access
            return
        with gatehouse.session() as session:
            audit.record(
                session,
                "system",
                "user-existing-access-kept",
                f"{username}'s IAM role already had S3 access from before Gatehouse: it is kept until import-iam",
                subject=username,
            )
        return
    with gatehouse.session() as session:
        # The member's row first, then their role's, the order every change of a member takes (their leaving: its
        # row for update, then the role marked): taken the other way round, the two would wait for each other.
        session.exec(select(User.id).where(User.id == principal.user_id).with_for_update(key_share=True)).first()
        if session.exec(select(RoleSync.id).where(RoleSync.role_name == principal.role_name)).first() is not None:
            return  # marked meanwhile: that change makes the role
        mark_changed(session, [principal])  # made as this unit of work commits (core/effects.py)


def _marked(gatehouse: Gatehouse, principal: Principal) -> bool:
    with gatehouse.session() as session:
        return session.exec(select(RoleSync.id).where(RoleSync.role_name == principal.role_name)).first() is not None


def _has_existing_access(gatehouse: Gatehouse, role_name: str) -> bool:
    """A joiner whose role the old platform made keeps its s3-access policy until `import-iam` adopts it (or
    reconcile, shown the drift, replaces it): adding them must not silently take their access away."""
    try:
        return gatehouse.aws.read_role_policies(role_name).inline is not None
    except AwsError:
        return False
