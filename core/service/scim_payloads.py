"""How SCIM payloads are read and written: a member as the schema /Schemas publishes (core/service/scim_schema.py),
and what identity providers send read leniently where they depart from the RFCs (Entra ID: "Replace", "False", a
manager as a bare id; Okta and Entra: a manager without its `$ref`), into what core/actions/provision_user.py
takes."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from scim2_models import EnterpriseUser, Meta, ScimPolicy, SearchRequest, User
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.actions.provision_user import Provisioned, username_for
from core.adapters.models import User as Member
from core.domain import shown
from core.service.scim_schema import GUEST, MAX_RESULTS, MEMBER, KeptEmail, KeptEnterprise, KeptManager, KeptMember


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


Resource = User[EnterpriseUser]
SCIM_JSON = "application/scim+json"
MAX_BODY_BYTES = 100_000  # a user is a few hundred bytes: anything bigger is not one
# Read as real identity providers write (each a departure from the RFCs some provider is known for): attributes
# Gatehouse keeps no place for are dropped, Entra ID's `remove` with a `value` selects what to remove, and a
# `replace` of `emails[type eq "work"].value` on a member with no such email adds it.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)


def as_resource(member: Member, base: str) -> KeptMember:
    """The member as Gatehouse keeps them, in the schema /Schemas publishes."""
    resource = KeptMember(
        id=str(member.id),
        user_name=member.sign_in_name or member.username,
        external_id=member.external_id,
        display_name=member.display_name or member.username,
        emails=[KeptEmail(value=member.email)] if member.email else None,
        active=member.is_active,
        user_type=GUEST if member.is_external else MEMBER,
        meta=Meta(
            resource_type="User",
            created=member.created_at,
            last_modified=member.created_at,
            location=f"{base}/Users/{member.id}",
        ),
    )
    if member.line_manager_id is not None:
        manager = KeptManager(value=str(member.line_manager_id), ref=f"{base}/Users/{member.line_manager_id}")
        resource[KeptEnterprise] = KeptEnterprise(manager=manager)
    return resource


def as_full(member: Member, base: str) -> Resource:
    """The member in scim2-models' full User: what a PATCH is applied to (it may name any attribute)."""
    return Resource.model_validate(as_resource(member, base).model_dump(), scim_policy=POLICY)


def wanted(resource: Resource) -> Provisioned:
    """What the identity provider says the member is, in Gatehouse's words."""
    if not resource.user_name:
        raise ScimError(400, "A user needs a userName.", "invalidValue")
    # The primary address, else the work one (Entra ID replaces `emails[type eq "work"].value`), else the first.
    emails = [e for e in resource.emails or [] if e.value]
    chosen = next((e for e in emails if e.primary), None) or next((e for e in emails if e.type == "work"), None)
    chosen = chosen or (emails[0] if emails else None)
    email = chosen.value if chosen else None
    if not email:
        raise ScimError(400, "A user needs an email address in emails.", "invalidValue")
    name = resource.name
    from_parts = " ".join(p for p in (name.given_name, name.family_name) if p) if name else ""
    display_name = resource.display_name or (name.formatted if name else None) or from_parts
    extension = resource[EnterpriseUser]
    manager = extension.manager.value if extension is not None and extension.manager is not None else None
    if manager is not None and not str(manager).isdigit():
        raise ScimError(400, f"The manager {shown(str(manager), 40)!r} is no platform member's id.", "invalidValue")
    username, sign_in_name = username_for(resource.user_name)
    return Provisioned(
        username=username,
        sign_in_name=sign_in_name,
        email=str(email),
        display_name=display_name or "",
        external_id=resource.external_id,
        active=resource.active,  # left out of a PUT: as they are (never a leaver made active by omission)
        external=(resource.user_type or "").lower() == GUEST.lower(),
        manager_id=int(manager) if manager is not None else None,
    )


ENTERPRISE = str(EnterpriseUser.__schema__).lower()


def lenient(payload: dict[str, Any], base: str) -> dict[str, Any]:
    """A user as identity providers send it: a manager as the bare id (Entra ID) or without its `$ref` (RFC 7643
    requires one, Okta and Entra send none) is the member of that id; `active` as the string "True" or "False"
    (Entra ID) is the boolean."""
    fixed = dict(payload)
    for key, value in payload.items():
        if key.lower() == "active":
            fixed[key] = _boolean(value)
        elif key.lower() == ENTERPRISE and isinstance(value, dict):
            fixed[key] = {k: _manager(v, base) if k.lower() == "manager" else v for k, v in value.items()}
    return fixed


def lenient_patch(payload: dict[str, Any], base: str) -> dict[str, Any]:
    """The same leniency for each operation of a PATCH, whether it names its attribute by path or in its value."""
    operations = []
    for operation in payload.get("Operations") or []:
        if isinstance(operation, dict):
            path = str(operation.get("path") or "").lower()
            value = operation.get("value")
            if path == "active":
                value = _boolean(value)
            elif path in (f"{ENTERPRISE}:manager", "manager"):
                value = _manager(value, base)
            elif not path and isinstance(value, dict):
                value = lenient(value, base)
                manager_key = next((k for k in value if k.lower() == f"{ENTERPRISE}:manager"), None)
                if manager_key is not None:
                    value[manager_key] = _manager(value[manager_key], base)
            operation = {**operation, "value": value} if "value" in operation else operation
        operations.append(operation)
    return {**payload, "Operations": operations} if "Operations" in payload else payload


def _boolean(value: Any) -> Any:
    return {"true": True, "false": False}.get(value.lower(), value) if isinstance(value, str) else value


def _manager(value: Any, base: str) -> Any:
    if isinstance(value, str | int):
        value = {"value": str(value)}
    if isinstance(value, dict) and value.get("value") and "$ref" not in value:
        value = {**value, "$ref": f"{base}/Users/{value['value']}"}
    return value


# --- HTTP: a request's body read, an answer written ----------------------------------------------------------


def sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith(".") else f"{text}."


def validation_sentence(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"] if not isinstance(part, int))
    message = first["msg"].removeprefix("Value error, ")
    return sentence(f"{where}: {message}" if where else message)


def ok(body: dict[str, Any], status: int = 200, location: str | None = None) -> Response:
    headers = {"Location": location} if location else None
    return JSONResponse(body, status_code=status, media_type=SCIM_JSON, headers=headers)


async def read_payload(request: Request) -> dict[str, Any]:
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


def path_id(request: Request, name: str, missing: str) -> int:
    """The resource id in the request's path: a database id, or a SCIM 404 (`missing`) for anything else."""
    text = request.path_params[name]
    if not text.isdigit() or len(text) > 18:
        raise ScimError(404, missing)
    return int(text)


def dump(resource: Any, model: Any, ctx: Any, request: Request | None = None) -> dict[str, Any]:
    """A resource as JSON in the SCIM context `ctx`, with the `attributes`/`excludedAttributes` the request asks for."""
    query = (
        {}
        if request is None
        else {k: v for k, v in request.query_params.items() if k in ("attributes", "excludedAttributes")}
    )
    params = SearchRequest[model].model_validate(query, scim_policy=POLICY) if query else None
    return resource.model_dump(scim_ctx=ctx, response_parameters=params, scim_policy=POLICY)


def base_of(request: Request) -> str:
    return str(request.base_url).rstrip("/") + request.scope.get("root_path", "")


SEARCH_KEYS = ("filter", "startIndex", "count", "attributes", "excludedAttributes", "sortBy", "sortOrder")


def parse_search(model: Any, asked: dict[str, Any], what: str) -> Any:
    """A search's parameters (a query string or a SearchRequest body), checked: no sorting, a filter that parses."""
    if "sortBy" in asked:
        raise ScimError(400, f"Gatehouse does not sort {what}: leave sortBy out.", "invalidValue")
    try:
        return SearchRequest[model].model_validate(  # type: ignore[index]
            {k: v for k, v in asked.items() if k in SEARCH_KEYS}, scim_policy=POLICY
        )
    except ValidationError as error:
        scim_type = "invalidFilter" if any(e["loc"][:1] == ("filter",) for e in error.errors()) else "invalidValue"
        raise ScimError(400, validation_sentence(error), scim_type) from None


def page_of(search: Any) -> tuple[int, int]:
    """(startIndex, count) as asked, within bounds."""
    return max(search.start_index or 1, 1), min(
        MAX_RESULTS if search.count is None else max(search.count, 0), MAX_RESULTS
    )
