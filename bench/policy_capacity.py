"""How many grants one user can hold before IAM's size quotas refuse more: Gatehouse against the existing platform.

Run from the repository root: `python bench/policy_capacity.py`. Bucket names are 24 characters, each path grant has
one 10-character path on its own bucket: the same path on every bucket (buckets that hold the same paths share their
listing statements), and a different path on every bucket (the costliest case: each bucket needs its own listing
statement).
Default quotas: the 10,240-character inline policy plus 10 managed policies of 6,144 characters.
The last line printed is JSON, for scripts.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.domain import AccessLevel
from core.policy import INLINE_LIMIT, BucketGrant, PolicyTooLarge, compile_role_policies, policy_size

PATH = "/reports-1"
assert len(PATH) == 10


def distinct_path(number: int) -> str:
    path = f"/rep-{number:05d}"
    assert len(path) == 10
    return path


def bucket(number: int) -> str:
    name = f"alpha-bench-source-{number:05d}"
    assert len(name) == 24
    return name


def largest(fits: Callable[[int], bool]) -> int:
    """The largest n for which fits(n): doubling, then bisection, then the next 20 sizes in case packing is not
    perfectly monotonic."""
    low, high = 0, 1
    while fits(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    while bigger := [n for n in range(low + 1, low + 21) if fits(n)]:
        low = bigger[-1]
    return low


def gatehouse_fits(make: Callable[[int], list[BucketGrant]]) -> Callable[[int], bool]:
    def fits(n: int) -> bool:
        try:
            compile_role_policies(make(n))
        except PolicyTooLarge:
            return False
        return True

    return fits


def alternate(n: int) -> AccessLevel:
    return AccessLevel.READ_WRITE if n % 2 else AccessLevel.READ_ONLY


# The existing platform (Analytical Platform control panel, controlpanel/api/aws.py): one inline `s3-access` policy;
# every bucket in a `list` statement and its objects in a `readonly` or `readwrite` statement.
_OLD_READ = [
    "s3:GetObject",
    "s3:GetObjectTagging",
    "s3:GetObjectAcl",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionTagging",
]
_OLD_WRITE = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject", "s3:PutObjectAcl", "s3:RestoreObject"]
_OLD_LIST = [
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


def existing_scheme(levels: list[AccessLevel]) -> dict:
    buckets = [bucket(n) for n in range(len(levels))]
    account = ["s3:ListAllMyBuckets", "s3:ListAccessPoints", "s3:GetAccountPublicAccessBlock"]
    statements = [{"Sid": "ListUserBuckets", "Action": account, "Effect": "Allow", "Resource": "*"}]
    statements.append({"Sid": "list", "Action": _OLD_LIST, "Effect": "Allow", "Resource": []})
    for sid, actions, can_write in (("readonly", _OLD_READ, False), ("readwrite", _OLD_READ + _OLD_WRITE, True)):
        statements.append({"Sid": sid, "Action": actions, "Effect": "Allow", "Resource": []})
        for name, level in zip(buckets, levels, strict=True):
            if level.can_write is can_write:
                statements[-1]["Resource"].append(f"arn:aws:s3:::{name}/*")
    statements[1]["Resource"] = [f"arn:aws:s3:::{name}" for name in buckets]
    return {"Version": "2012-10-17", "Statement": [s for s in statements if s["Resource"]]}


def existing_fits(level: Callable[[int], AccessLevel]) -> Callable[[int], bool]:
    return lambda n: policy_size(existing_scheme([level(i) for i in range(n)])) <= INLINE_LIMIT


def main() -> None:
    started = time.perf_counter()
    whole_rw = largest(gatehouse_fits(lambda n: [BucketGrant(bucket(i), AccessLevel.READ_WRITE) for i in range(n)]))
    whole_alt = largest(gatehouse_fits(lambda n: [BucketGrant(bucket(i), alternate(i)) for i in range(n)]))
    path_rw = largest(
        gatehouse_fits(lambda n: [BucketGrant(bucket(i), AccessLevel.READ_WRITE, (PATH,)) for i in range(n)])
    )
    path_alt = largest(gatehouse_fits(lambda n: [BucketGrant(bucket(i), alternate(i), (PATH,)) for i in range(n)]))
    own_path = largest(
        gatehouse_fits(lambda n: [BucketGrant(bucket(i), alternate(i), (distinct_path(i),)) for i in range(n)])
    )
    old_rw = largest(existing_fits(lambda i: AccessLevel.READ_WRITE))
    old_alt = largest(existing_fits(alternate))

    rows = [
        ("Gatehouse, whole buckets, all read/write", whole_rw),
        ("Gatehouse, whole buckets, read-only and read/write alternating", whole_alt),
        ("Gatehouse, one path per bucket, all read/write", path_rw),
        ("Gatehouse, one path per bucket, read-only and read/write alternating", path_alt),
        ("Gatehouse, a different path on each bucket, alternating", own_path),
        ("Existing platform (one inline policy), whole buckets, all read/write", old_rw),
        ("Existing platform (one inline policy), whole buckets, alternating", old_alt),
    ]
    print("Grants that fit one user's role: 24-character bucket names, 10-character paths,")
    print("inline 10,240 characters + 10 managed policies of 6,144 characters (minified, as IAM counts).")
    print()
    width = max(len(label) for label, _ in rows)
    print(f"{'Scenario':<{width}}  Grants")
    print(f"{'-' * width}  ------")
    for label, count in rows:
        print(f"{label:<{width}}  {count:>6}")
    print()
    print(f"Searched in {time.perf_counter() - started:.1f} s. Figures below are the lower of the two level mixes.")
    # path_grants: the same path on distinct buckets; distinct_path_grants: a different path on each (costliest).
    print(
        json.dumps(
            {
                "whole_bucket_grants": min(whole_rw, whole_alt),
                "path_grants": min(path_rw, path_alt),
                "distinct_path_grants": own_path,
                "existing_scheme_whole_bucket_grants": min(old_rw, old_alt),
            }
        )
    )


if __name__ == "__main__":
    main()
