"""One Auto Scaling group of Amazon Linux 2023 instances running the health service.

The launch template: the AMI from AWS's public SSM parameter (never a literal id), IMDSv2 only
with one hop (containers or proxies on the host cannot reach the instance's credentials), no
public address, an encrypted gp3 root volume with the compute key, detailed monitoring, and the
user data that verifies and installs the release. The group spreads over the private subnets,
replaces instances the load balancer finds unhealthy, scales in steps on CPU (out above the
configured percentage, in below the other), and keeps a higher floor during business hours
where configured. Scheduled actions pass -1 for the sizes they leave alone: an omitted size
would be 0.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from cdktn import ITerraformDependable, TerraformResourceLifecycle
from cdktn_provider_aws.autoscaling_group import (
    AutoscalingGroup,
    AutoscalingGroupInstanceRefresh,
    AutoscalingGroupInstanceRefreshPreferences,
    AutoscalingGroupLaunchTemplate,
    AutoscalingGroupTag,
)
from cdktn_provider_aws.autoscaling_policy import AutoscalingPolicy, AutoscalingPolicyStepAdjustment
from cdktn_provider_aws.autoscaling_schedule import AutoscalingSchedule
from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktn_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateIamInstanceProfile,
    LaunchTemplateMetadataOptions,
    LaunchTemplateMonitoring,
    LaunchTemplateNetworkInterfaces,
    LaunchTemplateTagSpecifications,
)
from cdktn_provider_aws.security_group import SecurityGroup
from constructs import Construct

from lib.compute.artifact import InstallSettings, user_data
from lib.config import FleetConfig
from lib.core.context import StackContext
from lib.core.tags import GUARDDUTY_AGENT_TAG

ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023's root device name
WARMUP_SECONDS = 300
UNCHANGED = -1  # a scheduled action's "leave this size as it is"
# Steps above the scale-out threshold: +1 instance up to 20 points over it, +2 beyond.
SCALE_OUT_STEPS = ((0, 20, 1), (20, None, 2))
GROUP_METRICS = (
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
)


@dataclass(frozen=True, kw_only=True)
class FleetProps:
    config: FleetConfig
    # "web", "blue", "green" or "batch": in every name, and the release's label on /version.
    role: str
    image_id: str
    install: InstallSettings
    subnet_ids: Sequence[str]
    security_group: SecurityGroup
    instance_profile: IamInstanceProfile
    volume_key: KmsKey
    # What must exist before instances start (the release object the user data fetches).
    launch_after: Sequence[ITerraformDependable] = ()
    # Empty for a fleet outside the load balancer (batch), which EC2's status checks watch instead.
    target_group_arns: Sequence[str] = ()


class Fleet(Construct):
    """`group` and its `launch_template`; `scaling_alarms` drive the step policies."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: FleetProps) -> None:
        super().__init__(scope, construct_id)
        config, names = props.config, context.names
        name = names.make("autoscaling_group", props.role)
        tags = {**context.config.default_tags(), "Name": name, "Role": props.role}
        if context.config.guardduty_agent:
            # GuardDuty's inclusion tag: its automated configuration installs and runs the Runtime
            # Monitoring agent here, which reaches the guardduty-data endpoint (reachability checks).
            tags[GUARDDUTY_AGENT_TAG] = "true"
        self.launch_template = LaunchTemplate(
            self,
            "launch_template",
            name=names.make("launch_template", props.role),
            description=f"TAP health service ({props.role}) on Amazon Linux 2023",
            image_id=props.image_id,
            instance_type=config.instance_type,
            update_default_version=True,
            # ebs_optimized is left to the instance type: every current-generation type is
            # EBS-optimized by default, and "true" would fail launches of the few that are not.
            iam_instance_profile=LaunchTemplateIamInstanceProfile(arn=props.instance_profile.arn),
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            monitoring=LaunchTemplateMonitoring(enabled=True),
            network_interfaces=[
                LaunchTemplateNetworkInterfaces(
                    device_index=0,
                    associate_public_ip_address="false",
                    delete_on_termination="true",
                    security_groups=[props.security_group.id],
                )
            ],
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name=ROOT_DEVICE,
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        volume_size=config.root_volume_gb,
                        volume_type="gp3",
                        encrypted="true",
                        kms_key_id=props.volume_key.arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            # The agent names its metrics by this group itself (no EC2 tag lookup, which would
            # need ec2:DescribeTags and an ec2 endpoint).
            user_data=base64.b64encode(user_data(props.install, group_name=name).encode()).decode(),
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=kind, tags=tags)
                for kind in ("instance", "volume", "network-interface")
            ],
        )
        self.group = AutoscalingGroup(
            self,
            "group",
            name=name,
            min_size=config.min_size,
            max_size=config.max_size,
            desired_capacity=config.desired_capacity,
            vpc_zone_identifier=list(props.subnet_ids),
            launch_template=AutoscalingGroupLaunchTemplate(
                id=self.launch_template.id, version=str(self.launch_template.latest_version)
            ),
            target_group_arns=list(props.target_group_arns) or None,
            # EC2 status checks decide replacement, and the target group's deep /health decides
            # routing. ELB health checks would replace every instance while the database is
            # down, which new instances cannot fix. (Checkov's CKV2_AWS_15 asks for ELB checks, but
            # only on groups joined through aws_autoscaling_attachment, so it does not apply here.)
            health_check_type="EC2",
            health_check_grace_period=WARMUP_SECONDS,
            default_instance_warmup=WARMUP_SECONDS,
            enabled_metrics=list(GROUP_METRICS),
            metrics_granularity="1Minute",
            # A new launch template version (a new release or AMI) replaces instances in a rolling way.
            instance_refresh=AutoscalingGroupInstanceRefresh(
                strategy="Rolling", preferences=AutoscalingGroupInstanceRefreshPreferences(min_healthy_percentage=50)
            ),
            tag=[
                AutoscalingGroupTag(key=key, value=value, propagate_at_launch=True)
                for key, value in sorted(tags.items())
            ],
            # Scaling moves the desired capacity, and business hours the minimum: a later apply
            # must not move them back.
            lifecycle=TerraformResourceLifecycle(
                ignore_changes=["desired_capacity", "min_size"] if config.business_hours else ["desired_capacity"]
            ),
            depends_on=list(props.launch_after) or None,
        )
        self.scaling_alarms = self._step_scaling(context, props)
        if config.business_hours is not None:
            self._business_hours(context, props)

    def _step_scaling(self, context: StackContext, props: FleetProps) -> dict[str, CloudwatchMetricAlarm]:
        config, names, group = props.config, context.names, self.group
        scale_out = AutoscalingPolicy(
            self,
            "scale_out",
            name=f"{group.name}-cpu-out",
            autoscaling_group_name=group.name,
            policy_type="StepScaling",
            adjustment_type="ChangeInCapacity",
            metric_aggregation_type="Average",
            estimated_instance_warmup=WARMUP_SECONDS,
            step_adjustment=[
                AutoscalingPolicyStepAdjustment(
                    metric_interval_lower_bound=str(lower),
                    metric_interval_upper_bound=None if upper is None else str(upper),
                    scaling_adjustment=change,
                )
                for lower, upper, change in SCALE_OUT_STEPS
            ],
        )
        scale_in = AutoscalingPolicy(
            self,
            "scale_in",
            name=f"{group.name}-cpu-in",
            autoscaling_group_name=group.name,
            policy_type="StepScaling",
            adjustment_type="ChangeInCapacity",
            metric_aggregation_type="Average",
            step_adjustment=[AutoscalingPolicyStepAdjustment(metric_interval_upper_bound="0", scaling_adjustment=-1)],
        )
        thresholds = {
            # Two minutes above to add capacity; ten below to remove it, so it does not flap.
            "cpu_high": ("GreaterThanOrEqualToThreshold", config.scale_out_cpu_percent, 2, scale_out),
            "cpu_low": ("LessThanOrEqualToThreshold", config.scale_in_cpu_percent, 10, scale_in),
        }
        return {
            alarm_id: CloudwatchMetricAlarm(
                self,
                alarm_id,
                alarm_name=names.make("alarm", props.role, alarm_id.replace("_", "-")),
                alarm_description=f"Scales {group.name} {'out' if alarm_id == 'cpu_high' else 'in'} on average CPU",
                namespace="AWS/EC2",
                metric_name="CPUUtilization",
                dimensions={"AutoScalingGroupName": group.name},
                statistic="Average",
                period=60,
                evaluation_periods=periods,
                comparison_operator=operator,
                threshold=threshold,
                # No data means no instances report: nothing to scale on.
                treat_missing_data="notBreaching",
                alarm_actions=[policy.arn],
            )
            for alarm_id, (operator, threshold, periods, policy) in thresholds.items()
        }

    def _business_hours(self, context: StackContext, props: FleetProps) -> None:
        hours, config = props.config.business_hours, props.config
        assert hours is not None
        for action, recurrence, floor in (
            ("business-hours-start", hours.start, hours.min_size),
            ("business-hours-end", hours.end, config.min_size),
        ):
            AutoscalingSchedule(
                self,
                action.replace("-", "_"),
                scheduled_action_name=f"{self.group.name}-{action}",
                autoscaling_group_name=self.group.name,
                recurrence=recurrence,
                time_zone=hours.time_zone,
                min_size=floor,
                # -1: unchanged (an omitted size would be 0); the group raises its desired
                # capacity to a higher minimum by itself.
                max_size=UNCHANGED,
                desired_capacity=UNCHANGED,
            )
