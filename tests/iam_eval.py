"""AWS's documented evaluation of identity policies, for what moto cannot prove: conditions such as s3:prefix.

Explicit Deny beats Allow, and anything not allowed is denied. Only the operators below are implemented; any other
raises, so a policy cannot silently lean on an operator this evaluator does not understand.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

Context = dict[str, str | list[str]]

_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
_OPERATORS = {"StringEquals", "StringNotEquals", "StringLike", "StringNotLike"}


class UnsupportedPolicy(ValueError):
    """The policy uses something this evaluator does not implement, so its answer would be a guess."""


def is_allowed(documents: Iterable[dict], action: str, resource: str, context: Context | None = None) -> bool:
    context = {key.lower(): value for key, value in (context or {}).items()}  # condition keys ignore case
    allowed = False
    for document in documents:
        statements = document["Statement"]
        for statement in [statements] if isinstance(statements, dict) else statements:
            if not _applies(statement, action, resource, context):
                continue
            if statement["Effect"] == "Deny":
                return False
            allowed = True
    return allowed


def _applies(statement: dict, action: str, resource: str, context: Context) -> bool:
    _refuse_unsupported(statement)
    return (
        _element_matches(statement, "Action", action, ignore_case=True)
        and _element_matches(statement, "Resource", resource, ignore_case=False)
        and all(
            _condition_holds(operator, context.get(key.lower()), _as_list(values))
            for operator, keys in statement.get("Condition", {}).items()
            for key, values in keys.items()
        )  # every operator and every key must hold (AND); any one of a key's values may match (OR)
    )


def _refuse_unsupported(statement: dict) -> None:
    """Checked for every statement, also those that do not match the request, so nothing goes unevaluated."""
    unknown = statement.keys() - _STATEMENT_KEYS
    if unknown:
        raise UnsupportedPolicy(f"statement element(s) {sorted(unknown)} are not evaluated")
    if statement["Effect"] not in ("Allow", "Deny"):
        raise UnsupportedPolicy(f"Effect {statement['Effect']!r}")
    for name in ("Action", "Resource"):
        if (name in statement) == (f"Not{name}" in statement):
            raise UnsupportedPolicy(f"a statement needs exactly one of {name} and Not{name}")
    patterns = [*_as_list(statement.get("Resource", statement.get("NotResource")))]
    for operator, keys in statement.get("Condition", {}).items():
        qualifier, _, base = operator.rpartition(":")
        if base not in _OPERATORS or qualifier not in ("", "ForAnyValue", "ForAllValues"):
            raise UnsupportedPolicy(f"condition operator {operator} is not implemented")
        patterns += [p for values in keys.values() for p in _as_list(values)]
    if any("${" in p for p in patterns):
        raise UnsupportedPolicy("policy variables are not implemented")


def _element_matches(statement: dict, name: str, value: str, *, ignore_case: bool) -> bool:
    if name in statement:
        return any(_wildcard(p, ignore_case).fullmatch(value) for p in _as_list(statement[name]))
    return not any(_wildcard(p, ignore_case).fullmatch(value) for p in _as_list(statement[f"Not{name}"]))


def _condition_holds(operator: str, present: str | list[str] | None, patterns: list[str]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    negated = base.startswith("StringNot")
    like = base.endswith("Like")

    def match(value: str) -> bool:
        return any((_wildcard(p, False).fullmatch(value) if like else p == value) for p in patterns)

    values = [] if present is None else _as_list(present)
    if qualifier == "ForAnyValue":  # true if some request value matches; false for a missing key
        return any(match(v) != negated for v in values)
    if qualifier == "ForAllValues":  # true if every request value matches; true for a missing key
        return all(match(v) != negated for v in values)
    if isinstance(present, list):
        raise UnsupportedPolicy(f"{operator} on a multivalued key needs ForAnyValue or ForAllValues")
    if present is None:  # a missing key matches nothing, so only the negated operators hold
        return negated
    return match(present) != negated


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """`*` is any run of characters (also none, also `/`), `?` exactly one; everything else is literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
