"""Resources holding data keep their Terraform addresses (`compliance/stateful-addresses.json`).

A changed address means the next apply destroys the resource and creates an empty one. When a
rename is meant, add a `moved` block and run `make pin` (see the README).
"""

from __future__ import annotations

import copy

import pytest

from tests.conftest import PROFILE_NAMES, Synthesized, address_name
from tools.stateful import BASELINE, ENVIRONMENT, STATEFUL_TYPES, drift, load, stateful_addresses


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_stateful_addresses_are_the_pinned_ones(synthesized: Synthesized, profile: str) -> None:
    pinned = load()
    for stack, document in ((ENVIRONMENT, synthesized(profile)), (BASELINE, synthesized.baseline(profile))):
        found = drift(pinned, profile, stack, stateful_addresses(document))
        assert found is None, f"{found}\n(a rename needs a moved block; then run `make pin`)"


def test_every_profile_is_pinned_for_both_stacks() -> None:
    pinned = load()
    assert set(pinned) == set(PROFILE_NAMES)
    assert all(set(stacks) == {ENVIRONMENT, BASELINE} and stacks[ENVIRONMENT] for stacks in pinned.values())


def test_a_renamed_database_cluster_is_caught(synthesized: Synthesized) -> None:
    """The check can fail: a cluster whose construct was renamed would be destroyed and re-created."""
    document = copy.deepcopy(synthesized("full"))
    clusters = document["resource"]["aws_rds_cluster"]
    old = address_name(document, "aws_rds_cluster", "data_database_cluster")
    clusters["data_aurora_cluster_0F0E0D0C"] = clusters.pop(old)
    found = drift(load(), "full", ENVIRONMENT, stateful_addresses(document))
    assert found is not None
    assert found.missing == [f"aws_rds_cluster.{old}"]
    assert found.unpinned == ["aws_rds_cluster.data_aurora_cluster_0F0E0D0C"]
    assert "GONE (apply would destroy it; add a moved block)" in str(found)


def test_what_counts_as_stateful() -> None:
    assert {"aws_kms_key", "aws_s3_bucket", "aws_rds_cluster", "aws_dynamodb_table"} <= STATEFUL_TYPES
    assert {"aws_efs_file_system", "aws_elasticache_replication_group", "aws_secretsmanager_secret"} <= STATEFUL_TYPES
    assert {"aws_cloudwatch_log_group", "aws_rds_cluster_instance"} <= STATEFUL_TYPES
