"""A joiner: the platform team adds them; their IAM role is created (with no access yet)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from core import audit
from core.actions.ask_to_join import close_join_requests
from core.actions.sign_in_link import SignInLink, make_link, send_link
from core.actor import acting
from core.adapters.aws import AwsError
from core.adapters.db import taken_means
from core.adapters.models import JoinRequest, User
from core.auth import hash_password
from core.context import Gatehouse
from core.domain import InvalidInput, NotFound, check_text, user_role_name, validate_email, validate_username
from core.effects import applied
from core.iam_sync import mark_changed, user_principal
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
) -> Joiner:
    """A joiner: the platform team adds them; their IAM role is created (with no access yet). Added from a request
    to join, they are bound to the identity at the identity provider that asked (and only that one signs in as
    them). With password sign-in and no password given, they get a one-time link that sets theirs. `provisioned`: the
    identity provider added them (SCIM), by `external_id`, its own id for them."""
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
        )
        session.add(user)
        with taken_means(f"There is already a platform member called {name}."):
            session.flush()  # the unique username answers for a member added since the check above
        answered = close_join_requests(session, user, actor.username, also=asked)
        existing_access = _has_existing_access(gatehouse, user_role_name(gatehouse.settings.env, name))
        if not existing_access:
            mark_changed(session, [user_principal(gatehouse.settings.env, user)])
        audit.record(
            session,
            actor.username,
            "user-added",
            f"{actor.username} added {name}"
            + (" (external)" if external else "")
            + (" to the platform team" if platform_admin else ""),
            subject=name,
            line_manager=manager.username if manager else None,
            existing_access_kept=existing_access,
            join_requests_answered=answered,
        )
        link = None
        if gatehouse.settings.sign_in_method == "password" and not password:
            link = make_link(session, gatehouse.settings, user, actor.username)
    if link is not None:
        link = send_link(gatehouse, link, email)
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


def _has_existing_access(gatehouse: Gatehouse, role_name: str) -> bool:
    """A joiner whose role the old platform made keeps its s3-access policy until `import-iam` adopts it (or
    reconcile, shown the drift, replaces it): adding them must not silently take their access away."""
    try:
        return gatehouse.aws.read_role_policies(role_name).inline is not None
    except AwsError:
        return False
