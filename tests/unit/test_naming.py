"""AWS name rules: each with a compliant and a non-compliant case."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.core.naming import MAX_SUFFIX_LENGTH, NAME_RULES, Names
from lib.errors import ConfigError
from lib.profiles import load_config
from lib.synth import synthesize

CASES = {
    "dashboard": ("tap-dev", ["tap dev", "tap.dev", "d" * 256]),
    "backup_vault": ("tap-vault-dev", ["v", "tap.vault.dev", "v" * 51]),
    "backup_plan": ("tap-daily-dev", ["tap daily", "p" * 51]),
    "signing_profile": ("tap_dev_", ["tap-dev-", "p" * 39]),
    "lambda_layer": ("tap-powertools-dev", ["tap.powertools", "l" * 141]),
    "s3_bucket": (
        "tap-flow-logs-dev",
        ["ab", "Tap-logs", "tap_logs", "tap-", "a" * 64, "192.168.1.1", "tap..logs", "xn--tap"],
    ),
    "load_balancer": ("payment-alb-dev", ["a" * 33, "-alb", "alb-", "alb_dev", "internal-alb"]),
    "target_group": ("payment-blue-dev", ["p" * 33]),
    "rds_identifier": ("payment-db-dev", ["1db", "Db", "db--dev", "db-", "d" * 64]),
    "kms_alias": ("alias/s3-dev", ["s3-dev", "alias/aws/s3", "alias/s3 dev"]),
    "iam_role": ("tap-flow-logs-dev", ["r" * 65, "role name"]),
    "iam_policy": ("tap-policy", ["p" * 129]),
    "log_group": ("/tap/dev/vpc-flow-logs", ["/tap/dev/flow logs", "g" * 513]),
    "security_group": ("tap-vpc-endpoints-dev", ["sg-123", "s" * 256]),
    "vpc_resource": ("tap-vpc-dev", ["", "n" * 256]),
    "secret": ("tap/dev/database/tap_app", ["tap dev", "s" * 513]),
    "lambda_function": ("tap-secret-rotation-dev", ["tap.rotation", "f" * 65]),
    "elasticache_id": ("tap-redis-dev", ["1redis", "Redis", "tap--redis", "tap-redis-", "r" * 41]),
    "dynamodb_table": ("transactions-dev", ["tx", "transactions dev"]),
    "ssm_parameter": ("/tap/dev/database/writer-endpoint", ["tap/dev", "/tap/dev/with space"]),
    "sqs_queue": ("tap-transactions-dev", ["tap.transactions", "q" * 81]),
    "sns_topic": ("tap-alerts-dev", ["tap alerts", "t" * 257]),
    "event_bus": ("payments-dev", ["payments dev", "b" * 257]),
    "event_rule": ("tap-payment-failed-dev", ["rule:1", "r" * 65]),
    "http_api": ("tap-payments-api-dev", ["", "a" * 129]),
    "launch_template": ("tap-web-dev", ["lt", "tap web", "l" * 129]),
    "autoscaling_group": ("tap-web-dev", ["tap:web", "a" * 256]),
    "instance_profile": ("tap-instances-dev", ["tap instances", "i" * 129]),
    "alarm": ("tap-web-cpu-high-dev", ["", "a" * 256, "tap\nalarm"]),
    "waf": ("tap-regional-dev", ["tap regional", "w" * 129]),
    "vpc_link": ("tap-alb-dev", ["", "v" * 129]),
    "cache_policy": ("portal-static-dev", ["portal static", "c" * 129]),
    "response_headers_policy": ("portal-security-dev", ["portal.security", "r" * 129]),
    "origin_access_control": ("portal-assets-dev", ["", "o" * 65]),
    "key_signing_key": ("secure_ksk_dev", ["ks", "secure-ksk-dev", "k" * 129]),
    "health_check": ("secure-primary-dev", ["", "h" * 256]),
    "firehose": ("portal-app-logs-dev", ["app logs", "f" * 65]),
    "log_resource_policy": ("secure-route53-query-logs-dev", ["route53 logs", "p" * 256]),
    "trail": ("tap-baseline-account-us-east-1", ["ab", "-trail", "tap trail", "t" * 129]),
    "config_recorder": ("tap-baseline-recorder-us-east-1", ["", "my recorder", "r" * 257]),
    "config_rule": ("tap-baseline-encrypted-volumes-us-east-1", ["encrypted volumes", "c" * 129]),
    "access_analyzer": ("tap-baseline-account-us-east-1", ["1analyzer", "tap analyzer", "a" * 256]),
    "query_definition": ("tap-dev/payments/Failed payments by reason", ["tap\ndev", "q" * 256]),
    "metric_filter": ("tap-baseline-root-use-us-east-1", ["root:use", "root*", "m" * 513]),
}


def test_every_rule_has_cases() -> None:
    assert set(CASES) == set(NAME_RULES)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_compliant_name_passes(kind: str) -> None:
    assert NAME_RULES[kind](CASES[kind][0]) is None


@pytest.mark.parametrize(("kind", "bad"), [(k, bad) for k, (_, bads) in sorted(CASES.items()) for bad in bads])
def test_non_compliant_name_is_rejected_with_the_rule(kind: str, bad: str) -> None:
    problem = NAME_RULES[kind](bad)
    assert problem is not None and len(problem) > 20


def test_names_builds_prefix_parts_suffix_and_records_for_checking() -> None:
    names = Names(prefix="tap", suffix="dev")
    assert names.make("s3_bucket", "flow-logs") == "tap-flow-logs-dev"
    names.record("load_balancer", "a-very-long-application-load-balancer-name")
    (violation,) = names.violations()
    assert violation.field == "load_balancer name" and "32" in violation.rule
    with pytest.raises(KeyError, match="no naming rule for resource type 'lambda'"):
        names.make("lambda", "x")


def test_a_name_too_long_only_because_of_the_suffix_is_reported_against_the_suffix() -> None:
    names = Names(prefix="tap", suffix="s" * 40)
    names.make("elasticache_id", "redis")  # 50 characters; fits with a short suffix
    (violation,) = names.violations()
    assert violation.field == "ENVIRONMENT_SUFFIX" and violation.rule_id == "name.suffix_length"
    assert f"use at most {MAX_SUFFIX_LENGTH} characters" in violation.rule
    assert "elasticache_id tap-redis-" in violation.rule


def test_a_name_broken_whatever_the_suffix_names_the_resource() -> None:
    names = Names(prefix="tap", suffix="dev")
    names.make("s3_bucket", "Settlement_Reports")
    (violation,) = names.violations()
    assert violation.field == "s3_bucket name" and violation.rule_id == "name.rule"


def test_synthesis_checks_generated_names_before_writing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The gate in `synthesize`: a name that breaks its rule stops synthesis and leaves the output as it was."""
    monkeypatch.setitem(NAME_RULES, "sns_topic", lambda name: "at most 5 characters" if len(name) > 5 else None)
    outdir = tmp_path / "cdktf.out"
    outdir.mkdir()
    (outdir / "previous.txt").write_text("from an earlier synth")
    with pytest.raises(ConfigError) as raised:
        synthesize(load_config({"TAP_PROFILE": "serverless-payments"}), outdir)
    assert {v.value for v in raised.value.violations} == {
        "payment-alerts-dev",
        "payment-failed-transactions-dev",
        "payment-alarms-dev",  # the observability tier's
        "payment-page-dev",
        "tap-baseline-security-alerts-us-east-1",  # the baseline's names are checked in the same gate
        "tap-baseline-compliance-us-east-1",
    }
    assert (outdir / "previous.txt").read_text() == "from an earlier synth"
    assert [p.name for p in tmp_path.iterdir()] == ["cdktf.out"]  # no staging directory left behind
