"""One lifecycle decides what destroy means; every layer follows it (`lib/core/context.py`)."""

from __future__ import annotations

import pytest

from lib.core.context import Lifecycle
from tests.conftest import Synthesized, resources


@pytest.mark.parametrize(
    ("destroyable", "key_days", "secret_days", "force_destroy", "protection"),
    [(True, 7, 0, True, False), (False, 30, 30, False, True)],
)
def test_each_consequence_of_the_mode(
    destroyable: bool, key_days: int, secret_days: int, force_destroy: bool, protection: bool
) -> None:
    lifecycle = Lifecycle.of(destroyable=destroyable)
    assert (lifecycle.key_deletion_days, lifecycle.secret_recovery_days) == (key_days, secret_days)
    assert (lifecycle.force_destroy, lifecycle.deletion_protection) == (force_destroy, protection)
    assert lifecycle.skip_final_snapshot is destroyable and lifecycle.apply_immediately is destroyable


@pytest.mark.parametrize(("protected", "days"), [("false", 0), ("true", 30)])
def test_secrets_are_deleted_at_once_only_when_destroyable(synthesized: Synthesized, protected: str, days: int) -> None:
    """0 days lets a destroyed environment be re-created with the same suffix straight away."""
    secrets = resources(synthesized("full", TAP_PROTECTED=protected), "aws_secretsmanager_secret").values()
    assert secrets and {secret["recovery_window_in_days"] for secret in secrets} == {days}


@pytest.mark.parametrize(("protected", "expected"), [("false", True), ("true", False)])
def test_every_stateful_layer_follows_the_mode(synthesized: Synthesized, protected: str, expected: bool) -> None:
    doc = synthesized("full", TAP_PROTECTED=protected)
    (cluster,) = resources(doc, "aws_rds_cluster").values()
    assert cluster["deletion_protection"] is not expected and cluster["skip_final_snapshot"] is expected
    assert cluster["apply_immediately"] is expected
    assert {i["apply_immediately"] for i in resources(doc, "aws_rds_cluster_instance").values()} == {expected}
    assert {t["deletion_protection_enabled"] for t in resources(doc, "aws_dynamodb_table").values()} == {not expected}
    assert {b["force_destroy"] for b in resources(doc, "aws_s3_bucket").values()} == {expected}
    (cache,) = resources(doc, "aws_elasticache_replication_group").values()
    assert cache["apply_immediately"] is expected
    assert ("final_snapshot_identifier" in cache) is not expected
    assert {k["deletion_window_in_days"] for k in resources(doc, "aws_kms_key").values()} == {7 if expected else 30}
