"""Analysts cannot create webapp sources: they ask the platform team, who create it for the app (or refuse)."""

from __future__ import annotations

from sqlmodel import select

from core import audit
from core.actor import acting
from core.adapters.models import DataSource, RequestStatus, SourceRequest, User
from core.context import Gatehouse
from core.domain import MAX_BUSINESS_NEED, InvalidInput, check_text, validate_bucket_name, validate_username
from core.notify import NotificationKind, notify
from core.queries import platform_team
from core.rules import check_business_need, check_may_own_sources


def request_webapp_source(
    gatehouse: Gatehouse, actor: User, bucket_name: str, app_name: str, business_need: str
) -> SourceRequest:
    """Analysts cannot create webapp sources: they ask the platform team, who create it for the app."""
    bucket = validate_bucket_name(bucket_name, gatehouse.settings.bucket_prefix)
    app = validate_username(app_name) if app_name.strip() else ""
    if not app:
        raise InvalidInput("Name the app that will read the data source.")
    need = check_text(business_need, "business need", MAX_BUSINESS_NEED)
    check_business_need(need).enforce(InvalidInput)
    with gatehouse.session() as session:
        actor = acting(session, actor)
        check_may_own_sources(actor).enforce(InvalidInput)
        if session.exec(select(DataSource.id).where(DataSource.name == bucket)).first() is not None:
            raise InvalidInput(f"A data source called {bucket} already exists: choose another name.")
        request = SourceRequest(
            requester_id=actor.id or 0,
            bucket_name=bucket,
            app_name=app,
            business_need=need,
            status=RequestStatus.PENDING_PLATFORM,
        )
        session.add(request)
        session.flush()
        audit.record(
            session,
            actor.username,
            "source-requested",
            f"{actor.username} asked for the webapp data source {bucket} for the app {app}",
            subject=actor.username,
            request_id=request.id,
        )
        notify(
            session,
            platform_team(session),
            NotificationKind.SOURCE_REQUEST,
            f"{actor.username} asks for a webapp data source",
            f"{actor.username} asks for the webapp data source {bucket} for the app {app}.\nBusiness need: {need}",
        )
    return request
