"""What a user can really do once Gatehouse has written their role: moto enforces IAM on the assumed role's
requests (objects, buckets); listing conditions, which moto does not evaluate, are proven with the evaluator on the
policies as they stand in IAM."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import actions
from core.actions.add_user import add_user
from core.actions.mark_left import mark_left
from core.actor import platform_operator
from core.adapters.models import User
from core.context import Gatehouse
from core.domain import AccessLevel, user_role_name
from core.reads import catalog
from tests.aws_helpers import as_user
from tests.iam_eval import is_allowed


def platform_actor() -> User:
    return platform_operator("test")


def live_documents(gatehouse: Gatehouse, username: str) -> list[dict]:
    live = gatehouse.aws.read_role_policies(user_role_name(gatehouse.settings.env, username))
    assert live.inline is not None
    return [live.inline, *live.managed.values()]


def can_list(documents: list[dict], bucket: str, prefix: str) -> bool:
    return is_allowed(documents, "s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": prefix})


def test_alice_reads_only_inside_her_path_and_writes_only_where_granted(gatehouse: Gatehouse) -> None:
    with as_user(gatehouse, "alice") as alice:
        assert alice.can("get", "alpha-sales-analysis", "published/sales_2025.csv")
        assert not alice.can("get", "alpha-sales-analysis", "drafts/forecast_2026.csv")
        assert not alice.can("put", "alpha-sales-analysis", "published/new.csv")
        assert not alice.can("get", "alpha-pricing-models", "reports/prices_q3.csv")
        assert not alice.can("get", "alpha-de-raw-intake", "incoming/raw_feed.csv")
        assert alice.can("put", "alpha-shared-workspace", "notes/alice.csv")
        assert alice.can("get", "alpha-shared-workspace", "notes/alice.csv")
        assert alice.can("delete", "alpha-shared-workspace", "notes/alice.csv")
        assert alice.can("list", "alpha-shared-workspace")
        assert not alice.can("list", "alpha-pricing-models")
    documents = live_documents(gatehouse, "alice")
    assert can_list(documents, "alpha-sales-analysis", "published/")
    assert not can_list(documents, "alpha-sales-analysis", "")
    assert not can_list(documents, "alpha-sales-analysis", "drafts/")
    assert can_list(documents, "alpha-shared-workspace", "")


def test_a_grant_approved_then_revoked_changes_what_the_role_can_do(gatehouse: Gatehouse) -> None:
    actor = platform_actor()
    with as_user(gatehouse, "alice") as alice:
        assert not alice.can("get", "alpha-pricing-models", "reports/prices_q3.csv")
    actions.grant_access(gatehouse, actor, "alpha-pricing-models", ["alice"], AccessLevel.READ_ONLY, "/reports")
    with as_user(gatehouse, "alice") as alice:
        assert alice.can("get", "alpha-pricing-models", "reports/prices_q3.csv")
        assert not alice.can("get", "alpha-pricing-models", "models/elasticity.parquet")
    actions.revoke_access(gatehouse, actor, "alpha-pricing-models", "alice")
    with as_user(gatehouse, "alice") as alice:
        assert not alice.can("get", "alpha-pricing-models", "reports/prices_q3.csv")
        assert alice.can("get", "alpha-sales-analysis", "published/sales_2025.csv")  # the rest is untouched


def test_revoking_a_bucket_never_touches_its_longer_named_neighbour(bare_gatehouse: Gatehouse) -> None:
    gatehouse, actor = bare_gatehouse, platform_actor()
    add_user(gatehouse, actor, "ana", "ana@example.org")
    add_user(gatehouse, actor, "owner", "owner@example.org")
    for name in ("alpha-test-bucket", "alpha-test-bucket-another"):
        actions.create_source(gatehouse, actor, name, admin="owner")
        gatehouse.aws.put_object(name, "data.csv", b"1")
        actions.grant_access(gatehouse, actor, name, ["ana"], AccessLevel.READ_WRITE)
    actions.revoke_access(gatehouse, actor, "alpha-test-bucket", "ana")
    with as_user(gatehouse, "ana") as ana:
        assert not ana.can("get", "alpha-test-bucket", "data.csv")
        assert ana.can("get", "alpha-test-bucket-another", "data.csv")
        assert ana.can("put", "alpha-test-bucket-another", "new.csv")


def test_a_user_who_leaves_loses_everything_in_iam(gatehouse: Gatehouse) -> None:
    departure = mark_left(gatehouse, platform_actor(), "alice")
    assert departure.sync_error is None
    with as_user(gatehouse, "alice") as alice:
        assert not alice.can("get", "alpha-sales-analysis", "published/sales_2025.csv")
        assert not alice.can("get", "alpha-shared-workspace", "notes/regions.csv")


BUCKETS = ("alpha-p", "alpha-p-q", "alpha-r")
FOLDERS = ("a", "a/b", "ab", "c")
KEYS = ("a/x.csv", "a/b/y.csv", "ab/z.csv", "c/w.csv", "top.csv")


Holding = list[tuple[AccessLevel, tuple[str, ...]]]  # a person's grants on one bucket: levels on separate paths


def model_allows(granted: dict[str, Holding], operation: str, bucket: str, key: str) -> bool:
    return any(
        (not paths or any(key.startswith(path.lstrip("/") + "/") for path in paths))
        and (operation == "get" or level.can_write)
        for level, paths in granted.get(bucket, [])
    )


def _holding(whole: AccessLevel | None, folders: list[str], levels: list[AccessLevel]) -> Holding:
    """The whole bucket at one level, or separate folders each at its own level (grouped a grant a level)."""
    if whole is not None:
        return [(whole, ())]
    separate = [
        f for f in folders if not any(f.startswith(o + "/") or o.startswith(f + "/") for o in folders if o != f)
    ]
    by_level: dict[AccessLevel, tuple[str, ...]] = {}
    for folder, level in zip(separate, levels, strict=False):
        by_level[level] = (*by_level.get(level, ()), f"/{folder}")
    return list(by_level.items())


grant_sets = st.dictionaries(
    st.sampled_from(BUCKETS),
    st.builds(
        _holding,
        st.none() | st.sampled_from(list(AccessLevel)),
        st.lists(st.sampled_from(FOLDERS), min_size=1, max_size=3, unique=True),
        st.lists(st.sampled_from([AccessLevel.READ_ONLY, AccessLevel.READ_WRITE]), min_size=3, max_size=3),
    ),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wanted=grant_sets)
def test_random_grants_allow_exactly_what_the_model_says(bare_gatehouse: Gatehouse, wanted: dict) -> None:
    """Random grant sets, several levels on separate paths of one bucket among them, made through the use cases
    and enforced by moto: each object can be read or written exactly as the grants say."""
    gatehouse, actor = bare_gatehouse, platform_actor()
    if not gatehouse.aws.bucket_exists(BUCKETS[0]):
        add_user(gatehouse, actor, "ana", "ana@example.org")
        add_user(gatehouse, actor, "owner", "owner@example.org")
        for bucket in BUCKETS:
            actions.create_source(gatehouse, actor, bucket, admin="owner")
            for key in KEYS:
                gatehouse.aws.put_object(bucket, key, b"1")
    # Make ana's grants exactly `wanted`: revokes and new grants all go through the use cases.
    for bucket in {row.source for row in gatehouse.run(catalog.list_access, actor, username="ana")}:
        actions.revoke_access(gatehouse, actor, bucket, "ana")
    for bucket, holding in wanted.items():
        for level, paths in holding:
            actions.grant_access(gatehouse, actor, bucket, ["ana"], level, "\n".join(paths))  # as typed
    listed = gatehouse.run(catalog.list_access, actor, username="ana")
    assert sorted((r.source, r.level.value, r.paths) for r in listed) == sorted(
        (bucket, level.value, paths) for bucket, holding in wanted.items() for level, paths in holding
    )

    with as_user(gatehouse, "ana") as ana:
        for bucket in BUCKETS:
            for key in KEYS:
                for operation in ("get", "put"):
                    expected = model_allows(wanted, operation, bucket, key)
                    assert ana.can(operation, bucket, key) == expected, (operation, bucket, key, wanted)
    documents = live_documents(gatehouse, "ana")
    for bucket in BUCKETS:
        for folder in ("", "a/", "a/b/", "ab/", "c/", "a"):
            expected = any(
                not paths or any(folder.startswith(p.lstrip("/") + "/") for p in paths)
                for _, paths in wanted.get(bucket, [])
            )
            assert can_list(documents, bucket, folder) == expected, (bucket, folder, wanted)
