"""Resources holding data keep their Terraform addresses (`compliance/stateful-addresses.json`).

A changed address means the next apply destroys the resource and creates an empty one. When a
rename is meant, add a `moved` block and run `make pin` (see the README).
"""

from __future__ import annotations

import copy

import pytest

from tests.conftest import PROFILE_NAMES, Synthesized, address_name
from tools.compliance import DOMAIN_CONFIG, WITH_DOMAIN
from tools.stateful import BASELINE, ENVIRONMENT, STATEFUL_TYPES, drift, load, moves, stateful_addresses

VARIANTS = [*PROFILE_NAMES, *(f"{name}+domain" for name in WITH_DOMAIN)]


@pytest.mark.parametrize("variant", VARIANTS)
def test_stateful_addresses_are_the_pinned_ones(synthesized: Synthesized, variant: str) -> None:
    pinned = load()
    profile, _, domain = variant.partition("+")
    env = {"TAP_CONFIG": str(DOMAIN_CONFIG)} if domain else {}
    documents = ((ENVIRONMENT, synthesized(profile, **env)), (BASELINE, synthesized.baseline(profile, **env)))
    for stack, document in documents:
        found = drift(pinned, variant, stack, stateful_addresses(document), moves(document))
        assert found is None or found.safe, f"{found}\n(a rename needs a moved block; then run `make pin`)"


def test_every_profile_is_pinned_for_both_stacks() -> None:
    pinned = load()
    assert set(pinned) == set(VARIANTS)
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


def test_a_rename_with_a_moved_block_is_safe(synthesized: Synthesized) -> None:
    """With `move_from_id(old)` on the renamed resource, Terraform moves the state: nothing is destroyed."""
    document = copy.deepcopy(synthesized("full"))
    clusters = document["resource"]["aws_rds_cluster"]
    old = address_name(document, "aws_rds_cluster", "data_database_cluster")
    clusters["data_aurora_cluster_0F0E0D0C"] = clusters.pop(old)
    document["moved"] = [{"from": f"aws_rds_cluster.{old}", "to": "aws_rds_cluster.data_aurora_cluster_0F0E0D0C"}]
    found = drift(load(), "full", ENVIRONMENT, stateful_addresses(document), moves(document))
    assert found is not None and found.safe
    assert found.moved == [f"aws_rds_cluster.{old} -> aws_rds_cluster.data_aurora_cluster_0F0E0D0C"]


def test_every_type_the_issue_names_is_present_in_some_profile(synthesized: Synthesized) -> None:
    """Keys, buckets, clusters, instances, tables, file systems, caches, secrets and log groups are all pinned."""
    pinned_types = {a.split(".")[0] for stacks in load().values() for addresses in stacks.values() for a in addresses}
    assert pinned_types == STATEFUL_TYPES
