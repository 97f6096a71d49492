"""SCIM 2.0 (RFC 7643 / 7644) at /scim/v2: the identity provider's joiners, movers and leavers, as core's actions.

HTTP only: a request is authenticated (a bearer token), parsed with scim2-models, handed to core/actions/
provision_user.py, and its answer or its error serialised as SCIM says. Payloads are read leniently where real
identity providers depart from the RFCs (Entra ID: "Replace", "False", `value` dicts without a path); nothing a
client sends ever comes back as a traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    Email,
    EnterpriseUser,
    Error,
    ETag,
    Filter,
    ListResponse,
    Manager,
    Meta,
    Name,
    Patch,
    PatchOp,
    ResourceType,
    Schema,
    SCIMException,
    ScimPolicy,
    SearchRequest,
    ServiceProviderConfig,
    Sort,
    User,
)
from scim2_models.path.expressions import AttrPath, CompareOperator, Comparison
from sqlmodel import col, func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from core.actions.provision_user import (
    AlreadyMember,
    Provisioned,
    Unchangeable,
    deprovision,
    provision_user,
    provisioned_member,
    update_member,
)
from core.actions.scim_token import authenticate
from core.actor import identity_provider
from core.adapters.models import User as Member
from core.context import Gatehouse
from core.domain import GatehouseError, InvalidInput, NotFound, shown

log = logging.getLogger("gatehouse.scim")

Resource = User[EnterpriseUser]
SCIM_JSON = "application/scim+json"
MAX_RESULTS = 200  # a page of users at most; the identity provider asks for the next with startIndex
MAX_BODY_BYTES = 100_000  # a user is a few hundred bytes: anything bigger is not one
# Read as real identity providers write (each a departure from the RFCs some provider is known for): attributes
# Gatehouse keeps no place for are dropped, Entra ID's `remove` with a `value` selects what to remove, and a
# `replace` of `emails[type eq "work"].value` on a member with no such email adds it.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)
GUEST = "guest"  # Entra ID's userType for someone from outside the organisation


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def router() -> Router:
    return Router(
        routes=[
            Route("/Users", _scim(list_users), methods=["GET"]),
            Route("/Users", _scim(create_user), methods=["POST"]),
            Route("/Users/{member_id}", _scim(get_user), methods=["GET"]),
            Route("/Users/{member_id}", _scim(replace_user), methods=["PUT"]),
            Route("/Users/{member_id}", _scim(patch_user), methods=["PATCH"]),
            Route("/Users/{member_id}", _scim(delete_user), methods=["DELETE"]),
            Route("/ServiceProviderConfig", _scim(service_provider_config), methods=["GET"]),
            Route("/ResourceTypes", _scim(resource_types), methods=["GET"]),
            Route("/ResourceTypes/{name}", _scim(resource_type), methods=["GET"]),
            Route("/Schemas", _scim(schemas), methods=["GET"]),
            Route("/Schemas/{uri}", _scim(schema), methods=["GET"]),
        ]
    )


# --- the envelope: authentication, errors --------------------------------------------------------------------

Handler = Callable[[Request, Gatehouse, Member], Awaitable[Response]]


def _scim(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Every SCIM request: a bearer token first (401 otherwise), then the handler; whatever goes wrong is a SCIM
    error body with one sentence, never a traceback (an unexpected one is logged, without the request's headers)."""

    async def endpoint(request: Request) -> Response:
        gatehouse: Gatehouse = request.app.state.gatehouse
        try:
            token_name = await run_in_threadpool(_token_name, gatehouse, request)
            if token_name is None:
                raise ScimError(401, "Send a valid SCIM bearer token in the Authorization header.")
            return await handler(request, gatehouse, identity_provider(token_name))
        except ScimError as error:
            return _error(error.status, error.detail, error.scim_type)
        except SCIMException as error:
            return _error(error.status, _sentence(error.detail), error.scim_type or None)
        except AlreadyMember as error:
            return _error(409, str(error), "uniqueness")
        except Unchangeable as error:
            return _error(400, str(error), "mutability")
        except NotFound as error:
            return _error(404, str(error))
        except InvalidInput as error:
            return _error(400, str(error), "invalidValue")
        except GatehouseError as error:  # the rules refused (only the platform team…): the token's rights
            return _error(403, str(error))
        except ValidationError as error:
            return _error(400, _validation_sentence(error), "invalidValue")
        except Exception:
            log.exception("SCIM %s %s failed", request.method, request.url.path)
            return _error(500, "Gatehouse could not complete this request; the reason is in its log.")

    return endpoint


def _token_name(gatehouse: Gatehouse, request: Request) -> str | None:
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return None
    return authenticate(gatehouse, presented.strip())


def _error(status: int, detail: str, scim_type: str | None = None) -> Response:
    body = Error(status=status, scim_type=scim_type, detail=detail).model_dump()
    headers = {"WWW-Authenticate": 'Bearer realm="gatehouse-scim"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=SCIM_JSON, headers=headers)


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith(".") else f"{text}."


def _validation_sentence(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"] if not isinstance(part, int))
    message = first["msg"].removeprefix("Value error, ")
    return _sentence(f"{where}: {message}" if where else message)


def _ok(body: dict[str, Any], status: int = 200, location: str | None = None) -> Response:
    headers = {"Location": location} if location else None
    return JSONResponse(body, status_code=status, media_type=SCIM_JSON, headers=headers)


async def _payload(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ScimError(413, f"The request body is over {MAX_BODY_BYTES:,} bytes: that is not one user.")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise ScimError(400, "The request body is not JSON.", "invalidSyntax") from None
    if not isinstance(payload, dict):
        raise ScimError(400, "The request body must be a JSON object.", "invalidSyntax")
    return payload


# --- Users -----------------------------------------------------------------------------------------------------


def as_resource(member: Member, base: str) -> Resource:
    resource = Resource(
        id=str(member.id),
        user_name=member.username,
        external_id=member.external_id,
        display_name=member.display_name or member.username,
        name=Name(formatted=member.display_name or member.username),
        emails=[Email(value=member.email, type="work", primary=True)] if member.email else None,
        active=member.is_active,
        user_type="Guest" if member.is_external else "Member",
        meta=Meta(
            resource_type="User",
            created=member.created_at,
            last_modified=member.created_at,
            location=f"{base}/Users/{member.id}",
        ),
    )
    if member.line_manager_id is not None:
        resource[EnterpriseUser] = EnterpriseUser(manager=Manager(value=str(member.line_manager_id)))
    return resource


def wanted(resource: Resource) -> Provisioned:
    """What the identity provider says the member is, in Gatehouse's words."""
    if not resource.user_name:
        raise ScimError(400, "A user needs a userName.", "invalidValue")
    emails = resource.emails or []
    email = next((e.value for e in emails if e.primary and e.value), None) or next(
        (e.value for e in emails if e.value), None
    )
    if not email:
        raise ScimError(400, "A user needs an email address in emails.", "invalidValue")
    name = resource.name
    from_parts = " ".join(p for p in (name.given_name, name.family_name) if p) if name else ""
    display_name = resource.display_name or (name.formatted if name else None) or from_parts
    extension = resource[EnterpriseUser]
    manager = extension.manager.value if extension is not None and extension.manager is not None else None
    if manager is not None and not str(manager).isdigit():
        raise ScimError(400, f"The manager {shown(str(manager), 40)!r} is no platform member's id.", "invalidValue")
    return Provisioned(
        username=resource.user_name,
        email=str(email),
        display_name=display_name or "",
        external_id=resource.external_id,
        active=resource.active is not False,
        external=(resource.user_type or "").lower() == GUEST,
        manager_id=int(manager) if manager is not None else None,
    )


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + request.scope.get("root_path", "")


def _member_id(request: Request) -> int:
    text = request.path_params["member_id"]
    if not text.isdigit() or len(text) > 18:
        raise ScimError(404, "There is no such user.")
    return int(text)


def _dump(resource: Resource, ctx: Context, request: Request | None = None) -> dict[str, Any]:
    params = _response_parameters(request) if request is not None else None
    return resource.model_dump(scim_ctx=ctx, response_parameters=params, scim_policy=POLICY)


def _response_parameters(request: Request) -> SearchRequest[Resource] | None:
    query = {k: v for k, v in request.query_params.items() if k in ("attributes", "excludedAttributes")}
    return SearchRequest[Resource].model_validate(query) if query else None


async def list_users(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    query = {
        k: v
        for k, v in request.query_params.items()
        if k in ("filter", "startIndex", "count", "attributes", "excludedAttributes", "sortBy", "sortOrder")
    }
    if "sortBy" in query:
        raise ScimError(400, "Gatehouse does not sort users: leave sortBy out.", "invalidValue")
    try:
        search = SearchRequest[Resource].model_validate(query, scim_policy=POLICY)
    except ValidationError as error:
        scim_type = "invalidFilter" if any(e["loc"][:1] == ("filter",) for e in error.errors()) else "invalidValue"
        raise ScimError(400, _validation_sentence(error), scim_type) from None
    start = max(search.start_index or 1, 1)
    count = min(MAX_RESULTS if search.count is None else max(search.count, 0), MAX_RESULTS)
    base = _base(request)
    total, page = await run_in_threadpool(_find, gatehouse, search, start, count, base)
    listed = ListResponse[Resource](
        total_results=total, start_index=start, items_per_page=len(page), resources=page or None
    )
    return _ok(listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search, scim_policy=POLICY))


def _find(
    gatehouse: Gatehouse, search: SearchRequest[Resource], start: int, count: int, base: str
) -> tuple[int, list[Resource]]:
    """Users as the filter asks, a page of them. The filters identity providers send to match a member (userName,
    externalId or id, eq) are answered by the database; any other is evaluated on each user."""
    seen = col(Member.scim_deleted_at).is_(None)
    with gatehouse.session() as session:
        where = _indexed(search.filter.ast) if search.filter is not None else seen
        if where is not None:
            total = session.exec(select(func.count()).select_from(Member).where(seen, where)).one()
            members = session.exec(
                select(Member).where(seen, where).order_by(col(Member.id)).offset(start - 1).limit(count)
            ).all()
            return total, [as_resource(m, base) for m in members]
        everyone = [as_resource(m, base) for m in session.exec(select(Member).where(seen).order_by(col(Member.id)))]
    matched = [r for r in everyone if search.filter is not None and search.filter.match(r)]
    return len(matched), matched[start - 1 : start - 1 + count]


def _indexed(node: object) -> Any:
    """The SQL condition for `userName eq "…"` (case-insensitive, RFC 7643), `externalId eq "…"` or `id eq "…"`,
    or None for any other filter."""
    if not (isinstance(node, Comparison) and node.op is CompareOperator.eq and isinstance(node.value, str)):
        return None
    path: AttrPath = node.attr_path
    if path.sub_attr is not None or path.uri not in (None, str(User.__schema__)):
        return None
    attribute = path.attr.lower()
    if attribute == "username":
        return func.lower(Member.username) == node.value.lower()
    if attribute == "externalid":
        return Member.external_id == node.value
    if attribute == "id":
        return Member.id == int(node.value) if node.value.isdigit() and len(node.value) <= 18 else Member.id == -1
    return None


async def create_user(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    resource = Resource.model_validate(
        await _payload(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
    )
    member = await run_in_threadpool(provision_user, gatehouse, actor, wanted(resource))
    created = as_resource(member, _base(request))
    location = created.meta.location if created.meta else None
    return _ok(_dump(created, Context.RESOURCE_CREATION_RESPONSE, request), 201, location)


async def get_user(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    member = await run_in_threadpool(provisioned_member, gatehouse, _member_id(request))
    return _ok(_dump(as_resource(member, _base(request)), Context.RESOURCE_QUERY_RESPONSE, request))


async def replace_user(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    """Okta's and Entra's PUT: the whole user, as the identity provider has them now."""
    member_id = _member_id(request)
    resource = Resource.model_validate(
        await _payload(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
    )
    member = await run_in_threadpool(update_member, gatehouse, actor, member_id, wanted(resource))
    return _ok(_dump(as_resource(member, _base(request)), Context.RESOURCE_REPLACEMENT_RESPONSE, request))


async def patch_user(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    """The operations are applied to the user as Gatehouse has them, and the result is handled as a PUT of it."""
    member_id = _member_id(request)
    patch = PatchOp[Resource].model_validate(
        _strings_as_booleans(await _payload(request)), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
    )
    current = as_resource(await run_in_threadpool(provisioned_member, gatehouse, member_id), _base(request))
    patch.patch(current, scim_policy=POLICY)
    member = await run_in_threadpool(update_member, gatehouse, actor, member_id, wanted(current))
    return _ok(_dump(as_resource(member, _base(request)), Context.RESOURCE_PATCH_RESPONSE, request))


def _strings_as_booleans(payload: dict[str, Any]) -> dict[str, Any]:
    """Entra ID sends `active` as the string "True" or "False", with a path or inside a path-less value."""

    def fixed(value: Any) -> Any:
        return {"true": True, "false": False}.get(value.lower(), value) if isinstance(value, str) else value

    for operation in payload.get("Operations") or []:
        if not isinstance(operation, dict):
            continue
        if str(operation.get("path", "")).lower() == "active":
            operation["value"] = fixed(operation.get("value"))
        elif isinstance(operation.get("value"), dict):
            operation["value"] = {k: fixed(v) if k.lower() == "active" else v for k, v in operation["value"].items()}
    return payload


async def delete_user(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    await run_in_threadpool(deprovision, gatehouse, actor, _member_id(request))
    return Response(status_code=204)


# --- discovery: what this service supports, truthfully ---------------------------------------------------------


def _config() -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Bearer token",
                description="A token the platform team makes with `gatehouse scim token create NAME`.",
                primary=True,
            )
        ],
        meta=Meta(resource_type="ServiceProviderConfig"),
    )


def _user_type() -> ResourceType:
    return ResourceType.from_resource(Resource)


async def service_provider_config(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    config = _config()
    config.meta = Meta(resource_type="ServiceProviderConfig", location=f"{_base(request)}/ServiceProviderConfig")
    return _ok(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def _located_type(request: Request) -> ResourceType:
    user_type = _user_type()
    user_type.meta = Meta(resource_type="ResourceType", location=f"{_base(request)}/ResourceTypes/{user_type.id}")
    return user_type


async def resource_types(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    types = [_located_type(request)]
    listed = ListResponse[ResourceType](
        total_results=len(types), start_index=1, items_per_page=len(types), resources=types
    )
    return _ok(listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE))


async def resource_type(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    user_type = _located_type(request)
    if request.path_params["name"] not in (user_type.id, user_type.name):
        raise ScimError(404, "There is no such resource type: Gatehouse serves User.")
    return _ok(user_type.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def _schemas(request: Request) -> list[Any]:
    found = [User.to_schema(), EnterpriseUser.to_schema()]
    for one in found:
        one.meta = Meta(resource_type="Schema", location=f"{_base(request)}/Schemas/{one.id}")
    return found


async def schemas(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    found = _schemas(request)
    listed = ListResponse[Schema](total_results=len(found), start_index=1, items_per_page=len(found), resources=found)
    return _ok(listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE))


async def schema(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    for one in _schemas(request):
        if one.id == request.path_params["uri"]:
            return _ok(one.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    raise ScimError(404, "There is no such schema: Gatehouse serves the core User and the enterprise extension.")
