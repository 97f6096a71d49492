"""The drift between a role's desired and live policy documents, said as the permissions that differ."""

from __future__ import annotations

from core.domain import AccessLevel
from core.policy import BucketGrant, compile_role_policies
from core.policy_diff import StatementGap, statement_gaps


def _document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


READ_Y = {"Sid": "ReadOnly", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::alpha-y/*"]}
LIST_Y = {"Sid": "ListBuckets", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::alpha-y"}


def test_what_iam_has_beyond_the_grants_and_what_it_lacks_name_the_buckets_and_actions() -> None:
    desired = [_document(READ_Y, LIST_Y)]
    live = [_document({**READ_Y, "Resource": ["arn:aws:s3:::alpha-y/*", "arn:aws:s3:::alpha-x/*"]})]
    gaps = statement_gaps(desired, live)
    assert [g.drift for g in gaps] == [
        "IAM has read (GetObject) on alpha-x/* that Gatehouse did not grant",
        "Gatehouse grants list (ListBucket) on alpha-y that IAM lacks",
    ]
    assert [g.repair for g in gaps] == [
        "took away read (GetObject) on alpha-x/*",
        "put back list (ListBucket) on alpha-y",
    ]


def test_the_same_permissions_laid_out_otherwise_are_no_difference() -> None:
    """Sids, statement order, one statement or two, a string or a list, an action's case: none changes access."""
    split = [_document({"Effect": "Allow", "Action": "S3:getobject", "Resource": "arn:aws:s3:::alpha-y/*"}, LIST_Y)]
    assert statement_gaps([_document(READ_Y, LIST_Y)], split) == []
    assert statement_gaps([_document(READ_Y), _document(LIST_Y)], [_document(LIST_Y, READ_Y)]) == []


def test_resources_missing_the_same_actions_share_one_sentence_and_a_listing_says_under_which_prefixes() -> None:
    desired = compile_role_policies(
        [
            BucketGrant("alpha-a", AccessLevel.READ_ONLY),
            BucketGrant("alpha-b", AccessLevel.READ_ONLY),
            BucketGrant("alpha-c", AccessLevel.READ_ONLY, ("/reports",)),
        ],
        managed_slots=0,
    )
    gaps = statement_gaps(desired.documents, [])
    assert all(not g.in_iam for g in gaps)
    reads = next(g for g in gaps if g.actions.startswith("read ("))
    assert {"alpha-a/*", "alpha-b/*"} <= set(reads.resources)
    listing = [r for g in gaps for r in g.resources if r.startswith("alpha-c (listing under ")]
    assert listing and "reports/*" in listing[0]


def test_a_denial_and_an_unknown_action_are_named_as_they_are() -> None:
    deny = {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::alpha-y/*"}
    kms = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}
    assert statement_gaps([_document(READ_Y)], [_document(READ_Y, deny, kms)]) == [
        StatementGap(True, "other actions (kms:Decrypt)", ("every resource (*)",)),
        StatementGap(True, "deny write (PutObject)", ("alpha-y/*",)),
    ]
