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
