"""Which statements a role's live IAM policies and the desired ones differ by, said as a person would: the actions
(read, write, list…) on which buckets and paths IAM has that Gatehouse did not grant, and those Gatehouse grants that
IAM lacks (pure: documents in, sentences out).

Documents are compared as one set of permissions each side: (effect, action, resource, condition), whatever Sid,
statement or document carries it, so that the same grants laid out another way are no difference of access."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

_S3_ARN = "arn:aws:s3:::"
# A word for what a family of S3 actions does; any other action is named as it is.
_WORDS = (
    ("s3:getobject", "read"),
    ("s3:list", "list"),
    ("s3:putobject", "write"),
    ("s3:deleteobject", "delete"),
    ("s3:getbucket", "read bucket settings"),
)

_Atom = tuple[str, str, str, str]  # effect, action (lower case: IAM's are case-insensitive), resource, condition


@dataclass(frozen=True)
class StatementGap:
    """Permissions on some resources that only one side has."""

    in_iam: bool  # True: IAM has them and Gatehouse did not grant them; False: Gatehouse grants them, IAM lacks them
    actions: str  # e.g. "read (GetObject, GetObjectVersion)"
    resources: tuple[str, ...]  # e.g. "alpha-x/*", "alpha-y (listing under p/*)"

    @property
    def drift(self) -> str:
        where = ", ".join(self.resources)
        if self.in_iam:
            return f"IAM has {self.actions} on {where} that Gatehouse did not grant"
        return f"Gatehouse grants {self.actions} on {where} that IAM lacks"

    @property
    def repair(self) -> str:
        where = ", ".join(self.resources)
        return f"took away {self.actions} on {where}" if self.in_iam else f"put back {self.actions} on {where}"


def statement_gaps(desired: Iterable[dict], live: Iterable[dict]) -> list[StatementGap]:
    """What the live documents have beyond the desired ones, then what they lack; each list grouped so that
    resources missing (or added) the same actions share one gap."""
    names: dict[str, str] = {}  # an action in lower case -> as a document spelt it
    want, have = _atoms(desired, names), _atoms(live, names)
    return _gaps(have - want, names, in_iam=True) + _gaps(want - have, names, in_iam=False)


def _atoms(documents: Iterable[dict], names: dict[str, str]) -> set[_Atom]:
    atoms: set[_Atom] = set()
    for document in documents:
        statements = document.get("Statement", [])
        for statement in [statements] if isinstance(statements, dict) else statements:
            condition = json.dumps(statement.get("Condition", {}), sort_keys=True)
            for action in _as_list(statement.get("Action", [])):
                names.setdefault(action.lower(), action)
                for resource in _as_list(statement.get("Resource", [])):
                    atoms.add((str(statement.get("Effect", "Allow")), action.lower(), resource, condition))
    return atoms


def _gaps(atoms: set[_Atom], names: dict[str, str], *, in_iam: bool) -> list[StatementGap]:
    by_place: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for effect, action, resource, condition in atoms:
        by_place.setdefault((resource, condition), set()).add((effect, action))
    by_actions: dict[str, list[str]] = {}
    for (resource, condition), actions in sorted(by_place.items()):
        by_actions.setdefault(_actions(actions, names), []).append(_place(resource, condition))
    return [StatementGap(in_iam, actions, tuple(places)) for actions, places in by_actions.items()]


def _actions(actions: set[tuple[str, str]], names: dict[str, str]) -> str:
    """ "read (GetObject, GetObjectVersion) and list (ListBucket)": a word for each family, and the actions exactly."""
    families: dict[str, list[str]] = {}
    for effect, action in sorted(actions):
        word = next((w for prefix, w in _WORDS if action.startswith(prefix)), None)
        name = names[action].removeprefix("s3:") if word else names[action]
        families.setdefault(("deny " if effect != "Allow" else "") + (word or "other actions"), []).append(name)
    order = [word for _, word in _WORDS]

    def rank(family: str) -> tuple[int, str]:
        word = family.removeprefix("deny ")
        return (order.index(word) if word in order else len(order), family)

    ranked = sorted(families.items(), key=lambda item: rank(item[0]))
    return " and ".join(f"{word} ({', '.join(names)})" for word, names in ranked)


def _place(resource: str, condition: str) -> str:
    shown = "every resource (*)" if resource == "*" else resource.removeprefix(_S3_ARN)
    parsed = json.loads(condition)
    if not parsed:
        return shown
    prefixes = parsed.get("StringLike", {}).get("s3:prefix") if len(parsed) == 1 else None
    if prefixes is not None and len(parsed["StringLike"]) == 1:
        return f"{shown} (listing under {', '.join(_as_list(prefixes))})"
    return f"{shown} (when {json.dumps(parsed, sort_keys=True)})"


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
