"""AWS name rules: each with a compliant and a non-compliant case."""

from __future__ import annotations

import pytest

from lib.naming import NAME_RULES, Names

CASES = {
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
    "xray_sampling_rule": ("tap-payments-dev", ["tap.payments", "x" * 33]),
    "http_api": ("tap-payments-api-dev", ["", "a" * 129]),
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
