"""The IAM policy compiler: grants in, policy documents out. Pure, so every rule is proven by unit tests.

The shape follows the design's IAM.md. Whole-bucket grants share statements that list many ARNs. A bucket reached
only through paths is listed only under its paths (`s3:prefix`), never above them: listing a parent folder, even one
level at a time with the `/` delimiter, shows the objects there with their names and sizes, and S3 has no condition
that returns folder names only. So the console and `aws s3 ls` start at the path (`s3://bucket/p/q/`), where
Gatehouse's links open them. A conditional statement names several buckets only when they hold exactly the same
paths: its condition then means the same for each. Nobody is given `s3:DeleteObjectVersion`:
a delete leaves a delete marker, and history is Gatehouse's to restore. Everything is sorted, so an unchanged grant
set compiles to byte-identical documents and the caller can skip writes that change nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.domain import AccessLevel, GatehouseError, path_covers, plural
from core.paths import Paths

INLINE_POLICY_NAME = "s3-access"
INLINE_LIMIT = 10_240  # all inline policies of one role together
MANAGED_LIMIT = 6_144  # one customer-managed policy
POLICY_VERSION = "2012-10-17"

READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging")
WRITE_ACTIONS = (
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:RestoreObject",
)
# Of the list actions, only ListBucket and ListBucketVersions carry the s3:prefix condition key (AWS Service
# Authorization Reference), so only they can be limited to a user's paths. ListBucketMultipartUploads has no s3:prefix
# key: a condition on it would never match, and without one it shows the keys of every upload in progress in the
# bucket, so only whole-bucket grants get it.
# GetBucketLocation is granted on every bucket ("arn:aws:s3:::*", which parliament prefers to "*") beside
# ListAllMyBuckets, as in AWS's example policy for console access to a folder; SDKs and the console call it. It reveals
# only a bucket's region, which S3 discloses to anyone who asks (the x-amz-bucket-region header), of buckets whose
# names ListAllMyBuckets shows already. Granted per bucket ARN instead, it would cost 41 characters for each bucket
# reached only through paths: 258 path grants would fit one role instead of 303 (bench/policy_capacity.py).
PREFIX_LIST_ACTIONS = ("s3:ListBucket", "s3:ListBucketVersions")
WHOLE_BUCKET_LIST_ACTIONS = (*PREFIX_LIST_ACTIONS, "s3:ListBucketMultipartUploads")
# What the S3 console reads to draw a bucket's page: without them it shows "Insufficient permissions" banners.
CONSOLE_BUCKET_ACTIONS = ("s3:GetBucketPolicyStatus", "s3:GetBucketPublicAccessBlock", "s3:GetBucketAcl")
CONSOLE_ACCOUNT_ACTIONS = ("s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints")
ACCOUNT_STATEMENTS = (
    {"Sid": "Account", "Effect": "Allow", "Action": ["s3:ListAllMyBuckets", *CONSOLE_ACCOUNT_ACTIONS], "Resource": "*"},
    {"Sid": "BucketLocation", "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": "arn:aws:s3:::*"},
)

# A bucket encrypted with a customer KMS key: reading needs the key to decrypt, writing to make data keys; only
# through S3 in the key's region (kms:ViaService), never the key directly.
KMS_READ_ACTION = "kms:Decrypt"
KMS_WRITE_ACTION = "kms:GenerateDataKey"

# Shared statements: Sid -> actions. Each lists many resource ARNs and may be split across documents.
LIST_SID = "ListBuckets"  # whole buckets, on the bucket ARNs
PAGES_SID = "BucketPages"  # buckets reached only through paths: what the console reads of the bucket itself
READ_ONLY_SID = "ReadOnly"
READ_WRITE_SID = "ReadWrite"
SHARED_ACTIONS: dict[str, tuple[str, ...]] = {
    LIST_SID: WHOLE_BUCKET_LIST_ACTIONS + CONSOLE_BUCKET_ACTIONS,
    PAGES_SID: CONSOLE_BUCKET_ACTIONS,
    READ_ONLY_SID: READ_ACTIONS,
    READ_WRITE_SID: READ_ACTIONS + WRITE_ACTIONS,
}


class PolicyTooLarge(GatehouseError):
    """The grants cannot be written within the IAM size quotas of one role; nothing was changed."""


@dataclass(frozen=True)
class BucketGrant:
    """What one principal may do on one bucket: the policy compiler's input.

    `paths` are validated paths with a leading `/` and no trailing `/`; empty means the whole bucket.
    """

    bucket: str
    level: AccessLevel
    paths: Paths = Paths.WHOLE
    kms_key: str | None = None  # the ARN of the customer KMS key the bucket is encrypted with, if any


@dataclass(frozen=True)
class RolePolicies:
    """The documents for one role: `managed[i]` is Gatehouse-owned managed policy number i+1; `attached`, the names of
    its teams' policies attached to it (core/team_policies.py), `folded` the ids of the teams whose statements are in
    its own documents instead (no attachment was left)."""

    inline: dict
    managed: tuple[dict, ...] = ()
    attached: tuple[str, ...] = ()
    folded: tuple[int, ...] = ()

    @property
    def documents(self) -> tuple[dict, ...]:
        return (self.inline, *self.managed)


def minify(document: dict) -> str:
    """Compact JSON in ASCII: IAM takes only characters up to U+00FF, so others in a path travel as \\u escapes."""
    return json.dumps(document, separators=(",", ":"))


def policy_size(document: dict) -> int:
    """Characters as IAM counts them against its quotas: whitespace between JSON tokens does not count.

    Minified JSON has none; a space or a \\u escape inside a path counts in full, which errs on the safe side.
    """
    return len(minify(document))


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, prefix: str) -> str:
    """The objects of a whole bucket (prefix '') or of everything under a path (prefix 'p/q')."""
    return f"arn:aws:s3:::{bucket}/{prefix}/*" if prefix else f"arn:aws:s3:::{bucket}/*"


def canonical_grants(grants: Iterable[BucketGrant]) -> list[BucketGrant]:
    """The smallest sorted grant list with the same effect in AWS.

    Admin is read/write in AWS; a path inside a path or bucket already granted at the same or a higher level is
    dropped. The result has at most one read/write and one read-only grant per bucket.
    """
    write: dict[str, set[str]] = defaultdict(set)
    read: dict[str, set[str]] = defaultdict(set)
    for grant in grants:
        scopes = {path.lstrip("/") for path in grant.paths} or {""}
        (write if grant.level.can_write else read)[grant.bucket] |= scopes
    result = []
    for bucket in sorted(write.keys() | read.keys()):
        kept_write = _minimal(write[bucket])
        kept_read = _minimal({s for s in read[bucket] if not any(path_covers(w, s) for w in kept_write)})
        for level, scopes in ((AccessLevel.READ_ONLY, kept_read), (AccessLevel.READ_WRITE, kept_write)):
            if scopes:
                paths = Paths.WHOLE if scopes == [""] else Paths(f"/{s}" for s in scopes)
                result.append(BucketGrant(bucket, level, paths))
    return result


def compile_role_policies(
    grants: Iterable[BucketGrant],
    *,
    managed_slots: int = 10,
    inline_limit: int = INLINE_LIMIT,
    account: bool = True,
    too_large: str | None = None,
) -> RolePolicies:
    """The inline document (within `inline_limit` characters: the role's inline quota less what other inline
    policies on it use) and as few managed documents (at most `managed_slots`) as hold these grants. Without
    `account`, no account-wide statement (a team's policies: every role has them in its own inline document).

    Raises PolicyTooLarge (`too_large`, or a sentence about a role's room), before anything is written, when they
    cannot fit.
    """
    grants = list(grants)
    shared: dict[str, set[str]] = defaultdict(set)
    path_prefixes: dict[str, set[str]] = defaultdict(set)
    whole_buckets: set[str] = set()
    for grant in canonical_grants(grants):
        prefixes = [path.lstrip("/") for path in grant.paths]
        sid = READ_WRITE_SID if grant.level.can_write else READ_ONLY_SID
        shared[sid].update(object_arn(grant.bucket, prefix) for prefix in prefixes or [""])
        # The path's own key, to read: tools (pyarrow, polars) look a folder up as an object before listing under
        # it, and stop at a refusal where S3's "no such key" would send them on.
        shared[READ_ONLY_SID].update(f"arn:aws:s3:::{grant.bucket}/{prefix}" for prefix in prefixes)
        if prefixes:
            path_prefixes[grant.bucket].update(prefixes)
        else:
            whole_buckets.add(grant.bucket)
    shared[LIST_SID] = {bucket_arn(b) for b in whole_buckets}
    path_only = sorted(path_prefixes.keys() - whole_buckets)
    shared[PAGES_SID] = {bucket_arn(b) for b in path_only}

    # Larger, indivisible statements first; the small ARNs then fill the gaps they leave.
    units: list[dict | tuple[str, str]] = list(ACCOUNT_STATEMENTS) if account else []
    listed: dict[tuple[str, ...], list[str]] = defaultdict(list)  # the buckets that hold exactly these paths
    for bucket in path_only:
        listed[tuple(_minimal(path_prefixes[bucket]))].append(bucket)
    for prefixes, buckets in sorted(listed.items()):
        units += _listing_statements(buckets, [f"{prefix}/*" for prefix in prefixes])
    units += _kms_statements(grants)
    for sid in SHARED_ACTIONS:
        units += [(sid, arn) for arn in sorted(shared[sid])]

    docs = [_Document(inline_limit)]
    for unit in units:
        target = next((doc for doc in docs if doc.fits(unit)), None)
        if target is None and len(docs) <= managed_slots:
            target = _Document(MANAGED_LIMIT)
            docs.append(target)
        if target is None or not target.fits(unit):
            raise PolicyTooLarge(too_large or _too_large_message(managed_slots, inline_limit))
        target.add(unit)
    inline, *managed = (doc.render() for doc in docs)
    return RolePolicies(inline=inline, managed=tuple(managed))


def _kms_statements(grants: list[BucketGrant]) -> list[dict]:
    """Decrypt with the key of every granted bucket that has one; make data keys with those of written buckets."""
    read = {g.kms_key for g in grants if g.kms_key}
    write = {g.kms_key for g in grants if g.kms_key and g.level.can_write}
    statements = []
    for sid, action, keys in (("KmsRead", KMS_READ_ACTION, read), ("KmsWrite", KMS_WRITE_ACTION, write)):
        if keys:
            services = sorted({f"s3.{key.split(':')[3]}.amazonaws.com" for key in keys})
            statements.append(
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Action": action,
                    "Resource": sorted(keys),
                    "Condition": {"StringEquals": {"kms:ViaService": services[0] if len(services) == 1 else services}},
                }
            )
    return statements


def _too_large_message(managed_slots: int, inline_limit: int = INLINE_LIMIT) -> str:
    inline = f"the {INLINE_LIMIT:,}-character inline policy"
    if inline_limit < INLINE_LIMIT:
        inline = (
            f"the {plural(inline_limit, 'character')} of the {INLINE_LIMIT:,}-character inline quota that the role's "
            "other inline policies leave"
        )
    if managed_slots > 0:
        managed = f"the {plural(managed_slots, 'managed policy', 'managed policies')} of {MANAGED_LIMIT:,} characters"
        room = f"{inline} and {managed} that IAM leaves this role"
    else:
        room = f"{inline}, the only room IAM leaves this role"
    return f"These grants do not fit in {room}: remove some, or grant whole buckets instead of many separate paths."


def _minimal(scopes: set[str]) -> list[str]:
    return sorted(s for s in scopes if not any(o != s and path_covers(o, s) for o in scopes))


def _listing_statement(buckets: list[str], values: list[str]) -> dict:
    """Listing of these buckets under these `s3:prefix` patterns only.

    `p/q/*` matches the prefixes `p/q/` and `p/q/sub/...` (StringLike `*` also matches nothing). The bare `p/q` is
    deliberately not allowed: S3 prefixes are plain string prefixes, so listing `p/q` would reveal `p/qq/...` keys.
    """
    arns = [bucket_arn(b) for b in buckets]
    return {
        "Effect": "Allow",
        "Action": list(PREFIX_LIST_ACTIONS),
        "Resource": arns[0] if len(arns) == 1 else arns,
        "Condition": {"StringLike": {"s3:prefix": values[0] if len(values) == 1 else values}},
    }


def _listing_statements(buckets: list[str], values: list[str]) -> list[dict]:
    """The statements for buckets that share these condition values: split by values, then by buckets, only where
    one statement would outgrow a document."""
    chunks: list[list[str]] = [[]]
    for value in values:
        if chunks[-1] and policy_size(_listing_statement(buckets[:1], [*chunks[-1], value])) > _MAX_STATEMENT:
            chunks.append([])
        chunks[-1].append(value)
    statements = []
    for chunk in chunks:
        group: list[str] = []
        for bucket in buckets:
            if group and policy_size(_listing_statement([*group, bucket], chunk)) > _MAX_STATEMENT:
                statements.append(_listing_statement(group, chunk))
                group = []
            group.append(bucket)
        statements.append(_listing_statement(group, chunk))
    return statements


_EMPTY_DOCUMENT_SIZE = policy_size({"Version": POLICY_VERSION, "Statement": []})
_MAX_STATEMENT = MANAGED_LIMIT - _EMPTY_DOCUMENT_SIZE


@dataclass
class _Document:
    """One policy document being filled, its size kept exactly in step with what render() will produce."""

    limit: int
    size: int = _EMPTY_DOCUMENT_SIZE
    statements: list[dict] = field(default_factory=list)
    shared: dict[str, list[str]] = field(default_factory=dict)

    def cost(self, unit: dict | tuple[str, str]) -> int:
        separator = 1 if self.statements or self.shared else 0
        if isinstance(unit, dict):
            return separator + policy_size(unit)
        sid, arn = unit
        if sid in self.shared:
            return 1 + len(json.dumps(arn))
        return separator + policy_size(_shared_statement(sid, [arn]))

    def fits(self, unit: dict | tuple[str, str]) -> bool:
        return self.size + self.cost(unit) <= self.limit

    def add(self, unit: dict | tuple[str, str]) -> None:
        self.size += self.cost(unit)
        if isinstance(unit, dict):
            self.statements.append(unit)
        else:
            self.shared.setdefault(unit[0], []).append(unit[1])

    def render(self) -> dict:
        account = [dict(s) for s in ACCOUNT_STATEMENTS if s in self.statements]
        conditional = sorted((s for s in self.statements if s not in ACCOUNT_STATEMENTS), key=minify)
        shared = [_shared_statement(sid, sorted(self.shared[sid])) for sid in SHARED_ACTIONS if sid in self.shared]
        return {"Version": POLICY_VERSION, "Statement": [*account, *shared, *conditional]}


def _shared_statement(sid: str, resources: list[str]) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": list(SHARED_ACTIONS[sid]), "Resource": resources}
