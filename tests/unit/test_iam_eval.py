"""The evaluator against AWS's documented examples, so that the policy tests built on it cannot be vacuous."""

import pytest

from tests.iam_eval import UnsupportedPolicy, is_allowed


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource, condition=None) -> dict:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return statement | ({"Condition": condition} if condition else {})


# --- effects -----------------------------------------------------------------------------------------


def test_nothing_is_allowed_by_default():
    assert not is_allowed([], "s3:GetObject", "arn:aws:s3:::b/k")
    assert not is_allowed([policy()], "s3:GetObject", "arn:aws:s3:::b/k")
    assert not is_allowed([policy(allow("s3:PutObject", "*"))], "s3:GetObject", "arn:aws:s3:::b/k")


def test_an_explicit_deny_in_any_document_beats_an_allow():
    grants = policy(allow("s3:*", "*"))
    denies = policy({"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"})
    assert is_allowed([grants, denies], "s3:GetObject", "arn:aws:s3:::b/k")
    assert not is_allowed([grants, denies], "s3:DeleteObject", "arn:aws:s3:::b/k")
    assert not is_allowed([denies, grants], "s3:DeleteObject", "arn:aws:s3:::b/k")
    assert is_allowed([grants, denies], "s3:DeleteObject", "arn:aws:s3:::other/k")


def test_a_single_statement_object_is_accepted():
    document = {"Version": "2012-10-17", "Statement": allow("s3:GetObject", "arn:aws:s3:::b/*")}
    assert is_allowed([document], "s3:GetObject", "arn:aws:s3:::b/k")


# --- actions and resources ---------------------------------------------------------------------------


def test_action_names_ignore_case_and_take_wildcards():
    document = policy(allow(["s3:Get*", "S3:listbucket"], "*"))
    assert is_allowed([document], "s3:GetObject", "arn:aws:s3:::b/k")
    assert is_allowed([document], "s3:getobjecttagging", "arn:aws:s3:::b/k")
    assert is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b")
    assert not is_allowed([document], "s3:ListBucketVersions", "arn:aws:s3:::b")
    assert not is_allowed([document], "s3:PutObject", "arn:aws:s3:::b/k")


def test_resource_arns_are_case_sensitive():
    document = policy(allow("s3:GetObject", "arn:aws:s3:::bucket/Reports/*"))
    assert is_allowed([document], "s3:GetObject", "arn:aws:s3:::bucket/Reports/a.csv")
    assert not is_allowed([document], "s3:GetObject", "arn:aws:s3:::bucket/reports/a.csv")


def test_star_spans_slashes_and_question_mark_is_one_character():
    document = policy(allow("s3:GetObject", ["arn:aws:s3:::b/home/*", "arn:aws:s3:::b/file?.txt"]))
    assert is_allowed([document], "s3:GetObject", "arn:aws:s3:::b/home/a/b/c")
    assert is_allowed([document], "s3:GetObject", "arn:aws:s3:::b/file1.txt")
    assert not is_allowed([document], "s3:GetObject", "arn:aws:s3:::b/file10.txt")
    assert not is_allowed([document], "s3:GetObject", "arn:aws:s3:::b/file.txt")


def test_other_regex_characters_are_literal():
    document = policy(allow("s3:GetObject", "arn:aws:s3:::b.c/a+b/*"))
    assert is_allowed([document], "s3:GetObject", "arn:aws:s3:::b.c/a+b/k")
    assert not is_allowed([document], "s3:GetObject", "arn:aws:s3:::bxc/a+b/k")
    assert not is_allowed([document], "s3:GetObject", "arn:aws:s3:::b.c/aab/k")


def test_a_bucket_arn_does_not_match_a_longer_bucket_name():
    document = policy(allow("s3:ListBucket", "arn:aws:s3:::alpha-x"), allow("s3:GetObject", "arn:aws:s3:::alpha-x/*"))
    assert not is_allowed([document], "s3:ListBucket", "arn:aws:s3:::alpha-x-y")
    assert not is_allowed([document], "s3:GetObject", "arn:aws:s3:::alpha-x-y/k")


def test_not_action_allows_everything_else():
    # IAM User Guide, NotAction: "allow access to all actions in all services except IAM"
    document = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert is_allowed([document], "s3:GetObject", "arn:aws:s3:::b/k")
    assert not is_allowed([document], "iam:CreateUser", "arn:aws:iam::1:user/x")


def test_not_resource_in_a_deny_protects_everything_else():
    # IAM User Guide, NotResource: deny everything outside the HRBucket/Payroll folder
    document = policy(
        allow("s3:*", "*"),
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
        },
    )
    assert is_allowed([document], "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/jan.csv")
    assert not is_allowed([document], "s3:GetObject", "arn:aws:s3:::HRBucket/Other/jan.csv")


# --- conditions --------------------------------------------------------------------------------------

# IAM User Guide, "Amazon S3: Allows IAM users access to their S3 home directory" (the user name written out).
HOME_FOLDER = policy(
    allow("s3:ListBucket", "arn:aws:s3:::bucket", {"StringLike": {"s3:prefix": ["home/David/*"]}}),
    allow(
        "s3:ListBucket",
        "arn:aws:s3:::bucket",
        {"StringEquals": {"s3:prefix": ["", "home/"], "s3:delimiter": ["/"]}},
    ),
)


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"s3:prefix": "home/David/"}, True),
        ({"s3:prefix": "home/David/photos/"}, True),
        ({"s3:prefix": "home/Dave/"}, False),
        ({"s3:prefix": "home/David"}, False),
        ({"s3:prefix": "home/", "s3:delimiter": "/"}, True),
        ({"s3:prefix": "", "s3:delimiter": "/"}, True),
        ({"s3:prefix": "home/"}, False),  # both keys of one operator must hold
        ({"s3:prefix": "home/", "s3:delimiter": "|"}, False),
        ({}, False),  # a key missing from the request matches nothing
        (None, False),
    ],
)
def test_string_like_and_string_equals_as_documented(context, expected):
    assert is_allowed([HOME_FOLDER], "s3:ListBucket", "arn:aws:s3:::bucket", context) is expected


def test_any_value_of_a_key_may_match():
    document = policy(allow("s3:ListBucket", "arn:aws:s3:::b", {"StringLike": {"s3:prefix": ["a/*", "b/*"]}}))
    assert is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "b/x"})
    assert not is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "c/x"})


def test_string_equals_is_exact_and_case_sensitive():
    document = policy(allow("s3:ListBucket", "arn:aws:s3:::b", {"StringEquals": {"s3:prefix": "a/*"}}))
    assert is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "a/*"})
    assert not is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "a/x"})
    assert not is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "A/*"})


def test_condition_key_names_ignore_case_but_values_do_not():
    document = policy(allow("s3:ListBucket", "arn:aws:s3:::b", {"StringLike": {"S3:Prefix": "a/*"}}))
    assert is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "a/x"})
    assert not is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "A/x"})


def test_negated_operators_hold_when_the_key_is_missing():
    not_like = policy(allow("s3:ListBucket", "*", {"StringNotLike": {"s3:prefix": "secret/*"}}))
    assert is_allowed([not_like], "s3:ListBucket", "arn:aws:s3:::b")
    assert is_allowed([not_like], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "public/"})
    assert not is_allowed([not_like], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "secret/x"})
    not_equals = policy(allow("s3:GetObject", "*", {"StringNotEquals": {"aws:PrincipalTag/team": ["a", "b"]}}))
    assert is_allowed([not_equals], "s3:GetObject", "arn:aws:s3:::b/k")
    assert is_allowed([not_equals], "s3:GetObject", "arn:aws:s3:::b/k", {"aws:PrincipalTag/team": "c"})
    assert not is_allowed([not_equals], "s3:GetObject", "arn:aws:s3:::b/k", {"aws:PrincipalTag/team": "b"})


def test_every_operator_must_hold():
    document = policy(
        allow(
            "s3:ListBucket",
            "arn:aws:s3:::b",
            {"StringLike": {"s3:prefix": "data/*"}, "StringNotLike": {"s3:prefix": "data/private/*"}},
        )
    )
    assert is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "data/public/"})
    assert not is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "data/private/x"})


def test_a_conditional_deny_denies_only_when_its_condition_holds():
    document = policy(
        allow("s3:ListBucket", "*"),
        {
            "Effect": "Deny",
            "Action": "s3:ListBucket",
            "Resource": "*",
            "Condition": {"StringLike": {"s3:prefix": "x/*"}},
        },
    )
    assert is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "y/"})
    assert is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b")
    assert not is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "x/1"})


def test_set_operators_on_multivalued_keys():
    # IAM User Guide, "Single-valued vs. multivalued context keys": aws:TagKeys
    all_values = policy(allow("ec2:CreateTags", "*", {"ForAllValues:StringLike": {"aws:TagKeys": ["key1*"]}}))
    assert is_allowed([all_values], "ec2:CreateTags", "*", {"aws:TagKeys": ["key1a", "key1b"]})
    assert not is_allowed([all_values], "ec2:CreateTags", "*", {"aws:TagKeys": ["key1a", "key2"]})
    assert is_allowed([all_values], "ec2:CreateTags", "*", {})  # vacuously true for a missing key
    any_value = policy(allow("ec2:CreateTags", "*", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}))
    assert is_allowed([any_value], "ec2:CreateTags", "*", {"aws:TagKeys": ["owner", "env"]})
    assert not is_allowed([any_value], "ec2:CreateTags", "*", {"aws:TagKeys": ["owner"]})
    assert not is_allowed([any_value], "ec2:CreateTags", "*", {})


# --- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEqualsIgnoreCase": {"s3:prefix": "a"}},
        {"StringLikeIfExists": {"s3:prefix": "a"}},
        {"NumericLessThan": {"s3:max-keys": "10"}},
        {"Bool": {"aws:SecureTransport": "false"}},
        {"ArnLike": {"aws:SourceArn": "*"}},
        {"Null": {"s3:prefix": "true"}},
        {"ForSomeValues:StringLike": {"s3:prefix": "a"}},
        {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
    ],
)
def test_an_unimplemented_condition_is_refused_not_guessed(condition):
    document = policy(allow("s3:ListBucket", "*", condition))
    with pytest.raises(UnsupportedPolicy):
        is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "a"})


def test_a_multivalued_key_without_a_set_operator_is_refused():
    document = policy(allow("s3:ListBucket", "*", {"StringLike": {"s3:prefix": "a"}}))
    with pytest.raises(UnsupportedPolicy):
        is_allowed([document], "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ["a", "b"]})


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Allow", "Resource": "*"},
        {"Effect": "Permit", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::${aws:username}/*"},
    ],
)
def test_an_unimplemented_statement_is_refused(statement):
    with pytest.raises(UnsupportedPolicy):
        is_allowed([policy(statement)], "s3:GetObject", "arn:aws:s3:::b/k")


def test_an_unimplemented_operator_is_refused_even_where_the_statement_does_not_apply():
    document = policy(allow("iam:PassRole", "*", {"Bool": {"aws:SecureTransport": "true"}}))
    with pytest.raises(UnsupportedPolicy):
        is_allowed([document], "s3:GetObject", "arn:aws:s3:::b/k")
