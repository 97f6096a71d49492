"""What the pages say of AWS: Platform → AWS sync states drift as drift (no green "applied" banner while IAM
differs; each drifted role says which buckets and actions differ; Repair asks first, naming what it will change,
then says, role by role, what it put back or took away), and Admin → Who has access shows a leaver's grant as
revoked, never as applied."""

from __future__ import annotations

import json

from core import actions
from core.context import Gatehouse
from core.domain import moment
from core.queries import get_user
from pages.ui.markup import literal
from tests.app.test_journeys import go, messages, widget
from tests.app.test_sign_in import app_env, sign_in  # noqa: F401  (fixture)


def _edit(gatehouse: Gatehouse, role: str, change) -> None:  # type: ignore[no-untyped-def]
    """Someone edits a role's s3-access policy in IAM, outside Gatehouse."""
    iam = gatehouse.aws.iam
    document = iam.get_role_policy(RoleName=role, PolicyName="s3-access")["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    change(document["Statement"])
    iam.put_role_policy(RoleName=role, PolicyName="s3-access", PolicyDocument=json.dumps(document))


def test_drift_is_shown_statement_by_statement_and_repair_says_what_it_changed(app_env: Gatehouse) -> None:  # noqa: F811
    _edit(
        app_env,
        "alpha_user_alice",
        lambda statements: statements.append(
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::alpha-secret-x/*"}
        ),
    )
    _edit(
        app_env,
        "alpha_user_bob",
        lambda statements: statements.remove(next(s for s in statements if s.get("Sid") == "ListBuckets")),
    )
    with app_env.session() as session:
        dave = get_user(session, "dave")
    at = go(sign_in("dave"), "pages/platform.py", "AWS sync")
    assert not at.success  # nothing waits, but nobody has compared IAM yet: nothing is said to be in line
    widget(at, "button", "Check for drift").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.success and "Drifted: 2 roles, where IAM differs from Gatehouse." in messages(at)
    rows = dict(zip(*(at.dataframe[-1].value[c] for c in ("Role", "Difference")), strict=True))
    assert rows["alpha_user_alice"] == "IAM has read (GetObject) on alpha-secret-x/* that Gatehouse did not grant"
    bob = rows["alpha_user_bob"]
    listing = "list (ListBucket, ListBucketMultipartUploads, ListBucketVersions)"
    assert bob.startswith(f"Gatehouse grants {listing} and read bucket settings (GetBucketAcl")
    assert "alpha-pricing-models" in bob and "alpha-sales-analysis" in bob and bob.endswith("that IAM lacks")

    widget(at, "button", "Repair drift…").click()  # asks first: a repair undoes what was changed in IAM by hand
    at.run()
    asked = "\n".join([m.value for m in at.markdown] + [t.value for t in at.text])
    assert "Put 2 roles back to what Gatehouse grants?" in asked
    assert "alpha_user_alice: took away read (GetObject) on alpha-secret-x/*." in asked
    assert "Changes made in IAM by hand are undone." in asked
    assert actions.find_drift(app_env, dave) != []  # nothing repaired yet
    widget(at, "button", "Repair drift").click()
    at.run()
    assert not at.exception, at.exception
    (said,) = [m for m in messages(at) if m.startswith(literal("Repaired"))]  # one message says what changed
    assert literal("Repaired alpha_user_alice: took away read (GetObject) on alpha-secret-x/*.") in said  # as text
    assert literal("Repaired alpha_user_bob: put back list (ListBucket") in said, said
    assert "No drift: AWS matches the database." in messages(at)
    assert actions.find_drift(app_env, dave) == []


def test_who_has_access_shows_a_leavers_grant_as_revoked_not_applied(app_env: Gatehouse) -> None:  # noqa: F811
    with app_env.session() as session:
        dave = get_user(session, "dave")
    actions.mark_left(app_env, dave, "alice")
    with app_env.session() as session:
        left_at = get_user(session, "alice").left_at
    assert left_at is not None
    bob = go(sign_in("bob"), "pages/admin.py", "Who has access")
    widget(bob, "selectbox", "Data source").select("alpha-sales-analysis")
    bob.run()
    table = "\n".join(m.value for m in bob.markdown if m.value.startswith("| User |"))
    alice = next(line for line in table.splitlines() if line.startswith("| alice"))
    assert alice.startswith("| alice (left) | Read only |")
    assert f"Revoked on {moment(left_at)}: marked as having left by dave" in alice
    assert "Applied in AWS" not in alice and "Applied in AWS" in table  # the others' grants are live
