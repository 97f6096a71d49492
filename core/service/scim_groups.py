"""SCIM Groups at /scim/v2/Groups: the identity provider's groups as Gatehouse's teams (core/actions/
provision_team.py). Members are users only, by their id; Entra ID's `members[value eq "…"]` removals and its
`remove` with a value list are read as it sends them (scim2-models, under the same lenient policy as users)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scim2_models import Context, Group, GroupMember, ListResponse, Meta, PatchOp
from scim2_models.path.expressions import CompareOperator, Comparison
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.actions.provision_team import TeamShown, create_team, delete_team, replace_team, team, teams
from core.adapters.models import User as Member
from core.context import Gatehouse
from core.service.scim_payloads import (
    POLICY,
    ScimError,
    base_of,
    dump,
    ok,
    page_of,
    parse_search,
    path_id,
    read_payload,
)
from core.service.scim_schema import KeptGroup, KeptGroupMember

FullGroup = Group


def routes(scim: Callable[..., Any], only: Callable[..., Any]) -> list[Route]:
    return [
        Route("/Groups", scim(list_groups), methods=["GET"]),
        Route("/Groups", scim(create_group), methods=["POST"]),
        Route("/Groups", scim(only("GET", "POST")), methods=["PUT", "PATCH", "DELETE"]),
        Route("/Groups/.search", scim(search_groups), methods=["POST"]),
        Route("/Groups/{team_id}", scim(get_group), methods=["GET"]),
        Route("/Groups/{team_id}", scim(replace_group), methods=["PUT"]),
        Route("/Groups/{team_id}", scim(patch_group), methods=["PATCH"]),
        Route("/Groups/{team_id}", scim(delete_group), methods=["DELETE"]),
        Route("/Groups/{team_id}", scim(only("GET", "PUT", "PATCH", "DELETE")), methods=["POST"]),
    ]


def as_group(shown: TeamShown, base: str) -> KeptGroup:
    return KeptGroup(
        id=str(shown.id),
        display_name=shown.name,
        external_id=shown.external_id,
        members=[KeptGroupMember(value=str(i), ref=f"{base}/Users/{i}") for i, _ in shown.members] or None,
        meta=Meta(resource_type="Group", location=f"{base}/Groups/{shown.id}"),
    )


def _members(group: Group) -> list[int]:
    found = []
    for member in group.members or []:
        value = str(member.value or "")
        if not value.isdigit() or len(value) > 18:
            raise ScimError(400, f"No platform member has the id {value[:40]!r}: provision them first.", "invalidValue")
        found.append(int(value))
    return found


def _team_id(request: Request) -> int:
    return path_id(request, "team_id", "There is no such team.")


def _dump(group: KeptGroup, ctx: Context, request: Request) -> dict[str, Any]:
    return dump(group, KeptGroup, ctx, request)


async def list_groups(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    return await _search(request, gatehouse, dict(request.query_params))


async def search_groups(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    return await _search(request, gatehouse, await read_payload(request))


async def _search(request: Request, gatehouse: Gatehouse, asked: dict[str, Any]) -> Response:
    """Teams are few (hundreds): every filter is evaluated on each of them, but `displayName eq "…"`, the one an
    identity provider sends before each group it pushes, which reads only that team."""
    search = parse_search(KeptGroup, asked, "groups")
    base = base_of(request)
    every = [as_group(t, base) for t in await run_in_threadpool(teams, gatehouse, _named(search))]
    matched = [g for g in every if search.filter is None or search.filter.match(g)]
    start, count = page_of(search)
    page = matched[start - 1 : start - 1 + count]
    listed = ListResponse[KeptGroup](
        total_results=len(matched), start_index=start, items_per_page=len(page), resources=page or None
    )
    return ok(listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search, scim_policy=POLICY))


def _named(search: Any) -> str | None:
    node = search.filter.ast if search.filter is not None else None
    if not (isinstance(node, Comparison) and node.op is CompareOperator.eq and isinstance(node.value, str)):
        return None
    path = node.attr_path
    if path.sub_attr is None and path.uri in (None, str(Group.__schema__)) and path.attr.lower() == "displayname":
        return node.value
    return None


async def create_group(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    group = FullGroup.model_validate(
        await read_payload(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
    )
    made = await run_in_threadpool(
        create_team, gatehouse, actor, group.display_name or "", _members(group), external_id=group.external_id
    )
    created = as_group(made, base_of(request))
    location = created.meta.location if created.meta else None
    return ok(_dump(created, Context.RESOURCE_CREATION_RESPONSE, request), 201, location)


async def get_group(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    shown = await run_in_threadpool(team, gatehouse, _team_id(request))
    return ok(_dump(as_group(shown, base_of(request)), Context.RESOURCE_QUERY_RESPONSE, request))


async def replace_group(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    team_id = _team_id(request)
    group = FullGroup.model_validate(
        await read_payload(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
    )
    shown = await run_in_threadpool(
        replace_team, gatehouse, actor, team_id, group.display_name or "", _members(group), group.external_id
    )
    return ok(_dump(as_group(shown, base_of(request)), Context.RESOURCE_REPLACEMENT_RESPONSE, request))


async def patch_group(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    """Applied to the team as Gatehouse has it, then handled as a PUT of the result."""
    team_id = _team_id(request)
    patch = PatchOp[FullGroup].model_validate(
        await read_payload(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
    )
    base = base_of(request)
    current = await run_in_threadpool(team, gatehouse, team_id)
    group = FullGroup(
        id=str(current.id),
        display_name=current.name,
        external_id=current.external_id,
        members=[GroupMember(value=str(i), ref=f"{base}/Users/{i}") for i, _ in current.members] or None,
    )
    patch.patch(group, scim_policy=POLICY)
    shown = await run_in_threadpool(
        replace_team, gatehouse, actor, team_id, group.display_name or "", _members(group), group.external_id
    )
    return ok(_dump(as_group(shown, base), Context.RESOURCE_PATCH_RESPONSE, request))


async def delete_group(request: Request, gatehouse: Gatehouse, actor: Member) -> Response:
    await run_in_threadpool(delete_team, gatehouse, actor, _team_id(request))
    return Response(status_code=204)
