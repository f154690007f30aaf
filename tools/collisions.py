"""Physical names in a synthesized stack, and the ones two stacks would both claim.

Two profiles deployed in one account with one suffix must not share a physical name: the second
apply would fail, or worse, take over the first's resource. The names come from the JSON, by
the attribute that is each resource type's account-wide (or region-wide) name, plus the state
key. Names scoped to a parent are left out on purpose (`SCOPED`), and any other literal
name-like attribute is an error, so a new layer cannot add a name this check does not see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

Document = dict[str, Any]

# Resource type -> the attribute holding its account/region-unique physical name.
PHYSICAL_NAME: Mapping[str, str] = {
    "aws_s3_bucket": "bucket",
    "aws_kms_alias": "name",
    "aws_iam_role": "name",
    "aws_cloudwatch_log_group": "name",
    "aws_lambda_function": "function_name",
    "aws_rds_cluster": "cluster_identifier",
    "aws_rds_cluster_instance": "identifier",
    "aws_rds_cluster_parameter_group": "name",
    "aws_db_subnet_group": "name",
    "aws_db_proxy": "name",
    "aws_elasticache_replication_group": "replication_group_id",
    "aws_elasticache_subnet_group": "name",
    "aws_secretsmanager_secret": "name",
    "aws_ssm_parameter": "name",
    "aws_dynamodb_table": "name",
    "aws_cloudwatch_event_bus": "name",
    "aws_cloudwatch_event_rule": "name",
    "aws_sqs_queue": "name",
    "aws_sns_topic": "name",
    "aws_apigatewayv2_api": "name",
    "aws_lb": "name",
    "aws_lb_target_group": "name",
    "aws_launch_template": "name",
    "aws_autoscaling_group": "name",
    "aws_iam_instance_profile": "name",
    "aws_cloudwatch_metric_alarm": "alarm_name",
    "aws_wafv2_web_acl": "name",
    "aws_apigatewayv2_vpc_link": "name",
    "aws_cloudfront_cache_policy": "name",
    "aws_cloudfront_response_headers_policy": "name",
    "aws_cloudfront_origin_access_control": "name",
    "aws_cloudwatch_log_resource_policy": "policy_name",
    "aws_kinesis_firehose_delivery_stream": "name",
    # A regional custom domain: one per name, account and region.
    "aws_apigatewayv2_domain_name": "domain_name",
    "aws_cloudtrail": "name",
    "aws_config_configuration_recorder": "name",
    "aws_config_delivery_channel": "name",
    "aws_config_config_rule": "name",
    "aws_accessanalyzer_analyzer": "analyzer_name",
    "aws_backup_vault": "name",
    # Composite and metric alarms share one name space (a second put overwrites the first).
    "aws_cloudwatch_composite_alarm": "alarm_name",
    "aws_cloudwatch_dashboard": "dashboard_name",
    # Logs Insights allows equal names, but two environments' saved queries must not look alike.
    "aws_cloudwatch_query_definition": "name",
    "aws_backup_plan": "name",
    "aws_lambda_layer_version": "layer_name",
}
# Types that share another type's name space.
NAME_SPACES: Mapping[str, str] = {"aws_cloudwatch_composite_alarm": "aws_cloudwatch_metric_alarm"}
# Types whose name is unique only within a parent that is itself uniquely named.
SCOPED: Mapping[str, str] = {
    "aws_iam_role_policy": "within its role",
    "aws_security_group": "within its VPC, which is the environment's own",
    "aws_apigatewayv2_stage": "within its API",
    "aws_autoscaling_policy": "within its Auto Scaling group",
    "aws_autoscaling_schedule": "within its Auto Scaling group",
    # A hosted zone's name is the configured domain: zones may share one (Route 53 tells them apart by id).
    "aws_route53_zone": "by id, the domain being the environment's own",
    "aws_route53_record": "within its hosted zone",
    "aws_route53_key_signing_key": "within its hosted zone",
    "aws_cloudwatch_log_subscription_filter": "within its log group",
    "aws_cloudwatch_log_stream": "within its log group",
    "aws_cloudwatch_log_metric_filter": "within its log group",
    # Named after the protection plan it turns on, within its detector.
    "aws_guardduty_detector_feature": "within its detector",
    "aws_backup_selection": "within its backup plan",
}
NAME_LIKE = ("name", "bucket", "function_name", "identifier", "cluster_identifier", "replication_group_id", "rule_name")


def physical_names(document: Document) -> Iterator[tuple[str, str]]:
    """(resource type, physical name) of every named resource, and the state's key."""
    for kind, resources in document.get("resource", {}).items():
        attribute = PHYSICAL_NAME.get(kind)
        for address, resource in resources.items():
            if attribute is not None:
                space = NAME_SPACES.get(kind, kind)
                yield from ((space, name) for name in _instance_names(resource, attribute))
            elif kind not in SCOPED and any(_literal(resource.get(key)) for key in NAME_LIKE):
                raise ValueError(
                    f"{kind}.{address} has a physical name this check does not know; add it to PHYSICAL_NAME"
                )
    backend = document.get("terraform", {}).get("backend", {})
    for settings in backend.values():
        yield "state", str(settings.get("key") or settings.get("path"))


EACH_VALUE = re.compile(r"\$\{each\.value\.(\w+)\}")


def _instance_names(resource: Mapping[str, Any], attribute: str) -> list[str]:
    """The resource's name, or each instance's when a `for_each` map supplies it (`${each.value.name}`)."""
    value = str(resource[attribute])
    each = EACH_VALUE.fullmatch(value)
    if each is None or "for_each" not in resource:
        return [value]
    return [str(instance[each.group(1)]) for instance in resource["for_each"].values()]


def _literal(value: object) -> bool:
    """A name of this resource, not a reference to another one (`bucket = "${aws_s3_bucket.x.id}"`)."""
    return isinstance(value, str) and not value.startswith("${")


def shared_names(first: Document, second: Document) -> set[tuple[str, str]]:
    """Physical names both documents claim."""
    return set(physical_names(first)) & set(physical_names(second))
