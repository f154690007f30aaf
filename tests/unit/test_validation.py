"""Bad configuration fails at synth, naming field, value and rule, and writes nothing."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.config import AuroraConfig, BucketLifecycle, NetworkConfig, PaymentsConfig, RedisConfig, StorageConfig
from lib.errors import ConfigError
from lib.profiles import PROFILES, load_config
from lib.synth import synthesize
from lib.validation import validate

ROOT = Path(__file__).resolve().parents[2]


def violations_for(**changes: object) -> list[str]:
    config = dataclasses.replace(PROFILES["full"], **changes)  # type: ignore[arg-type]
    return [str(v) for v in validate(config)]


def network(**changes: object) -> NetworkConfig:
    return dataclasses.replace(PROFILES["full"].network, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_profile_is_valid(profile: str) -> None:
    assert validate(load_config({"TAP_PROFILE": profile})) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"environment_suffix": "Dev"}, "ENVIRONMENT_SUFFIX = 'Dev': must match ^[a-z0-9][a-z0-9-]{0,19}$"),
        ({"environment_suffix": "-dev"}, "ENVIRONMENT_SUFFIX = '-dev'"),
        ({"environment_suffix": "a" * 21}, "ENVIRONMENT_SUFFIX = '" + "a" * 21 + "'"),
        ({"region": "us-east"}, "AWS_REGION = 'us-east': must be an AWS region name"),
        ({"region": "mars-north-1"}, "AWS_REGION = 'mars-north-1'"),
        ({"name_prefix": "9tap"}, "name_prefix = '9tap': must match"),
        ({"key_purposes": ("logs",)}, "must include 's3': buckets are encrypted with the s3 key"),
        ({"key_purposes": ("s3", "logs", "quantum")}, "key_purposes = ['quantum']: must be among"),
        (
            {"network": network(cidr_block="10.0.0.0/33")},
            "network.cidr_block = '10.0.0.0/33': must be an IPv4 CIDR block",
        ),
        (
            {"network": network(cidr_block="8.8.0.0/16")},
            "network.cidr_block = '8.8.0.0/16': must be a private IPv4 block",
        ),
        ({"network": network(zone_letters=("a",))}, "network.zone_letters = ['a']: must name 2 to 6 zones"),
        ({"network": network(zone_letters=("a", "a", "B"))}, "must be distinct single lowercase letters"),
        (
            {"network": network(private_offset=1)},
            "network.private_offset = 1: its subnets overlap those of network.public_offset",
        ),
        (
            {"network": network(database_offset=254)},
            "network.database_offset = 254: its 3 /24 subnets must fit in 10.0.0.0/16",
        ),
        ({"network": network(flow_log_destinations=())}, "PCI-DSS 10.2 needs VPC flow logs"),
        ({"network": network(flow_log_cloudwatch_retention_days=45)}, "must be one of CloudWatch's values"),
        (
            {"network": network(flow_log_destinations=("cloudwatch",), flow_log_cloudwatch_retention_days=30)},
            "network.flow_log_cloudwatch_retention_days = 30: below PCI-DSS 10.5.1's 365 days the 's3' destination must also be on",
        ),
        ({"storage": StorageConfig(buckets={})}, "the 's3' flow-log destination needs a 'flow_logs' bucket"),
        (
            {
                "storage": StorageConfig(
                    buckets={"flow_logs": BucketLifecycle(expire_after_days=30, transition_after_days=30)}
                )
            },
            "storage.buckets['flow_logs'].transition_after_days = 30: must come before expire_after_days (30)",
        ),
        (
            {"storage": StorageConfig(buckets={"flow_logs": BucketLifecycle()}, access_log_retention_days=90)},
            "storage.access_log_retention_days = 90: S3 access logs are audit logs",
        ),
    ],
)
def test_each_rule_names_field_value_and_rule(changes: dict[str, object], expected: str) -> None:
    found = violations_for(**changes)
    assert any(expected in v for v in found), found


def database(**changes: object) -> AuroraConfig:
    base = PROFILES["full"].database
    assert base is not None
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"database": database(engine_version="14.9")},
            "database.engine_version = '14.9': Aurora PostgreSQL must be 15 or 16",
        ),
        ({"database": database(engine="aurora-mysql")}, "Aurora MySQL must be 8.0"),
        ({"database": database(instance_count=0)}, "database.instance_count = 0: must be 1 (writer) to 16"),
        ({"database": database(serverless_acu=(4.0, 1.0))}, "database.serverless_acu = (4.0, 1.0): must be (min, max)"),
        (
            {"database": database(serverless_acu=None)},
            "database.instance_class = 'db.serverless': must be a provisioned class",
        ),
        ({"database": database(backup_retention_days=0)}, "database.backup_retention_days = 0: must be 1 to 35 days"),
        ({"database": database(app_rotation_days=0)}, "database.app_rotation_days = 0: must be 1 to 365 days"),
        (
            {"database": database(monitoring_interval_seconds=7)},
            "database.monitoring_interval_seconds = 7: must be one of",
        ),
        (
            {"database": database(performance_insights_retention_days=8)},
            "database.performance_insights_retention_days = 8",
        ),
        (
            {"database": database(app_username="postgres")},
            "database.app_username = 'postgres': must be a lowercase identifier",
        ),
        (
            {"database": database(app_username="tap_admin")},
            "database.app_username = 'tap_admin': must differ from master_username",
        ),
        ({"database": database(database_name="9db")}, "database.database_name = '9db'"),
        ({"cache": RedisConfig(node_count=1)}, "cache.node_count = 1: must be 2 to 6"),
        (
            {"key_purposes": ("s3", "logs", "secrets", "efs", "cache", "dynamodb", "parameters")},
            "must include 'database'",
        ),
    ],
)
def test_data_tier_rules(changes: dict[str, object], expected: str) -> None:
    found = violations_for(**changes)
    assert any(expected in v for v in found), found


def payments(**changes: object) -> PaymentsConfig:
    return dataclasses.replace(PaymentsConfig(), **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"payments": payments(currencies=("usd",))}, "payments.currencies = ['usd']: must be ISO 4217 codes"),
        ({"payments": payments(currencies=())}, "payments.currencies = []"),
        ({"payments": payments(fraud_review_amount=3_000_000)}, "must satisfy 0 < review < decline <= amount_ceiling"),
        ({"payments": payments(reserved_concurrency=0)}, "payments.reserved_concurrency = 0: must be at least 1"),
        ({"payments": payments(max_receive_count=0)}, "payments.max_receive_count = 0: must be 1 to 1000"),
        (
            {"payments": payments(alert_emails=("not-an-email",))},
            "payments.alert_emails = 'not-an-email': must be an email address",
        ),
        (
            {"payments": payments(cors_origins=("ftp://x",))},
            "payments.cors_origins = 'ftp://x': must be an https origin",
        ),
        (
            {"payments": payments(cors_origins=("*",)), "destroyable": False},
            "'*' is never allowed in a protected environment",
        ),
        ({"transactions_table": None}, "transactions_table = None: payments record transactions in the DynamoDB table"),
    ],
)
def test_payment_rules(changes: dict[str, object], expected: str) -> None:
    found = violations_for(**changes)
    assert any(expected in v for v in found), found


def test_wildcard_cors_is_tolerated_only_when_destroyable() -> None:
    assert not [v for v in violations_for(payments=payments(cors_origins=("*",))) if "cors" in v]


def test_database_needs_the_secretsmanager_endpoint() -> None:
    base = PROFILES["web-mysql"]
    config = dataclasses.replace(
        base, endpoints=dataclasses.replace(base.endpoints, interface_services=("kms", "logs", "sts"))
    )
    assert any("through its 'secretsmanager' endpoint" in str(v) for v in validate(config))


def test_no_nat_needs_sts_and_logs_endpoints() -> None:
    base = PROFILES["transactions-pg"]
    config = dataclasses.replace(base, endpoints=dataclasses.replace(base.endpoints, interface_services=("kms",)))
    found = [str(v) for v in validate(config)]
    assert any("without NAT, private subnets need the 'sts' endpoint" in v for v in found)
    assert any("without NAT, private subnets need the 'logs' endpoint" in v for v in found)


def test_all_violations_are_reported_at_once_and_nothing_is_written(tmp_path: Path) -> None:
    config = dataclasses.replace(
        PROFILES["full"],
        environment_suffix="BAD_suffix",
        region="nowhere-1",
        network=network(zone_letters=tuple("abcdefghi")),
    )
    outdir = tmp_path / "cdktf.out"
    with pytest.raises(ConfigError) as raised:
        synthesize(config, outdir)
    message = str(raised.value)
    for field in (
        "ENVIRONMENT_SUFFIX = 'BAD_suffix'",
        "AWS_REGION = 'nowhere-1'",
        "network.zone_letters = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']",
    ):
        assert field in message
    assert not outdir.exists()


def test_generated_names_breaking_aws_rules_fail_before_writing(tmp_path: Path) -> None:
    # Prefix, suffix and purpose are each valid; together some generated names are too long.
    buckets = {"flow_logs": BucketLifecycle(), "settlement_reports_daily": BucketLifecycle(expire_after_days=30)}
    config = dataclasses.replace(
        PROFILES["full"], name_prefix="p" * 20, environment_suffix="s" * 20, storage=StorageConfig(buckets=buckets)
    )
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks").mkdir(parents=True)
    (outdir / "previous.txt").write_text("from an earlier synth")
    with pytest.raises(ConfigError) as raised:
        synthesize(config, outdir)
    problems = {(v.field, str(v.value)): v.rule for v in raised.value.violations}
    p, s = "p" * 20, "s" * 20
    assert "S3 bucket names are 3-63" in problems[("s3_bucket name", f"{p}-settlement-reports-daily-{s}")]
    assert "got 66 characters" in problems[("s3_bucket name", f"{p}-settlement-reports-daily-{s}")]
    assert ("s3_bucket name", f"{p}-settlement-reports-daily-archive-{s}") in problems
    assert "IAM role names are at most 64" in problems[("iam_role name", f"{p}-settlement-reports-daily-archive-{s}")]
    # ElastiCache ids allow only 40 characters: the maximal prefix and suffix do not fit there.
    assert "at most 40" in problems[("elasticache_id name", f"{p}-redis-{s}")]
    # ... nor do X-Ray rules (32) or the longest EventBridge DLQ name (80).
    assert "at most 32" in problems[("xray_sampling_rule name", f"{p}-payments-{s}")]
    assert ("sqs_queue name", f"{p}-events-payment-failed-failed-transactions-{s}") in problems
    assert {field for field, _ in problems} == {
        "s3_bucket name",
        "iam_role name",
        "elasticache_id name",
        "xray_sampling_rule name",
        "sqs_queue name",
    }
    assert all(len(value) > 40 for _, value in problems)  # the names that fit are not reported
    assert (outdir / "previous.txt").read_text() == "from an earlier synth"
    assert [p.name for p in tmp_path.iterdir()] == ["cdktf.out"]  # no staging directory left behind


def test_unknown_profile_and_bad_protected_flag_are_rejected_together() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({"TAP_PROFILE": "everything", "TAP_PROTECTED": "maybe"})
    message = str(raised.value)
    assert "TAP_PROFILE = 'everything': must be one of ['full', 'portal-cdn'" in message
    assert "TAP_PROTECTED = 'maybe': must be true or false" in message


def test_environment_overrides_apply() -> None:
    config = load_config(
        {
            "TAP_PROFILE": "transactions-pg",
            "ENVIRONMENT_SUFFIX": "pr42",
            "AWS_REGION": "eu-west-1",
            "REPOSITORY": "org/tap",
            "COMMIT_AUTHOR": "ana",
        }
    )
    assert (config.profile, config.environment_suffix, config.region) == ("transactions-pg", "pr42", "eu-west-1")
    assert config.destroyable is True
    assert config.default_tags()["Repository"] == "org/tap" and config.default_tags()["Author"] == "ana"
    assert load_config({}).profile == "full" and load_config({}).region == "us-east-1"
    assert load_config({"TAP_PROFILE": "transactions-pg"}).region == "ap-southeast-1"


def test_tap_py_exits_non_zero_with_the_message_and_leaves_cdktf_out_untouched(tmp_path: Path) -> None:
    env = {**os.environ, "ENVIRONMENT_SUFFIX": "Not_Valid", "TAP_PROFILE": "web-mysql"}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "tap.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2
    assert "ENVIRONMENT_SUFFIX = 'Not_Valid': must match" in completed.stderr
    assert "nothing was written" in completed.stderr
    assert not (tmp_path / "cdktf.out").exists()
