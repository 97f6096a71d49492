"""How a grant becomes IAM, in one room: who a role is (`Principal`), how a grant is placed among the grants a person
holds on a source (`placed_on_bucket`, after `rules.place_grant`), which grants a role must reflect
(`desired_grants`) and the documents they make in the room IAM leaves Gatehouse on the role (`role_documents`,
`check_fits`; a member's teams' policies attached there or folded in: core/team_policies.py), and how a grant is
recorded, with its audit text and the role marked for the after-commit step (`record_grant`, `mark_changed`; a
team's: `mark_team_changed`). Grant, change, revoke, approve, review, expiry, archive, leavers and the approval
preview all come here; `iam_sync` writes what this says to AWS, and the adapter only reads and writes."""

from core.access.changing import record_change, record_revoke
from core.access.recording import (
    ExternalNeedsConfirmation,
    GrantOutcome,
    as_recorded,
    audit_subject,
    changing_access,
    check_classified,
    check_manages,
    checked_terms,
    describe,
    keeps_an_admin,
    mark_holder,
    placed_on_bucket,
    record_grant,
    record_team_grant,
)
from core.access.roles import (
    Principal,
    all_principals,
    app_principal,
    check_fits,
    check_team_fits,
    desired_grants,
    mark_all_changed,
    mark_changed,
    mark_team_changed,
    own_grants,
    role_documents,
    team_principal,
    team_principals,
    user_principal,
)
from core.team_policies import team_grants as team_grants

__all__ = [
    "ExternalNeedsConfirmation",
    "GrantOutcome",
    "Principal",
    "all_principals",
    "app_principal",
    "as_recorded",
    "audit_subject",
    "changing_access",
    "check_classified",
    "check_fits",
    "check_manages",
    "check_team_fits",
    "checked_terms",
    "describe",
    "desired_grants",
    "keeps_an_admin",
    "mark_all_changed",
    "mark_changed",
    "mark_holder",
    "mark_team_changed",
    "own_grants",
    "placed_on_bucket",
    "record_change",
    "record_grant",
    "record_revoke",
    "record_team_grant",
    "role_documents",
    "team_grants",
    "team_principal",
    "team_principals",
    "user_principal",
]
