"""TAP-RDS-1 (cluster parameter groups force TLS) and TAP-RDS-2 (master credentials)."""

from __future__ import annotations

import pytest

from tests.compliance.rules.documents import Body, evidenced, run, violated

GROUP = "${aws_rds_cluster_parameter_group.params.name}"


def cluster(engine: str, parameters: list[Body] | None, **settings: object) -> dict[str, dict[str, Body]]:
    body: Body = {
        "engine": engine,
        "master_username": "tap_admin",
        "manage_master_user_password": True,
        **settings,
    }
    document: dict[str, dict[str, Body]] = {"aws_rds_cluster": {"db": body}}
    if parameters is not None:
        body["db_cluster_parameter_group_name"] = GROUP
        document["aws_rds_cluster_parameter_group"] = {"params": {"parameter": parameters}}
    return document


@pytest.mark.parametrize(
    ("engine", "name", "value"),
    [
        ("aurora-postgresql", "rds.force_ssl", "1"),
        ("aurora-mysql", "require_secure_transport", "ON"),
        ("aurora-mysql", "require_secure_transport", "on"),
    ],
)
def test_a_group_forcing_tls_passes(engine: str, name: str, value: str) -> None:
    outcome = run("TAP-RDS-1", environment=cluster(engine, [{"name": name, "value": value}]))
    assert outcome.passed and evidenced(outcome) == {"aws_rds_cluster_parameter_group.params"}


@pytest.mark.parametrize(
    ("engine", "parameters"),
    [
        ("aurora-postgresql", [{"name": "rds.force_ssl", "value": "0"}]),
        ("aurora-postgresql", [{"name": "require_secure_transport", "value": "ON"}]),
        ("aurora-mysql", [{"name": "log_connections", "value": "1"}]),
        ("aurora-mysql", None),
    ],
)
def test_a_cluster_accepting_plaintext_fails(engine: str, parameters: list[Body] | None) -> None:
    assert violated(run("TAP-RDS-1", environment=cluster(engine, parameters))) == ["aws_rds_cluster.db"]


def test_without_clusters_aurora_rules_do_not_apply() -> None:
    assert run("TAP-RDS-1").not_applicable is not None
    assert run("TAP-RDS-2").not_applicable is not None


def test_managed_credentials_under_a_chosen_name_pass() -> None:
    outcome = run("TAP-RDS-2", environment=cluster("aurora-postgresql", None))
    assert outcome.passed
    assert {(e.attribute, e.value) for e in outcome.evidence} == {
        ("master_username", '"tap_admin"'),
        ("manage_master_user_password", "true"),
    }


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"master_username": "postgres"}, "vendor default"),
        ({"master_username": "Admin"}, "vendor default"),
        ({"manage_master_user_password": False}, "not managed"),
        ({"manage_master_user_password": False, "master_password": "hunter2hunter2"}, "master_password"),
    ],
)
def test_default_names_and_unmanaged_passwords_fail(settings: Body, words: str) -> None:
    outcome = run("TAP-RDS-2", environment=cluster("aurora-postgresql", None, **settings))
    assert violated(outcome) == ["aws_rds_cluster.db"] and words in outcome.violations[0].message
