"""TAP-TAG-1 (the inventory tags of PCI DSS 12.5.1, through the providers' default tags)."""

from __future__ import annotations

from typing import Any

from tools.rules import RULES, Stacks

ENVIRONMENT_TAGS = {"Project": "P", "Application": "a", "Environment": "dev", "Profile": "full", "ManagedBy": "cdktn"}
BASELINE_TAGS = {"Project": "P", "Application": "tap", "Scope": "account-baseline", "ManagedBy": "cdktn"}


def tagged(tags: dict[str, str], *, alias: str = "", resource_tags: dict[str, str] | None = None) -> dict[str, Any]:
    provider: dict[str, Any] = {"region": "us-east-1", "default_tags": [{"tags": tags}]}
    if alias:
        provider["alias"] = alias
    bucket: dict[str, Any] = {"bucket": "b"} if resource_tags is None else {"bucket": "b", "tags": resource_tags}
    return {"provider": {"aws": [provider]}, "resource": {"aws_s3_bucket": {"b": bucket}}}


def check(environment: dict[str, Any], baseline: dict[str, Any]) -> Any:
    return RULES["TAP-TAG-1"].check(Stacks(environment, baseline))


def test_both_stacks_tagged_pass_with_every_tag_as_evidence() -> None:
    outcome = check(tagged(ENVIRONMENT_TAGS), tagged(BASELINE_TAGS))
    assert outcome.passed
    assert {(e.stack, e.attribute) for e in outcome.evidence} == {
        *(("environment", f"default_tags.tags.{k}") for k in ENVIRONMENT_TAGS),
        *(("baseline", f"default_tags.tags.{k}") for k in BASELINE_TAGS),
    }


def test_a_missing_or_empty_tag_fails_on_the_provider_naming_it() -> None:
    outcome = check(tagged({**ENVIRONMENT_TAGS, "Profile": " "}, alias="us_east_1"), tagged({"Project": "P"}))
    assert [(v.stack, v.resource) for v in outcome.violations] == [
        ("environment", "provider.aws.us_east_1"),
        ("baseline", "provider.aws"),
        ("baseline", "provider.aws"),
        ("baseline", "provider.aws"),
    ]
    assert "Profile" in outcome.violations[0].message


def test_a_resource_blanking_an_inventory_tag_fails() -> None:
    outcome = check(tagged(ENVIRONMENT_TAGS, resource_tags={"Environment": ""}), tagged(BASELINE_TAGS))
    assert [v.resource for v in outcome.violations] == ["aws_s3_bucket.b"]


def test_a_stack_without_a_provider_fails_and_no_resources_is_not_applicable() -> None:
    no_provider = {"resource": {"aws_s3_bucket": {"b": {}}}}
    assert [v.resource for v in check(no_provider, tagged(BASELINE_TAGS)).violations] == ["provider.aws"]
    assert check({}, {}).not_applicable == "no resources in either stack"


def launching(*, propagate: bool = True, volume_tags: bool = True) -> dict[str, Any]:
    """A tagged environment with an Auto Scaling group and its launch template."""
    environment = tagged(ENVIRONMENT_TAGS)
    environment["resource"]["aws_autoscaling_group"] = {
        "web": {"tag": [{"key": k, "value": v, "propagate_at_launch": propagate} for k, v in ENVIRONMENT_TAGS.items()]}
    }
    specifications = [{"resource_type": "instance", "tags": ENVIRONMENT_TAGS}]
    if volume_tags:
        specifications.append({"resource_type": "volume", "tags": ENVIRONMENT_TAGS})
    environment["resource"]["aws_launch_template"] = {"web": {"tag_specifications": specifications}}
    return environment


def test_what_auto_scaling_launches_is_tagged_too() -> None:
    outcome = check(launching(), tagged(BASELINE_TAGS))
    assert outcome.passed
    assert {e.resource for e in outcome.evidence} >= {"aws_autoscaling_group.web", "aws_launch_template.web"}


def test_a_group_that_does_not_propagate_or_a_template_that_does_not_tag_volumes_fails() -> None:
    assert [v.resource for v in check(launching(propagate=False), tagged(BASELINE_TAGS)).violations] == [
        "aws_autoscaling_group.web"
    ]
    outcome = check(launching(volume_tags=False), tagged(BASELINE_TAGS))
    assert [v.resource for v in outcome.violations] == ["aws_launch_template.web"]
    assert "volume" in outcome.violations[0].message
