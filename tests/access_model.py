"""What grants mean, straight from the design (IAM.md), with no policy in between: the model that the compiled
policies are held to, by the evaluator in tests/iam_eval.py and by a real S3 server (SeaweedFS)."""

from __future__ import annotations

from core.policy import BucketGrant

# Spelled out from IAM.md rather than imported from the module under test.
READ = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"]
WRITE = [
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:RestoreObject",
]
PREFIX_LIST = ["s3:ListBucket", "s3:ListBucketVersions"]
WHOLE_LIST = [*PREFIX_LIST, "s3:ListBucketMultipartUploads"]
CONSOLE = ["s3:GetBucketPolicyStatus", "s3:GetBucketPublicAccessBlock", "s3:GetBucketAcl"]  # a bucket's console page
ACCOUNT_WIDE = ["s3:ListAllMyBuckets", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints", "s3:GetBucketLocation"]
KNOWN_ACTIONS = {*READ, *WRITE, *WHOLE_LIST, *CONSOLE, *ACCOUNT_WIDE}


def model(
    grants: list[BucketGrant], action: str, bucket: str, key: str | None, prefix: str | None, delimiter: str | None
) -> bool:
    """Whether the grants allow the request. The delimiter changes nothing: a path holder lists only under their
    paths, since a listing above them, even one folder level at a time, shows the objects there (IAM.md)."""
    if action in ACCOUNT_WIDE:
        return True
    mine = [g for g in grants if g.bucket == bucket]

    def under(name: str, grant: BucketGrant) -> bool:
        return not grant.paths or any(name.startswith(path[1:] + "/") for path in grant.paths)

    if action in CONSOLE:
        return bool(mine)
    if action in PREFIX_LIST:
        return any(not g.paths for g in mine) or (prefix is not None and any(under(prefix, g) for g in mine))
    if action == "s3:ListBucketMultipartUploads":
        return any(not g.paths for g in mine)
    if action in READ:  # a path's own key too: tools look the folder up as an object first
        return any(under(key, g) or key in {path[1:] for path in g.paths} for g in mine)
    if action in WRITE:
        return any(g.level.can_write and under(key, g) for g in mine)
    return False
