"""Adopting roles the old platform made: its `s3-access` policies read back into grants; Gatehouse's own round-trip."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import AccessLevel
from core.policy import BucketGrant, canonical_grants, compile_role_policies
from core.policy_reader import import_s3_access

RO, RW = AccessLevel.READ_ONLY, AccessLevel.READ_WRITE

OLD_READ = ["s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectVersion"]
OLD_WRITE = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject", "s3:PutObjectAcl", "s3:RestoreObject"]

# The early control panel's format: a `console` statement and whole-bucket list/readonly/readwrite.
EARLY_CONTROL_PANEL = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "console",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListAllMyBuckets"],
            "Resource": "arn:aws:s3:::*",
        },
        {
            "Sid": "list",
            "Action": ["s3:ListBucket"],
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::alpha-readwrite-1", "arn:aws:s3:::alpha-readwrite-2", "arn:aws:s3:::alpha-ro-1"],
        },
        {"Sid": "readonly", "Action": OLD_READ, "Effect": "Allow", "Resource": ["arn:aws:s3:::alpha-ro-1/*"]},
        {
            "Sid": "readwrite",
            "Action": OLD_READ + OLD_WRITE,
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::alpha-readwrite-1/*", "arn:aws:s3:::alpha-readwrite-2/*"],
        },
    ],
}

# The later format: bucket metadata in `list`, path grants as `B/path/*` and folder grants on the shared folders
# bucket, with listFolder/listSubFolders statements whose Sids carry the md5 of the bucket name.
LIST_ACTIONS = [
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketPolicyStatus",
    "s3:GetBucketTagging",
    "s3:GetBucketPolicy",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketVersioning",
    "s3:GetBucketLocation",
    "s3:ListBucketVersions",
    "s3:ListBucket",
]
FOLDERS_MD5 = "c6afd0c6c81a56b70e14642e06249f25"  # md5("alpha-data-folders")
LATER_CONTROL_PANEL = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ListUserBuckets",
            "Action": ["s3:ListAllMyBuckets", "s3:ListAccessPoints", "s3:GetAccountPublicAccessBlock"],
            "Effect": "Allow",
            "Resource": "*",
        },
        {
            "Sid": "list",
            "Action": LIST_ACTIONS,
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::test-bucket", "arn:aws:s3:::test-bucket-another", "arn:aws:s3:::alpha-hmcts"],
        },
        {
            "Sid": "readonly",
            "Action": [*OLD_READ, "s3:GetObjectTagging", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
            "Effect": "Allow",
            "Resource": [
                "arn:aws:s3:::test-bucket-another/*",
                "arn:aws:s3:::alpha-hmcts/courts/2024/*",
                "arn:aws:s3:::alpha-hmcts/courts/2025/*",
                "arn:aws:s3:::alpha-data-folders/team-a/*",
            ],
        },
        {
            "Sid": "readwrite",
            "Action": [*OLD_READ, "s3:GetObjectTagging", *OLD_WRITE],
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::test-bucket/*", "arn:aws:s3:::alpha-hmcts/courts/2024/corrections/*"],
        },
        {
            "Sid": "rootFolderBucketMeta",
            "Action": LIST_ACTIONS[:-1],
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::alpha-data-folders"],
        },
        {
            "Sid": f"listFolder{FOLDERS_MD5}",
            "Action": ["s3:ListBucket"],
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::alpha-data-folders"],
            "Condition": {"StringEquals": {"s3:prefix": ["", "team-a"], "s3:delimiter": ["/"]}},
        },
        {
            "Sid": f"listSubFolders{FOLDERS_MD5}",
            "Action": ["s3:ListBucket"],
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::alpha-data-folders"],
            "Condition": {"StringLike": {"s3:prefix": ["team-a/*"]}},
        },
    ],
}


def test_the_early_control_panel_format():
    imported = import_s3_access([EARLY_CONTROL_PANEL])
    assert imported.grants == [
        BucketGrant("alpha-readwrite-1", RW),
        BucketGrant("alpha-readwrite-2", RW),
        BucketGrant("alpha-ro-1", RO),
    ]
    assert imported.skipped == []


def test_the_later_control_panel_format_with_path_and_folder_grants():
    imported = import_s3_access([LATER_CONTROL_PANEL])
    assert imported.grants == [
        BucketGrant("alpha-data-folders", RO, ("/team-a",)),
        BucketGrant("alpha-hmcts", RO, ("/courts/2024", "/courts/2025")),
        BucketGrant("alpha-hmcts", RW, ("/courts/2024/corrections",)),
        BucketGrant("test-bucket", RW),
        BucketGrant("test-bucket-another", RO),  # a name that starts with another is its own bucket
    ]
    assert imported.skipped == []


def test_a_policy_as_iam_returns_it_in_json_text():
    assert import_s3_access([json.dumps(EARLY_CONTROL_PANEL)]) == import_s3_access([EARLY_CONTROL_PANEL])


def test_a_single_statement_object_is_read():
    document = {"Version": "2012-10-17", "Statement": EARLY_CONTROL_PANEL["Statement"][2]}
    assert import_s3_access([document]).grants == [BucketGrant("alpha-ro-1", RO)]


def test_a_read_write_grant_on_a_bucket_covers_a_read_only_one():
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "readonly", "Effect": "Allow", "Action": OLD_READ, "Resource": "arn:aws:s3:::alpha-b1/*"},
            {
                "Sid": "readwrite",
                "Effect": "Allow",
                "Action": OLD_READ + OLD_WRITE,
                "Resource": "arn:aws:s3:::alpha-b1/*",
            },
        ],
    }
    assert import_s3_access([document]).grants == [BucketGrant("alpha-b1", RW)]


def statement(**fields) -> dict:
    return {"Effect": "Allow"} | fields


def test_what_is_not_understood_is_reported_not_guessed():
    document = {
        "Version": "2012-10-17",
        "Statement": [
            statement(
                Sid="readonly", Action=OLD_READ, Resource=["arn:aws:s3:::kept/*", "arn:aws:s3:::alpha-b/report.csv"]
            ),
            statement(Sid="readwrite", Action=OLD_READ + OLD_WRITE, Resource=["arn:aws:s3:::alpha-b/p*/x/*", "*"]),
            {"Sid": "DenyDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::kept/*"},
            statement(Sid="everything", Action="s3:*", Resource="*"),
            statement(Sid="getAll", Action="s3:Get*", Resource="arn:aws:s3:::alpha-c/*"),
            statement(
                Action=["s3:GetObject"], Resource="arn:aws:s3:::alpha-d/*", Condition={"Bool": {"aws:x": "true"}}
            ),
            statement(Sid="writeOnly", Action=["s3:PutObject"], Resource="arn:aws:s3:::alpha-e/*"),
            statement(Sid="halfWrite", Action=["s3:GetObject", "s3:PutObject"], Resource="arn:aws:s3:::alpha-f/*"),
            statement(Sid="athena", Action=["athena:StartQueryExecution"], Resource="*"),
            statement(Sid="notAction", NotAction="iam:*", Resource="*"),
            statement(Sid="list", Action="s3:ListBucket", Resource=["arn:aws:s3:::kept", "arn:aws:s3:::orphan"]),
            statement(Sid="listAll", Action="s3:ListBucket", Resource="arn:aws:s3:::*"),
            statement(
                Action="s3:ListBucket", Resource="arn:aws:s3:::gone", Condition={"StringLike": {"s3:prefix": "a/*"}}
            ),
        ],
    }
    imported = import_s3_access([document])
    assert imported.grants == [BucketGrant("kept", RO)]
    assert imported.skipped == [
        "The resource arn:aws:s3:::alpha-b/report.csv in the statement 'readonly' was not imported: "
        "it is neither a whole bucket (bucket/*) nor a folder (bucket/path/*).",
        "The resource arn:aws:s3:::alpha-b/p*/x/* in the statement 'readwrite' was not imported: "
        "the path /p*/x holds *: a path may not hold * ? $ { } [ ] ( ) ! < > \\, a control character or a "
        "text-direction override.",
        "The resource * in the statement 'readwrite' was not imported: "
        "it is neither a whole bucket (bucket/*) nor a folder (bucket/path/*).",
        "The statement 'DenyDelete' was not imported: it does not allow (Gatehouse policies only allow).",
        "The statement 'everything' was not imported: its actions (s3:*) hold a wildcard.",
        "The statement 'getAll' was not imported: its actions (s3:get*) hold a wildcard.",
        "The statement 6 (no Sid) was not imported: it grants object access only under a condition.",
        "The statement 'writeOnly' was not imported: "
        "it grants s3:putobject, which is not read or read/write access to objects.",
        "The statement 'halfWrite' was not imported: "
        "it grants s3:getobject, s3:putobject: some writes, but not both s3:PutObject and s3:DeleteObject.",
        "The statement 'athena' was not imported: "
        "it grants athena:startqueryexecution, which is not read or read/write access to objects.",
        "The statement 'notAction' was not imported: it is not a plain Action/Resource statement.",
        "The statement 'listAll' was not imported: it lists something other than named buckets.",
        "Bucket gone could be listed but none of its objects read: not imported, "
        "as Gatehouse grants no listing without read access.",
        "Bucket orphan could be listed but none of its objects read: not imported, "
        "as Gatehouse grants no listing without read access.",
    ]


def test_an_empty_policy_imports_nothing():
    assert import_s3_access([{"Version": "2012-10-17", "Statement": []}]).grants == []
    assert import_s3_access([]).grants == []


# --- round trip: Gatehouse's own documents read back into the same grants ------------------------------


def test_gatehouse_policies_read_back_into_the_grants_they_came_from():
    grants = [
        BucketGrant("alpha-x", RO),
        BucketGrant("alpha-x", RW, ("/p/q",)),
        BucketGrant("alpha-x-y", AccessLevel.ADMIN, ("/a b", "/c")),
        BucketGrant("beta.data", RW),
    ]
    imported = import_s3_access(compile_role_policies(grants).documents)
    assert imported.skipped == []
    assert imported.grants == [  # admin is read/write in AWS; the admin right lives only in Gatehouse
        BucketGrant("alpha-x", RO),
        BucketGrant("alpha-x", RW, ("/p/q",)),
        BucketGrant("alpha-x-y", RW, ("/a b", "/c")),
        BucketGrant("beta.data", RW),
    ]


def test_a_spilled_grant_set_reads_back_from_all_its_documents():
    grants = [BucketGrant(f"alpha-bench-source-{n:05d}", [RO, RW][n % 2], () if n % 3 else ("/r",)) for n in range(400)]
    policies = compile_role_policies(grants)
    assert policies.managed
    imported = import_s3_access(policies.documents)
    assert (imported.grants, imported.skipped) == (canonical_grants(grants), [])


paths = st.lists(st.sampled_from(["p", "q", "qq", "a b"]), min_size=1, max_size=3).map(lambda p: "/" + "/".join(p))
grant_lists = st.lists(
    st.builds(
        BucketGrant,
        st.sampled_from(["alpha-x", "alpha-x-y", "beta.data"]),
        st.sampled_from(list(AccessLevel)),
        st.one_of(st.just(()), st.lists(paths, min_size=1, max_size=3, unique=True).map(tuple)),
    ),
    max_size=7,
)


@settings(max_examples=100, deadline=None)
@given(grants=grant_lists, as_text=st.booleans())
def test_any_compiled_grant_set_round_trips(grants, as_text):
    documents = compile_role_policies(grants).documents
    imported = import_s3_access([json.dumps(d) for d in documents] if as_text else documents)
    assert (imported.grants, imported.skipped) == (canonical_grants(grants), [])
