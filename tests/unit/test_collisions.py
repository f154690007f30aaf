"""No two profiles deployed with one suffix share a physical name or a state (`tools/collisions.py`)."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import pytest

from lib.profiles import PROFILES
from lib.synth import synthesize
from tests.conftest import PROFILE_NAMES, SUFFIX, Synthesized
from tools.collisions import PHYSICAL_NAME, physical_names, shared_names
from tools.compliance import DOMAIN_CONFIG, WITH_DOMAIN

PAIRS = list(itertools.combinations(PROFILE_NAMES, 2))
KINDS = {"aws_s3_bucket", "aws_kms_alias", "aws_dynamodb_table", "aws_cloudwatch_event_bus", "aws_sqs_queue"}
KINDS |= {"aws_sns_topic", "aws_iam_role", "aws_cloudwatch_log_group", "aws_lambda_function", "aws_rds_cluster"}
KINDS |= {"aws_secretsmanager_secret", "aws_ssm_parameter", "aws_lb", "aws_lb_target_group", "aws_autoscaling_group"}
KINDS |= {"aws_launch_template", "aws_iam_instance_profile", "aws_wafv2_web_acl", "aws_apigatewayv2_vpc_link"}
KINDS |= {
    "aws_cloudfront_cache_policy",
    "aws_cloudfront_response_headers_policy",
    "aws_cloudfront_origin_access_control",
}
KINDS |= {"aws_cloudwatch_log_resource_policy"}


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"{a}+{b}" for a, b in PAIRS])
def test_no_two_profiles_share_a_name_with_one_suffix(synthesized: Synthesized, first: str, second: str) -> None:
    assert shared_names(synthesized(first), synthesized(second)) == set()


def test_every_kind_the_issue_names_is_checked_and_present(synthesized: Synthesized) -> None:
    """The check reads names of every kind listed, and the profiles together have each of them."""
    assert set(PHYSICAL_NAME) >= KINDS
    documents = [synthesized(profile) for profile in PROFILE_NAMES]
    documents += [synthesized(profile, TAP_CONFIG=str(DOMAIN_CONFIG)) for profile in WITH_DOMAIN]
    seen = {kind for document in documents for kind, _ in physical_names(document)}
    assert KINDS | {"state"} <= seen


def test_names_of_one_profile_are_distinct(synthesized: Synthesized) -> None:
    for profile in PROFILE_NAMES:
        names = list(physical_names(synthesized(profile)))
        assert len(names) == len(set(names)), profile
    for profile in WITH_DOMAIN:
        names = list(physical_names(synthesized(profile, TAP_CONFIG=str(DOMAIN_CONFIG))))
        assert len(names) == len(set(names)), f"{profile} with a domain"


def test_two_profiles_with_one_prefix_would_collide(tmp_path: Path) -> None:
    """The check can fail: give web-mysql serverless-payments' prefix and the shared names appear."""
    same_prefix = dataclasses.replace(PROFILES["web-mysql"], environment_suffix=SUFFIX, name_prefix="payment")
    other = dataclasses.replace(PROFILES["serverless-payments"], environment_suffix=SUFFIX)
    first = json.loads(synthesize(same_prefix, tmp_path / "a").output_file.read_text())
    second = json.loads(synthesize(other, tmp_path / "b").output_file.read_text())
    shared = shared_names(first, second)
    assert ("aws_iam_role", f"payment-secret-rotation-{SUFFIX}") in shared
    assert ("aws_kms_alias", f"alias/payment-database-{SUFFIX}") in shared
    assert not any(kind == "state" for kind, _ in shared)  # the state key still holds the profile


def test_a_name_the_check_does_not_know_is_an_error() -> None:
    document = {"resource": {"aws_glue_job": {"job": {"name": "tap-etl-dev"}}}}
    with pytest.raises(ValueError, match=r"aws_glue_job\.job has a physical name this check does not know"):
        list(physical_names(document))


def test_the_baseline_is_shared_on_purpose_and_identical(synthesized: Synthesized) -> None:
    """One baseline per account and region: every profile's is the same stack (see test_baseline.py)."""
    first, second = synthesized.baseline("full"), synthesized.baseline("serverless-payments")
    assert first == second and set(physical_names(first))


def test_names_given_per_instance_by_for_each_are_each_checked() -> None:
    """A resource over a map (the baseline's Config rules) claims every instance's name."""

    def rules(*names: str) -> dict[str, object]:
        instances = {name: {"name": name, "identifier": "X"} for name in names}
        return {
            "resource": {"aws_config_config_rule": {"rules": {"for_each": instances, "name": "${each.value.name}"}}}
        }

    first, second = rules("a-rule", "b-rule"), rules("b-rule", "c-rule")
    assert sorted(physical_names(first)) == [("aws_config_config_rule", "a-rule"), ("aws_config_config_rule", "b-rule")]
    assert shared_names(first, second) == {("aws_config_config_rule", "b-rule")}


def test_a_composite_alarm_shares_the_metric_alarms_name_space() -> None:
    """CloudWatch keeps one name space for both kinds: a second put with the name overwrites."""
    document = {
        "resource": {
            "aws_cloudwatch_metric_alarm": {"a": {"alarm_name": "tap-degraded-dev"}},
            "aws_cloudwatch_composite_alarm": {"b": {"alarm_name": "tap-degraded-dev"}},
        }
    }
    names = list(physical_names(document))
    assert names.count(("aws_cloudwatch_metric_alarm", "tap-degraded-dev")) == 2
