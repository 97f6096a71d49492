"""Reads a role's existing `s3-access` policy back into grants, so Gatehouse can adopt roles the old platform made.

It knows the Analytical Platform control panel's statements (`console`/`ListUserBuckets`, `list`, `readonly`,
`readwrite`, `rootFolderBucketMeta`, `listFolder…`, `listSubFolders…`) and Gatehouse's own. Statements are recognised
by what they do, not by their Sid. Listing statements are not imported: Gatehouse derives listing from the object
grants. Extra object actions the old platform granted (the ACL ones) are dropped. Anything else is not guessed at:
it is left out and named in `skipped`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.domain import AccessLevel, InvalidInput, validate_path
from core.paths import Paths
from core.policy import BucketGrant, canonical_grants

_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
_BUCKET_ARN = re.compile(rf"arn:aws:s3:::({_BUCKET})")
_OBJECTS_ARN = re.compile(rf"arn:aws:s3:::({_BUCKET})/(?:(.+)/)?\*")  # a whole bucket, or everything under a path
_ACCOUNT_ACTIONS = {
    "s3:listallmybuckets",
    "s3:getbucketlocation",
    "s3:listaccesspoints",
    "s3:getaccountpublicaccessblock",
}
_READ = "s3:getobject"
_WRITES = {"s3:putobject", "s3:deleteobject"}


@dataclass(frozen=True)
class ImportedAccess:
    grants: list[BucketGrant]
    skipped: list[str]  # one sentence for each statement or resource that was not imported, and why


def import_s3_access(documents: Iterable[dict | str]) -> ImportedAccess:
    """The grants that a role's S3 policy documents (the inline `s3-access` one, and any managed ones) express."""
    grants: list[BucketGrant] = []
    skipped: list[str] = []
    listed: set[str] = set()
    bodies = [json.loads(document) if isinstance(document, str) else document for document in documents]
    # Gatehouse grants a path's own key with the path (tools look a folder up as an object): not a grant of its own.
    own_keys = {
        f"arn:aws:s3:::{match[1]}/{match[2]}"
        for body in bodies
        for statement in _statements(body)
        for resource in _as_list(statement.get("Resource", []))
        if (match := _OBJECTS_ARN.fullmatch(resource)) and match[2]
    }
    for body in bodies:
        for number, statement in enumerate(_statements(body), start=1):
            name = f"statement {statement['Sid']!r}" if statement.get("Sid") else f"statement {number} (no Sid)"
            reason = _read_statement(statement, name, grants, listed, skipped, own_keys)
            if reason:
                skipped.append(f"The {name} was not imported: {reason}.")
    granted = {grant.bucket for grant in grants}
    skipped += [
        f"Bucket {bucket} could be listed but none of its objects read: not imported, as Gatehouse grants no listing "
        "without read access."
        for bucket in sorted(listed - granted)
    ]
    return ImportedAccess(canonical_grants(grants), skipped)


def _statements(body: dict) -> list[dict]:
    statements = body.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _read_statement(
    statement: dict, name: str, grants: list[BucketGrant], listed: set[str], skipped: list[str], own_keys: set[str]
) -> str | None:
    """Adds what a statement grants; returns why it cannot be imported, if it cannot."""
    if statement.get("Effect") != "Allow":
        return "it does not allow (Gatehouse policies only allow)"
    if not {"Action", "Resource"} <= set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}:
        return "it is not a plain Action/Resource statement"
    actions = {action.lower() for action in _as_list(statement["Action"])}
    resources = _as_list(statement["Resource"])
    if any("*" in action or "?" in action for action in actions):
        return f"its actions ({', '.join(sorted(actions))}) hold a wildcard"
    if actions <= _ACCOUNT_ACTIONS and set(resources) <= {"*", "arn:aws:s3:::*"}:
        return None  # the account-wide listing every Gatehouse policy has
    if all(a.startswith(("s3:list", "s3:getbucket")) for a in actions):
        buckets = [_BUCKET_ARN.fullmatch(resource) for resource in resources]
        if not all(buckets):
            return "it lists something other than named buckets"
        listed.update(match[1] for match in buckets)
        return None  # listing follows from the object grants
    if "Condition" in statement:
        return "it grants object access only under a condition"
    if _READ not in actions:
        return f"it grants {', '.join(sorted(actions))}, which is not read or read/write access to objects"
    level = AccessLevel.READ_WRITE if actions >= _WRITES else AccessLevel.READ_ONLY
    if level is AccessLevel.READ_ONLY and actions & _WRITES:
        return f"it grants {', '.join(sorted(actions))}: some writes, but not both s3:PutObject and s3:DeleteObject"
    for resource in resources:
        if resource in own_keys:
            continue
        match = _OBJECTS_ARN.fullmatch(resource)
        try:
            if not match:
                raise InvalidInput("It is neither a whole bucket (bucket/*) nor a folder (bucket/path/*).")
            paths = Paths((validate_path(f"/{match[2]}"),)) if match[2] else Paths.WHOLE
        except InvalidInput as error:
            skipped.append(f"The resource {resource} in the {name} was not imported: {_lower_first(str(error))}")
            continue
        grants.append(BucketGrant(match[1], level, paths))
    return None


def _lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
