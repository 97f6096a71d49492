"""The policy compiler: exact shapes; behaviour proven against a model of the grants with the evaluator; sizes; lint."""

import json
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parliament import analyze_policy_string

from core.domain import AccessLevel
from core.policy import (
    INLINE_LIMIT,
    MANAGED_LIMIT,
    BucketGrant,
    PolicyTooLarge,
    RolePolicies,
    canonical_grants,
    compile_role_policies,
    minify,
    policy_size,
)
from tests.access_model import ACCOUNT_WIDE, CONSOLE, KNOWN_ACTIONS, PREFIX_LIST, READ, WHOLE_LIST, WRITE, model
from tests.iam_eval import is_allowed

RO, RW, ADMIN = AccessLevel.READ_ONLY, AccessLevel.READ_WRITE, AccessLevel.ADMIN

# Requests the grants never allow, to prove nothing wider slips in.
BUCKET_ACTIONS = [*WHOLE_LIST, *CONSOLE, *ACCOUNT_WIDE, "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:GetBucketPolicy"]
BUCKET_ACTIONS += ["s3:PutLifecycleConfiguration", "s3:PutBucketVersioning"]
OBJECT_ACTIONS = [*READ, *WRITE, "s3:DeleteObjectVersion", "s3:GetObjectAcl", "s3:PutObjectAcl"]
OBJECT_ACTIONS += ["s3:BypassGovernanceRetention"]

ACCOUNT_STATEMENTS = [
    {
        "Sid": "Account",
        "Effect": "Allow",
        "Action": ["s3:ListAllMyBuckets", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints"],
        "Resource": "*",
    },
    {"Sid": "BucketLocation", "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": "arn:aws:s3:::*"},
]


def document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": [*ACCOUNT_STATEMENTS, *statements]}


def statements(policies: RolePolicies) -> list[dict]:
    return [s for doc in policies.documents for s in doc["Statement"]]


def allowed(
    policies: RolePolicies,
    action: str,
    bucket: str,
    key: str | None = None,
    prefix: str | None = None,
    delimiter: str | None = None,
):
    if action in ("s3:ListAllMyBuckets", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints"):
        resource = "*"
    elif key is None:
        resource = f"arn:aws:s3:::{bucket}"
    else:
        resource = f"arn:aws:s3:::{bucket}/{key}"
    context = {} if prefix is None else {"s3:prefix": prefix}
    context |= {} if delimiter is None else {"s3:delimiter": delimiter}
    return is_allowed(policies.documents, action, resource, context)


def sweep(buckets: list[str], keys: list[str]) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """Every action on every bucket; object actions on every key; list actions with every key, and every folder on
    the way to it, as prefix, with and without the / delimiter."""
    folders = {"/".join(k.split("/")[:depth]) + "/" for k in keys for depth in range(1, k.count("/") + 1)}
    prefixes = [None, "", *keys, *sorted(folders - set(keys))]
    requests = []
    for bucket in buckets:
        for action in BUCKET_ACTIONS:
            requests += [(action, bucket, None, p, d) for p in prefixes for d in (None, "/")]
        for action in OBJECT_ACTIONS:
            requests += [(action, bucket, key, None, None) for key in keys]
    return requests


def assert_means(grants: list[BucketGrant], policies: RolePolicies, requests) -> None:
    for action, bucket, key, prefix, delimiter in requests:
        expected = model(grants, action, bucket, key, prefix, delimiter)
        assert allowed(policies, action, bucket, key, prefix, delimiter) is expected, (
            action,
            bucket,
            key,
            prefix,
            delimiter,
        )


def assert_well_formed(policies: RolePolicies, managed_slots: int = 10) -> None:
    assert policy_size(policies.inline) <= INLINE_LIMIT
    assert all(policy_size(doc) <= MANAGED_LIMIT for doc in policies.managed)
    assert len(policies.managed) <= managed_slots
    for doc in policies.documents:
        assert doc["Version"] == "2012-10-17"
        sids = [s["Sid"] for s in doc["Statement"] if "Sid" in s]
        assert len(sids) == len(set(sids))
        assert all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids)
        for statement in doc["Statement"]:
            assert statement["Effect"] == "Allow"
            if statement.get("Sid") in ("KmsRead", "KmsWrite"):  # a bucket's customer key, only by way of S3
                assert statement["Action"] == (
                    "kms:Decrypt" if statement["Sid"] == "KmsRead" else "kms:GenerateDataKey"
                )
                assert all(r.startswith("arn:aws:kms:") for r in statement["Resource"])
                assert list(statement["Condition"]) == ["StringEquals"]
                assert list(statement["Condition"]["StringEquals"]) == ["kms:ViaService"]
                continue
            actions = statement["Action"]
            assert set([actions] if isinstance(actions, str) else actions) <= KNOWN_ACTIONS
            if "Condition" in statement:
                # Named buckets only (a wildcard would open buckets nobody granted); the listing under paths only,
                # never above them. That several buckets share one condition only when they hold the same paths is
                # proven by what the policies mean (assert_means).
                resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
                assert all(r.count(":::") == 1 and "*" not in r and "/" not in r for r in resources)
                assert list(statement["Condition"]) == ["StringLike"]
                assert list(statement["Condition"]["StringLike"]) == ["s3:prefix"]
                values = statement["Condition"]["StringLike"]["s3:prefix"]
                assert all(v.endswith("/*") for v in ([values] if isinstance(values, str) else values))


# --- shapes ------------------------------------------------------------------------------------------


def test_no_grants_compile_to_a_valid_document_with_only_the_account_wide_statements():
    policies = compile_role_policies([])
    assert policies == RolePolicies(inline=document(), managed=())


def test_a_whole_bucket_read_only():
    policies = compile_role_policies([BucketGrant("alpha-x", RO)])
    assert policies.inline == document(
        {"Sid": "ListBuckets", "Effect": "Allow", "Action": WHOLE_LIST + CONSOLE, "Resource": ["arn:aws:s3:::alpha-x"]},
        {"Sid": "ReadOnly", "Effect": "Allow", "Action": READ, "Resource": ["arn:aws:s3:::alpha-x/*"]},
    )
    assert policies.managed == ()


def test_a_whole_bucket_read_write():
    policies = compile_role_policies([BucketGrant("alpha-x", RW)])
    assert policies.inline == document(
        {"Sid": "ListBuckets", "Effect": "Allow", "Action": WHOLE_LIST + CONSOLE, "Resource": ["arn:aws:s3:::alpha-x"]},
        {"Sid": "ReadWrite", "Effect": "Allow", "Action": READ + WRITE, "Resource": ["arn:aws:s3:::alpha-x/*"]},
    )


def test_admin_is_read_write_in_aws():
    assert compile_role_policies([BucketGrant("alpha-x", ADMIN)]) == compile_role_policies([BucketGrant("alpha-x", RW)])


def test_whole_buckets_of_one_level_share_a_statement():
    grants = [BucketGrant(b, RW) for b in ("c", "a", "b")] + [BucketGrant("d", RO)]
    assert compile_role_policies(grants).inline == document(
        {
            "Sid": "ListBuckets",
            "Effect": "Allow",
            "Action": WHOLE_LIST + CONSOLE,
            "Resource": ["arn:aws:s3:::a", "arn:aws:s3:::b", "arn:aws:s3:::c", "arn:aws:s3:::d"],
        },
        {"Sid": "ReadOnly", "Effect": "Allow", "Action": READ, "Resource": ["arn:aws:s3:::d/*"]},
        {
            "Sid": "ReadWrite",
            "Effect": "Allow",
            "Action": READ + WRITE,
            "Resource": ["arn:aws:s3:::a/*", "arn:aws:s3:::b/*", "arn:aws:s3:::c/*"],
        },
    )


def test_path_grants_list_under_the_paths_of_that_one_bucket_and_nowhere_above_them():
    policies = compile_role_policies([BucketGrant("beta", RO, ("/p/q", "/r")), BucketGrant("gamma", RW, ("/p/q",))])
    assert policies.inline == document(
        {
            "Sid": "BucketPages",
            "Effect": "Allow",
            "Action": CONSOLE,
            "Resource": ["arn:aws:s3:::beta", "arn:aws:s3:::gamma"],
        },
        {
            "Sid": "ReadOnly",
            "Effect": "Allow",
            "Action": READ,
            "Resource": [  # each path's own key too, to read
                "arn:aws:s3:::beta/p/q",
                "arn:aws:s3:::beta/p/q/*",
                "arn:aws:s3:::beta/r",
                "arn:aws:s3:::beta/r/*",
                "arn:aws:s3:::gamma/p/q",
            ],
        },
        {"Sid": "ReadWrite", "Effect": "Allow", "Action": READ + WRITE, "Resource": ["arn:aws:s3:::gamma/p/q/*"]},
        {
            "Effect": "Allow",
            "Action": PREFIX_LIST,
            "Resource": "arn:aws:s3:::beta",
            "Condition": {"StringLike": {"s3:prefix": ["p/q/*", "r/*"]}},
        },
        {
            "Effect": "Allow",
            "Action": PREFIX_LIST,
            "Resource": "arn:aws:s3:::gamma",
            "Condition": {"StringLike": {"s3:prefix": "p/q/*"}},
        },
    )
    assert_well_formed(policies)


def test_buckets_that_hold_the_same_paths_share_their_listing_statements():
    policies = compile_role_policies([BucketGrant(b, RO, ("/reports",)) for b in ("c", "a", "b")])
    conditional = [s for s in statements(policies) if "Condition" in s]
    arns = ["arn:aws:s3:::a", "arn:aws:s3:::b", "arn:aws:s3:::c"]
    assert conditional == [
        {
            "Effect": "Allow",
            "Action": PREFIX_LIST,
            "Resource": arns,
            "Condition": {"StringLike": {"s3:prefix": "reports/*"}},
        },
    ]


def test_nobody_is_given_permanent_deletion_of_versions():
    policies = compile_role_policies([BucketGrant("a", RW), BucketGrant("b", ADMIN, ("/p",))])
    assert not any(
        "DeleteObjectVersion" in json.dumps(statement) or "*" in json.dumps(statement["Action"])
        for statement in statements(policies)
    )
    assert allowed(policies, "s3:DeleteObject", "a", "k") and not allowed(policies, "s3:DeleteObjectVersion", "a", "k")


def test_different_levels_on_different_paths_of_one_bucket():
    policies = compile_role_policies([BucketGrant("beta", RO, ("/a",)), BucketGrant("beta", RW, ("/b",))])
    by_sid = {s.get("Sid"): s for s in policies.inline["Statement"]}
    assert by_sid["ReadOnly"]["Resource"] == ["arn:aws:s3:::beta/a", "arn:aws:s3:::beta/a/*", "arn:aws:s3:::beta/b"]
    assert by_sid["ReadWrite"]["Resource"] == ["arn:aws:s3:::beta/b/*"]
    listing = [s for s in policies.inline["Statement"] if "StringLike" in s.get("Condition", {})]
    assert [s["Condition"] for s in listing] == [{"StringLike": {"s3:prefix": ["a/*", "b/*"]}}]


def test_read_write_implies_read_without_repeating_it():
    grants = [BucketGrant("beta", RW), BucketGrant("beta", RO, ("/a",)), BucketGrant("beta", RO)]
    policies = compile_role_policies(grants)
    assert policies == compile_role_policies([BucketGrant("beta", RW)])


def test_paths_inside_a_granted_path_or_bucket_are_dropped():
    grants = [BucketGrant("beta", RW, ("/p", "/p/q")), BucketGrant("beta", RO, ("/p/r",))]
    grants += [BucketGrant("g", RO, ("/x",)), BucketGrant("g", RO)]
    assert canonical_grants(grants) == [BucketGrant("beta", RW, ("/p",)), BucketGrant("g", RO)]
    assert compile_role_policies(grants) == compile_role_policies(canonical_grants(grants))


def test_a_whole_bucket_grant_makes_the_listing_unconditional():
    policies = compile_role_policies([BucketGrant("beta", RO), BucketGrant("beta", RW, ("/b",))])
    assert not any("Condition" in s for s in statements(policies))
    assert allowed(policies, "s3:ListBucket", "beta")


def test_a_sibling_name_is_never_matched_by_prefix():
    """`p` covers `p/q` but not `pq`, and bucket `alpha-x` is not `alpha-x-y`."""
    grants = [BucketGrant("beta", RW, ("/p",)), BucketGrant("beta", RO, ("/pq",)), BucketGrant("alpha-x", RO)]
    assert canonical_grants([*grants, BucketGrant("alpha-x-y", RW)]) == [
        BucketGrant("alpha-x", RO),
        BucketGrant("alpha-x-y", RW),
        BucketGrant("beta", RO, ("/pq",)),
        BucketGrant("beta", RW, ("/p",)),
    ]


def test_every_action_is_spelled_exactly_as_aws_names_it():
    grants = [BucketGrant("a", RW), BucketGrant("b", RO), BucketGrant("c", RW, ("/p",)), BucketGrant("d", RO, ("/q",))]
    actions = set()
    for statement in statements(compile_role_policies(grants)):
        actions |= {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])
    assert actions == KNOWN_ACTIONS


# --- behaviour, through the evaluator ----------------------------------------------------------------

PATH_USER = compile_role_policies([BucketGrant("beta", RO, ("/p/q",))])


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("p/q/", True),
        ("p/q/x", True),  # every key under it is inside p/q/
        ("p/q/sub/", True),
        ("p/q/sub/deeper/f", True),
        (None, False),  # listing the whole bucket
        ("", False),  # every key (and, with the / delimiter, the objects at the root: see below)
        ("p/", False),  # every key under p/ (and, with the / delimiter, the objects beside p/q)
        ("p/q", False),  # a plain string prefix: would also list p/qq/... and p/q.csv
        ("p/qq/", False),
        ("p/other/", False),
        ("P/q/", False),
    ],
)
def test_a_path_user_lists_only_inside_the_path(prefix, expected):
    for action in PREFIX_LIST:
        assert allowed(PATH_USER, action, "beta", prefix=prefix) is expected
    assert not allowed(PATH_USER, "s3:ListBucketMultipartUploads", "beta", prefix=prefix)


@pytest.mark.parametrize(
    "prefix",
    [
        "",  # the bucket's root: it would show every object there (salaries.csv and its size)
        "p/",  # the folder on the way to p/q: the objects beside p/q
        "p",  # a plain string prefix: would also list pX/...
        "p/q",
        "p/qq/",
        "x/",
        "P/",
        None,
    ],
)
def test_a_path_user_lists_nothing_above_or_beside_the_path_even_one_folder_level_at_a_time(prefix):
    """With the / delimiter a listing returns the objects at that level with their names and sizes, not only the
    folders, and S3 has no condition that would return folders alone: no walk from the root."""
    for delimiter in (None, "/", "-"):
        for action in PREFIX_LIST:
            assert not allowed(PATH_USER, action, "beta", prefix=prefix, delimiter=delimiter)


@pytest.mark.parametrize("prefix", ["p/q/", "p/q/sub/", "p/q/sub/deeper/f"])
def test_a_path_user_lists_inside_the_path_with_or_without_the_delimiter(prefix):
    for delimiter in (None, "/"):
        for action in PREFIX_LIST:
            assert allowed(PATH_USER, action, "beta", prefix=prefix, delimiter=delimiter)


def test_the_console_reads_the_pages_of_the_users_buckets_and_no_others():
    policies = compile_role_policies([BucketGrant("whole", RO), BucketGrant("paths", RO, ("/p",))])
    for action in CONSOLE:
        assert allowed(policies, action, "whole") and allowed(policies, action, "paths")
        assert not allowed(policies, action, "other")
    for action in ("s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints"):
        assert allowed(policies, action, "any")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("p/q/a.csv", True),
        ("p/q/sub/a.csv", True),
        ("p/q/", True),  # the folder marker the console creates
        ("p/q", True),  # the path's own key: pyarrow and polars look a folder up as an object first
        ("p/qq/file", False),
        ("p/qq", False),
        ("p/other/a.csv", False),
        ("a.csv", False),
    ],
)
def test_a_path_user_reads_only_inside_the_path_and_never_writes(key, expected):
    for action in READ:
        assert allowed(PATH_USER, action, "beta", key) is expected
    for action in WRITE:
        assert not allowed(PATH_USER, action, "beta", key)


def test_read_only_cannot_write_and_read_write_can():
    policies = compile_role_policies([BucketGrant("ro-bucket", RO), BucketGrant("rw-bucket", RW)])
    for action in WRITE:
        assert not allowed(policies, action, "ro-bucket", "k")
        assert allowed(policies, action, "rw-bucket", "k")
    for action in READ:
        assert allowed(policies, action, "ro-bucket", "k")


def test_a_grant_on_alpha_x_gives_nothing_on_alpha_x_y():
    policies = compile_role_policies([BucketGrant("alpha-x", RW), BucketGrant("alpha", RW, ("/x",))])
    for action, bucket, key, prefix, delimiter in sweep(["alpha-x-y", "alpha-xy", "alpha-"], ["k", "x/k", "-y/k"]):
        expected = action in ACCOUNT_WIDE
        assert allowed(policies, action, bucket, key, prefix, delimiter) is expected, (action, bucket, key, prefix)
    assert allowed(policies, "s3:PutObject", "alpha-x", "k")


def test_revoking_one_bucket_leaves_the_others_exactly_as_they_were():
    kept = [BucketGrant("alpha-x-y", RO), BucketGrant("alpha-xy", RW, ("/p",)), BucketGrant("beta", RW)]
    before = compile_role_policies([BucketGrant("alpha-x", RW), *kept])
    after = compile_role_policies(kept)
    for request in sweep(["alpha-x-y", "alpha-xy", "beta"], ["k", "p/k", "p/"]):
        assert allowed(before, *request) is allowed(after, *request), request
    assert_means(kept, after, sweep(["alpha-x"], ["k", "p/k"]))


REPRESENTATIVE = {
    "none": [],
    "whole buckets": [BucketGrant("alpha-x", RO), BucketGrant("alpha-x-y", RW), BucketGrant("beta.data", ADMIN)],
    "paths": [BucketGrant("alpha-x", RO, ("/p/q", "/qq")), BucketGrant("alpha-x-y", RW, ("/p",))],
    "mixed levels": [
        BucketGrant("alpha-x", RO),
        BucketGrant("alpha-x", RW, ("/p",)),
        BucketGrant("alpha-xy", RO, ("/a b", "/p/q")),
        BucketGrant("alpha-xy", ADMIN, ("/p",)),
        BucketGrant("beta.data", RW, ("/q",)),
        BucketGrant("beta.data", RO),
    ],
}
SWEEP_KEYS = ["k", "p", "p/", "p/q", "p/q/", "p/q/k", "p/qq/k", "pq/k", "qq/k", "a b/k", "a/k", "q/k", "p/q/r/"]


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_representative_grant_sets_mean_exactly_what_the_grants_say(name):
    grants = REPRESENTATIVE[name]
    policies = compile_role_policies(grants)
    assert_well_formed(policies)
    assert_means(grants, policies, sweep(["alpha-x", "alpha-x-y", "alpha-xy", "beta.data", "gamma"], SWEEP_KEYS))


# --- property-based: random grants, random requests, against the model --------------------------------

BUCKETS = ["alpha-x", "alpha-x-y", "alpha-xy", "alpha", "beta.data"]
SEGMENTS = ["p", "q", "qq", "p-q", "a b"]
paths = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))
grant = st.builds(
    BucketGrant,
    st.sampled_from(BUCKETS),
    st.sampled_from(list(AccessLevel)),
    st.one_of(st.just(()), st.lists(paths, min_size=1, max_size=3, unique=True).map(tuple)),
)
grant_lists = st.lists(grant, max_size=7)
names = st.builds(
    lambda parts, slash: "/".join(parts) + slash,
    st.lists(st.sampled_from([*SEGMENTS, "f.csv"]), min_size=1, max_size=4),
    st.sampled_from(["", "/"]),
)


def near(path_prefixes: list[str]) -> st.SearchStrategy[str]:
    """Names at and around the granted paths, where the interesting boundaries are."""
    if not path_prefixes:
        return names
    suffixes = ["", "/", "/f.csv", "/sub/", "q", "q/f", "-q/f"]
    close = st.builds(lambda p, s: p + s, st.sampled_from(path_prefixes), st.sampled_from(suffixes))
    return st.one_of(names, close, st.sampled_from(path_prefixes).map(lambda p: p[:-1]).filter(bool))


@settings(max_examples=200, deadline=None)
@given(grants=grant_lists, data=st.data())
def test_compiled_policies_allow_exactly_what_the_grants_say(grants, data):
    policies = compile_role_policies(grants)
    assert_well_formed(policies)
    keys = near(sorted({path[1:] for g in grants for path in g.paths}))
    folders = keys.map(lambda k: k[: k.rfind("/") + 1])  # a folder on the way to a key, or the root
    bucket_requests = st.tuples(
        st.sampled_from(BUCKET_ACTIONS),
        st.sampled_from(BUCKETS),
        st.none(),
        st.one_of(st.none(), st.just(""), keys, folders),
        st.sampled_from([None, "/"]),
    )
    object_requests = st.tuples(st.sampled_from(OBJECT_ACTIONS), st.sampled_from(BUCKETS), keys, st.none(), st.none())
    requests = data.draw(st.lists(st.one_of(bucket_requests, object_requests), min_size=10, max_size=30))
    assert_means(grants, policies, requests)


@settings(max_examples=100, deadline=None)
@given(grants=grant_lists, seed=st.randoms(use_true_random=False))
def test_the_same_grants_in_any_order_compile_to_the_same_bytes(grants, seed):
    shuffled = grants + grants[:2]
    seed.shuffle(shuffled)
    first, second = compile_role_policies(grants), compile_role_policies(shuffled)
    assert [minify(d) for d in first.documents] == [minify(d) for d in second.documents]
    assert compile_role_policies(canonical_grants(grants)) == first


LONG_BUCKETS = [f"alpha-{n:03d}-{'x' * 16}" for n in range(150)]
large_grant_lists = st.lists(
    st.builds(
        BucketGrant,
        st.sampled_from(LONG_BUCKETS),
        st.sampled_from(list(AccessLevel)),
        st.one_of(st.just(()), st.lists(paths, min_size=1, max_size=5, unique=True).map(tuple)),
    ),
    min_size=50,
    max_size=400,
)


@settings(max_examples=15, deadline=None)
@given(grants=large_grant_lists, managed_slots=st.integers(0, 10), data=st.data())
def test_large_grant_sets_spill_within_the_slots_and_still_mean_the_same(grants, managed_slots, data):
    try:
        policies = compile_role_policies(grants, managed_slots=managed_slots)
    except PolicyTooLarge:
        return
    assert_well_formed(policies, managed_slots)
    buckets = st.sampled_from(sorted({g.bucket for g in grants}))
    keys = near(sorted({path[1:] for g in grants for path in g.paths}))
    bucket_requests = st.tuples(
        st.sampled_from(BUCKET_ACTIONS), buckets, st.none(), st.one_of(st.none(), keys), st.sampled_from([None, "/"])
    )
    object_requests = st.tuples(st.sampled_from(OBJECT_ACTIONS), buckets, keys, st.none(), st.none())
    assert_means(grants, policies, data.draw(st.lists(st.one_of(bucket_requests, object_requests), min_size=30)))


# --- sizes -------------------------------------------------------------------------------------------


def bucket(number: int) -> str:
    return f"alpha-bench-source-{number:05d}"


def test_policy_size_counts_characters_without_whitespace():
    doc = document({"Sid": "ReadOnly", "Effect": "Allow", "Action": READ, "Resource": ["arn:aws:s3:::b/*"]})
    assert policy_size(doc) == len("".join(json.dumps(doc, indent=4).split()))
    assert policy_size({"Version": "2012-10-17", "Statement": []}) == 39


def test_a_path_beyond_latin_1_travels_as_ascii_escapes_and_still_matches():
    grants = [BucketGrant("beta", RO, ("/dépôt/łódź",))]
    policies = compile_role_policies(grants)
    text = minify(policies.inline)
    assert text.isascii() and "\\u0142" in text
    assert json.loads(text) == policies.inline
    assert policy_size(policies.inline) == len(text)
    assert_means(grants, policies, sweep(["beta"], ["dépôt/łódź/k", "dépôt/łódź/", "dépôt/łódźx/k", "dépôt/k"]))


def test_a_small_grant_set_stays_in_the_inline_policy():
    policies = compile_role_policies([BucketGrant(bucket(n), RW) for n in range(100)])
    assert policies.managed == ()
    assert policy_size(policies.inline) <= INLINE_LIMIT


def test_many_grants_spill_into_managed_policies_and_still_mean_the_same():
    rng = random.Random(7)
    grants = []
    for n in range(450):
        paths = () if n % 3 else tuple(sorted({f"/reports-{rng.randrange(5)}" for _ in range(rng.randrange(1, 3))}))
        grants.append(BucketGrant(bucket(n), rng.choice(list(AccessLevel)), paths))
    policies = compile_role_policies(grants)
    assert len(policies.managed) >= 4
    assert policy_size(policies.inline) > INLINE_LIMIT - 300  # the inline policy is filled first
    assert_well_formed(policies)
    sampled = [bucket(n) for n in rng.sample(range(460), 12)]  # a few are not granted at all
    keys = ["k", "reports-1/k", "reports-1/", "reports-1", "reports-10/k", "reports-3/a/b"]
    assert_means(grants, policies, sweep(sampled, keys))


def test_a_bucket_with_many_long_paths_splits_its_listing_by_size_not_by_bucket():
    paths = tuple(f"/{'x' * 200}-{n:02d}" for n in range(50))
    grants = [BucketGrant("beta", RO, paths)]
    policies = compile_role_policies(grants)
    assert_well_formed(policies)
    conditional = [s for s in statements(policies) if "Condition" in s]
    assert len(conditional) >= 2
    assert {s["Resource"] for s in conditional} == {"arn:aws:s3:::beta"}
    assert_means(grants, policies, sweep(["beta"], [f"{p[1:]}/k" for p in paths[::7]] + ["x/k"]))


def test_grants_that_cannot_fit_are_refused_naming_the_limits():
    with pytest.raises(PolicyTooLarge) as raised:
        compile_role_policies([BucketGrant(bucket(n), RW) for n in range(2_000)])
    message = str(raised.value)
    assert "10,240-character inline policy" in message
    assert "10 managed policies of 6,144 characters" in message
    assert message.count(".") == 1 and message.endswith(".")


def test_managed_slots_bound_the_number_of_managed_policies():
    grants = [BucketGrant(bucket(n), RW) for n in range(400)]
    assert len(compile_role_policies(grants, managed_slots=4).managed) == 4
    with pytest.raises(PolicyTooLarge, match="the 3 managed policies of 6,144 characters"):
        compile_role_policies(grants, managed_slots=3)
    with pytest.raises(PolicyTooLarge, match="the 1 managed policy of"):
        compile_role_policies(grants, managed_slots=1)


def test_no_managed_slot_means_the_inline_policy_only():
    fits = compile_role_policies([BucketGrant(bucket(n), RW) for n in range(100)], managed_slots=0)
    assert fits.managed == ()
    with pytest.raises(PolicyTooLarge, match="10,240-character inline policy, the only room"):
        compile_role_policies([BucketGrant(bucket(n), RW) for n in range(200)], managed_slots=0)


# --- lint --------------------------------------------------------------------------------------------


def assert_no_findings(policies: RolePolicies) -> None:
    for doc in policies.documents:
        findings = analyze_policy_string(minify(doc), include_community_auditors=True).findings
        assert findings == [], [str(f) for f in findings]


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_parliament_finds_nothing_in_representative_policies(name):
    assert_no_findings(compile_role_policies(REPRESENTATIVE[name]))


def test_parliament_finds_nothing_in_spilled_policies():
    grants = [BucketGrant(bucket(n), [RO, RW][n % 2], () if n % 3 else ("/reports-1",)) for n in range(300)]
    assert_no_findings(compile_role_policies(grants))


@settings(max_examples=15, deadline=None)
@given(grants=grant_lists)
def test_parliament_finds_nothing_in_random_policies(grants):
    assert_no_findings(compile_role_policies(grants))


KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "arn:aws:kms:eu-west-1:123456789012:key/9999abcd-12ab-34cd-56ef-1234567890ab"


def test_a_bucket_with_a_customer_key_grants_that_key_only_through_s3():
    """Readers decrypt, writers also make data keys, with the bucket's own key, and only by way of S3 there."""
    grants = [
        BucketGrant("secure", RO, (), KEY),
        BucketGrant("plain", RW),
        BucketGrant("written", RW, ("/p",), OTHER_KEY),
    ]
    policies = compile_role_policies(grants)
    assert_well_formed(policies)
    via_s3 = {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}

    def may(action: str, key: str, context: dict) -> bool:
        return is_allowed(policies.documents, action, key, context)

    assert may("kms:Decrypt", KEY, via_s3) and may("kms:Decrypt", OTHER_KEY, via_s3)
    assert not may("kms:GenerateDataKey", KEY, via_s3)  # read only
    assert may("kms:GenerateDataKey", OTHER_KEY, via_s3)
    assert not may("kms:Decrypt", KEY, {})  # straight to KMS, not through S3
    assert not may("kms:Decrypt", KEY, {"kms:ViaService": "ec2.eu-west-1.amazonaws.com"})
    assert not may("kms:Decrypt", KEY.replace("1234abcd", "5555abcd"), via_s3)
    assert compile_role_policies([BucketGrant("plain", RW)]) == compile_role_policies(
        [BucketGrant("plain", RW, (), None)]
    )
    assert not analyze_policy_string(minify(policies.inline)).findings
