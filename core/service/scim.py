"""SCIM 2.0 (RFC 7643 / 7644) at /scim/v2: the identity provider's joiners, movers and leavers, as core's actions.

HTTP only: a request is authenticated (a bearer token), parsed with scim2-models, handed to core/actions/
provision_user.py, and its answer or its error serialised as SCIM says. Payloads are read leniently where real
identity providers depart from the RFCs (Entra ID: "Replace", "False", `value` dicts without a path); nothing a
client sends ever comes back as a traceback."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    ListResponse,
    PatchOp,
    ResourceType,
    Schema,
    SCIMException,
    SearchRequest,
    User,
)
from scim2_models.path.expressions import AttrPath, CompareOperator, Comparison
from sqlmodel import col, func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from core.actions.provision_team import TeamNameTaken
from core.actions.provision_user import (
    AlreadyMember,
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
from core.domain import GatehouseError, InvalidInput, NotFound
from core.service import scim_groups, scim_schema
from core.service.scim_payloads import (
    POLICY,
    SCIM_JSON,
    Resource,
    ScimError,
    as_full,
    as_resource,
    base_of,
    dump,
    lenient,
    lenient_patch,
    ok,
    page_of,
    parse_search,
    path_id,
    read_payload,
    sentence,
    validation_sentence,
    wanted,
)
from core.service.scim_schema import KeptMember

log = logging.getLogger("gatehouse.scim")


def router() -> Router:
    return Router(
        routes=[
            Route("/Users", _scim(list_users), methods=["GET"]),
            Route("/Users", _scim(create_user), methods=["POST"]),
            Route("/Users", _scim(_only("GET", "POST")), methods=["PUT", "PATCH", "DELETE"]),
            Route("/Users/.search", _scim(search_users), methods=["POST"]),
            Route("/.search", _scim(search_everything), methods=["POST"]),
            *scim_groups.routes(_scim, _only),
            Route("/Users/{member_id}", _scim(get_user), methods=["GET"]),
            Route("/Users/{member_id}", _scim(replace_user), methods=["PUT"]),
            Route("/Users/{member_id}", _scim(patch_user), methods=["PATCH"]),
            Route("/Users/{member_id}", _scim(delete_user), methods=["DELETE"]),
            Route("/Users/{member_id}", _scim(_only("GET", "PUT", "PATCH", "DELETE")), methods=["POST"]),
            *_read_only("/ServiceProviderConfig", service_provider_config),
            *_read_only("/ResourceTypes", resource_types),
            *_read_only("/ResourceTypes/{name}", resource_type),
            *_read_only("/Schemas", schemas),
            *_read_only("/Schemas/{uri:path}", schema),
            Route("/{anything:path}", _scim(nowhere), methods=[*WRITES, "GET"]),
        ]
    )


WRITES = ["POST", "PUT", "PATCH", "DELETE"]


def _read_only(path: str, handler: Handler) -> list[Route]:
    return [Route(path, _scim(handler), methods=["GET"]), Route(path, _scim(_only("GET")), methods=WRITES)]


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
            return _error(error.status, sentence(error.detail), error.scim_type or None)
        except (AlreadyMember, TeamNameTaken) as error:
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
            return _error(400, validation_sentence(error), "invalidValue")
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


# --- Users -----------------------------------------------------------------------------------------------------


def _member_id(request: Request) -> int:
    return path_id(request, "member_id", "There is no such user.")


def _dump(resource: KeptMember, ctx: Context, request: Request | None = None) -> dict[str, Any]:
    return dump(resource, KeptMember, ctx, request)


async def list_users(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    return await _search(request, gatehouse, dict(request.query_params))


async def search_users(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    """POST /Users/.search: the same query, in a SearchRequest body (RFC 7644 §3.4.3)."""
    return await _search(request, gatehouse, await read_payload(request))


async def _search(request: Request, gatehouse: Gatehouse, asked: dict[str, Any]) -> Response:
    search = parse_search(KeptMember, asked, "users")
    start, count = page_of(search)
    total, page = await run_in_threadpool(_find, gatehouse, search, start, count, base_of(request))
    listed = ListResponse[KeptMember](
        total_results=total, start_index=start, items_per_page=len(page), resources=page or None
    )
    return ok(listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search, scim_policy=POLICY))


async def search_everything(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    """POST /.search across resource types is optional (RFC 7644 §3.4.3); 501 says it is not done here."""
    raise ScimError(501, "Gatehouse searches one resource type at a time: POST /Users/.search or /Groups/.search.")


def _find(
    gatehouse: Gatehouse, search: SearchRequest[KeptMember], start: int, count: int, base: str
) -> tuple[int, list[KeptMember]]:
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
    if attribute == "username":  # an address names its member by their sign-in name (provision_user.username_for)
        if "@" in node.value:
            return Member.sign_in_name == node.value.lower()
        return func.lower(Member.username) == node.value.lower()
    if attribute == "externalid":
        return Member.external_id == node.value
    if attribute == "id":
        return Member.id == int(node.value) if node.value.isdigit() and len(node.value) <= 18 else Member.id == -1
    return None


async def create_user(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    resource = Resource.model_validate(
        lenient(await read_payload(request), base_of(request)),
        scim_ctx=Context.RESOURCE_CREATION_REQUEST,
        scim_policy=POLICY,
    )
    member = await run_in_threadpool(provision_user, gatehouse, actor, wanted(resource))
    created = as_resource(member, base_of(request))
    location = created.meta.location if created.meta else None
    return ok(_dump(created, Context.RESOURCE_CREATION_RESPONSE, request), 201, location)


async def get_user(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    member = await run_in_threadpool(provisioned_member, gatehouse, _member_id(request))
    return ok(_dump(as_resource(member, base_of(request)), Context.RESOURCE_QUERY_RESPONSE, request))


async def replace_user(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    """Okta's and Entra's PUT: the whole user, as the identity provider has them now."""
    member_id = _member_id(request)
    resource = Resource.model_validate(
        lenient(await read_payload(request), base_of(request)),
        scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST,
        scim_policy=POLICY,
    )
    member = await run_in_threadpool(update_member, gatehouse, actor, member_id, wanted(resource))
    return ok(_dump(as_resource(member, base_of(request)), Context.RESOURCE_REPLACEMENT_RESPONSE, request))


async def patch_user(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    """The operations are applied to the user as Gatehouse has them, and the result is handled as a PUT of it."""
    member_id = _member_id(request)
    patch = PatchOp[Resource].model_validate(
        lenient_patch(await read_payload(request), base_of(request)),
        scim_ctx=Context.RESOURCE_PATCH_REQUEST,
        scim_policy=POLICY,
    )
    current = as_full(await run_in_threadpool(provisioned_member, gatehouse, member_id), base_of(request))
    patch.patch(current, scim_policy=POLICY)
    member = await run_in_threadpool(update_member, gatehouse, actor, member_id, wanted(current))
    return ok(_dump(as_resource(member, base_of(request)), Context.RESOURCE_PATCH_RESPONSE, request))


async def delete_user(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    await run_in_threadpool(deprovision, gatehouse, actor, _member_id(request))
    return Response(status_code=204)


# --- discovery: what this service supports, truthfully (core/service/scim_schema.py) ---------------------------


async def service_provider_config(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    return ok(scim_schema.config(base_of(request)).model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


async def resource_types(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    types = scim_schema.resource_types(base_of(request))
    listed = ListResponse[ResourceType](
        total_results=len(types), start_index=1, items_per_page=len(types), resources=types
    )
    return ok(listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE))


async def resource_type(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    for one in scim_schema.resource_types(base_of(request)):
        if request.path_params["name"] in (one.id, one.name):
            return ok(one.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    raise ScimError(404, "There is no such resource type: Gatehouse serves User and Group.")


async def schemas(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    found = scim_schema.schemas(base_of(request))
    listed = ListResponse[Schema](total_results=len(found), start_index=1, items_per_page=len(found), resources=found)
    return ok(listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE))


async def schema(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    for one in scim_schema.schemas(base_of(request)):
        if one.id == request.path_params["uri"]:
            return ok(one.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    raise ScimError(404, "There is no such schema: Gatehouse serves the core User and the enterprise extension.")


async def nowhere(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    raise ScimError(404, "There is nothing at this address: Gatehouse serves Users, Groups and discovery.")


def _only(*methods: str) -> Handler:
    async def refuse(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
        raise ScimError(405, f"This address answers {' and '.join(methods)} only.")

    return refuse
