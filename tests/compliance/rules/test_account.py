"""TAP-HUB-1 (Security Hub PCI DSS), TAP-GD-1 (GuardDuty protection plans), TAP-KMS-1 (key rotation)."""

from __future__ import annotations

import pytest

from tests.compliance.rules.documents import Body, evidenced, run, violated

PCI_ARN = "arn:aws:securityhub:us-east-1::standards/pci-dss/v/4.0.1"


def test_a_pci_dss_subscription_passes() -> None:
    outcome = run("TAP-HUB-1", baseline={"aws_securityhub_standards_subscription": {"pci": {"standards_arn": PCI_ARN}}})
    assert outcome.passed and [e.value for e in outcome.evidence] == [f'"{PCI_ARN}"']


def test_only_other_standards_fail_naming_the_type() -> None:
    other = "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0"
    outcome = run("TAP-HUB-1", baseline={"aws_securityhub_standards_subscription": {"fsbp": {"standards_arn": other}}})
    assert violated(outcome) == ["aws_securityhub_standards_subscription"]


FEATURES = ("S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "LAMBDA_NETWORK_LOGS", "RUNTIME_MONITORING")


def guardduty(*, enable: bool = True, disabled: str = "") -> dict[str, dict[str, Body]]:
    return {
        "aws_guardduty_detector": {"d": {"enable": enable}},
        "aws_guardduty_detector_feature": {
            name.lower(): {
                "detector_id": "${aws_guardduty_detector.d.id}",
                "name": name,
                "status": "DISABLED" if name == disabled else "ENABLED",
            }
            for name in FEATURES
        },
    }


def test_a_detector_with_every_feature_passes() -> None:
    outcome = run("TAP-GD-1", baseline=guardduty())
    assert outcome.passed and len(evidenced(outcome)) == 5


def test_a_disabled_feature_fails_on_the_detector() -> None:
    outcome = run("TAP-GD-1", baseline=guardduty(disabled="RDS_LOGIN_EVENTS"))
    assert violated(outcome) == ["aws_guardduty_detector.d"] and "RDS_LOGIN_EVENTS" in outcome.violations[0].message


@pytest.mark.parametrize("documents", [{}, guardduty(enable=False)])
def test_no_enabled_detector_fails_naming_the_type(documents: dict[str, dict[str, Body]]) -> None:
    assert violated(run("TAP-GD-1", baseline=documents)) == ["aws_guardduty_detector"]


def test_keys_rotating_yearly_or_by_default_pass() -> None:
    keys = {"a": {"enable_key_rotation": True, "rotation_period_in_days": 90}, "b": {"enable_key_rotation": True}}
    outcome = run("TAP-KMS-1", environment={"aws_kms_key": keys})
    assert outcome.passed and [e.value for e in outcome.evidence] == ["90", "365"]


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ({"enable_key_rotation": False}, "rotation is off"),
        ({"enable_key_rotation": True, "rotation_period_in_days": 730}, "730 days"),
        ({"customer_master_key_spec": "ECC_NIST_P256", "key_usage": "SIGN_VERIFY"}, "cannot rotate"),
    ],
)
def test_keys_without_a_yearly_rotation_fail(key: Body, words: str) -> None:
    outcome = run("TAP-KMS-1", baseline={"aws_kms_key": {"k": key}})
    assert violated(outcome) == ["aws_kms_key.k"] and words in outcome.violations[0].message


def test_without_keys_rotation_does_not_apply() -> None:
    assert run("TAP-KMS-1").not_applicable is not None


def test_the_retired_pci_dss_3_2_1_standard_does_not_count() -> None:
    retired = "arn:aws:securityhub:::ruleset/pci-dss/v/3.2.1"
    old = "arn:aws:securityhub:us-east-1::standards/pci-dss/v/3.2.1"
    for arn in (retired, old):
        outcome = run("TAP-HUB-1", baseline={"aws_securityhub_standards_subscription": {"pci": {"standards_arn": arn}}})
        assert violated(outcome) == ["aws_securityhub_standards_subscription"]
