"""The Application Load Balancer: HTTPS only (HTTP redirects), in front of the instances' target groups.

- Internet-facing in the public subnets (documents 000, 002, 003), or internal in the private
  subnets for the HTTP API's VPC link only (document 004).
- Its security group admits 443 (and 80, only to redirect) from the internet when public, and
  nothing when internal (the VPC link's group is admitted by the layer that adds the link).
- TLS 1.2+ to clients (the configured ELB policy) and HTTPS to the targets: instances serve the
  health service over TLS with a certificate generated on the instance (ALB does not verify
  target certificates; the point is that nothing crosses the VPC in clear text).
- Invalid header fields dropped, desync mitigation strictest, deletion protection when protected,
  access logs into a dedicated bucket (SSE-S3: the only encryption ELB delivers into).
- One target group, or blue and green weighted on the HTTPS listener (document 004).
- `/health` is answered 404 at public listeners: the ALB checks targets directly, and the
  database's state is nobody's business outside the VPC.
- Behind CloudFront (`origin_guard`), its group admits only CloudFront's origin-facing prefix
  list on 443 (no port 80), and the listener forwards only requests carrying the distribution's
  origin header; anything else gets 403.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktn_provider_aws.lb import Lb, LbAccessLogs
from cdktn_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionFixedResponse,
    LbListenerDefaultActionForward,
    LbListenerDefaultActionForwardStickiness,
    LbListenerDefaultActionForwardTargetGroup,
    LbListenerDefaultActionRedirect,
)
from cdktn_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleActionFixedResponse,
    LbListenerRuleActionForward,
    LbListenerRuleActionForwardStickiness,
    LbListenerRuleActionForwardTargetGroup,
    LbListenerRuleCondition,
    LbListenerRuleConditionHttpHeader,
    LbListenerRuleConditionPathPattern,
)
from cdktn_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktn_provider_aws.s3_bucket import S3Bucket
from cdktn_provider_aws.security_group import SecurityGroup
from cdktn_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from lib.config import PCI_LOG_LIFECYCLE, LoadBalancerConfig
from lib.core.bucket import SecureBucket, SecureBucketProps
from lib.core.context import StackContext
from lib.core.security_groups import HTTPS, allow, workload_security_group
from lib.edge.firewall import ORIGIN_HEADER

HTTP = 80
ANYWHERE = "0.0.0.0/0"
LOG_PREFIX = "alb"
HIDDEN_PATHS = ("/health",)
FORBIDDEN = LbListenerDefaultActionFixedResponse(
    content_type="application/json", status_code="403", message_body='{"message":"Forbidden"}'
)


@dataclass(frozen=True, kw_only=True)
class LoadBalancerProps:
    config: LoadBalancerConfig
    vpc_id: str
    # Public subnets for an internet-facing load balancer, private ones for an internal one.
    subnet_ids: Sequence[str]
    certificate_arn: str
    # Where the targets run and listen: the load balancer's group is admitted there on `target_port`.
    target_security_group: SecurityGroup
    target_port: int
    access_log_bucket: S3Bucket
    # Behind CloudFront: who may connect, and the header value that proves the distribution sent it.
    origin_guard: OriginGuard | None = None


@dataclass(frozen=True, kw_only=True)
class OriginGuard:
    # CloudFront's origin-facing managed prefix list (one rule that weighs as its max entries).
    prefix_list_id: str
    # A value only the distribution sends; see lib/edge/cdn.py for where it comes from.
    header_value: str


class LoadBalancer(Construct):
    """`target_groups` by colour ("web", or "blue" and "green"); `https_listener` for private integrations."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: LoadBalancerProps) -> None:
        super().__init__(scope, construct_id)
        config, names = props.config, context.names
        self.internal = config.internal
        self.security_group = workload_security_group(
            self,
            "security_group",
            names=names,
            vpc_id=props.vpc_id,
            purpose="alb",
            description=(
                "Internal load balancer: the HTTP API's VPC link only"
                if config.internal
                else "Internet-facing load balancer: HTTPS, and HTTP only to redirect"
            ),
        )
        guard = props.origin_guard
        if guard is not None:
            VpcSecurityGroupIngressRule(
                self,
                "ingress_cloudfront",
                security_group_id=self.security_group.id,
                prefix_list_id=guard.prefix_list_id,
                ip_protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
                description="HTTPS from CloudFront's origin-facing servers only",
            )
        elif not config.internal:
            for port, why in ((HTTPS, "HTTPS from the internet"), (HTTP, "HTTP from the internet, redirected")):
                VpcSecurityGroupIngressRule(
                    self,
                    f"ingress_{port}",
                    security_group_id=self.security_group.id,
                    cidr_ipv4=ANYWHERE,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    description=why,
                )
        allow(
            self,
            "to_targets",
            source=self.security_group,
            target=props.target_security_group,
            port=props.target_port,
            description="Load balancer to the application instances",
        )
        self.log_bucket = self._log_bucket(context, props.access_log_bucket)
        self.load_balancer = Lb(
            self,
            "load_balancer",
            name=names.make("load_balancer", "alb"),
            load_balancer_type="application",
            internal=config.internal,
            security_groups=[self.security_group.id],
            subnets=list(props.subnet_ids),
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_cross_zone_load_balancing=True,
            enable_deletion_protection=context.lifecycle.deletion_protection,
            idle_timeout=config.idle_timeout_seconds,
            access_logs=LbAccessLogs(bucket=self.log_bucket.name, enabled=True, prefix=LOG_PREFIX),
            depends_on=[self.log_bucket.policy_resource],
        )
        # Traffic per target group: blue and green by their configured percentages, or one group.
        blue_green = config.blue_green
        self.weights: Mapping[str, int] = (
            {"blue": blue_green.blue_weight, "green": blue_green.green_weight} if blue_green else {"web": 100}
        )
        self.target_groups: dict[str, LbTargetGroup] = {
            colour: self._target_group(context, colour, props) for colour in self.weights
        }
        self.https_listener = LbListener(
            self,
            "https",
            load_balancer_arn=self.load_balancer.arn,
            port=HTTPS,
            protocol="HTTPS",
            ssl_policy=config.ssl_policy,
            certificate_arn=props.certificate_arn,
            default_action=[
                LbListenerDefaultAction(type="forward", forward=self._forward())
                if guard is None
                else LbListenerDefaultAction(type="fixed-response", fixed_response=FORBIDDEN)
            ],
        )
        if guard is not None:
            self._forward_from_cdn(guard)
        if config.internal:
            return
        self._hide_health()
        if guard is not None:
            return
        LbListener(
            self,
            "http_redirect",
            load_balancer_arn=self.load_balancer.arn,
            port=HTTP,
            protocol="HTTP",
            default_action=[
                LbListenerDefaultAction(
                    type="redirect",
                    redirect=LbListenerDefaultActionRedirect(port=str(HTTPS), protocol="HTTPS", status_code="HTTP_301"),
                )
            ],
        )

    def _hide_health(self) -> None:
        LbListenerRule(
            self,
            "hide_health",
            listener_arn=self.https_listener.arn,
            priority=1,
            condition=[
                LbListenerRuleCondition(path_pattern=LbListenerRuleConditionPathPattern(values=list(HIDDEN_PATHS)))
            ],
            action=[
                LbListenerRuleAction(
                    type="fixed-response",
                    fixed_response=LbListenerRuleActionFixedResponse(
                        content_type="application/json", status_code="404", message_body="{}"
                    ),
                )
            ],
        )

    def _forward_from_cdn(self, guard: OriginGuard) -> None:
        LbListenerRule(
            self,
            "from_cdn",
            listener_arn=self.https_listener.arn,
            priority=10,
            condition=[
                LbListenerRuleCondition(
                    http_header=LbListenerRuleConditionHttpHeader(
                        http_header_name=ORIGIN_HEADER, values=[guard.header_value]
                    )
                )
            ],
            action=[
                LbListenerRuleAction(
                    type="forward",
                    forward=LbListenerRuleActionForward(
                        target_group=[
                            LbListenerRuleActionForwardTargetGroup(arn=group.arn, weight=self.weights[colour])
                            for colour, group in self.target_groups.items()
                        ],
                        stickiness=LbListenerRuleActionForwardStickiness(enabled=False, duration=1),
                    ),
                )
            ],
        )

    def _forward(self) -> LbListenerDefaultActionForward:
        return LbListenerDefaultActionForward(
            target_group=[
                LbListenerDefaultActionForwardTargetGroup(arn=group.arn, weight=self.weights[colour])
                for colour, group in self.target_groups.items()
            ],
            stickiness=LbListenerDefaultActionForwardStickiness(enabled=False, duration=1),
        )

    def _target_group(self, context: StackContext, colour: str, props: LoadBalancerProps) -> LbTargetGroup:
        config = props.config
        return LbTargetGroup(
            self,
            f"target_group_{colour}",
            name=context.names.make("target_group", colour),
            port=props.target_port,
            protocol="HTTPS",
            target_type="instance",
            vpc_id=props.vpc_id,
            deregistration_delay=str(config.deregistration_delay_seconds),
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                protocol="HTTPS",
                port="traffic-port",
                path=config.health_check_path,
                matcher="200",
                healthy_threshold=config.healthy_threshold,
                unhealthy_threshold=config.unhealthy_threshold,
                interval=config.health_check_interval_seconds,
                timeout=config.health_check_timeout_seconds,
            ),
            tags={"Colour": colour},
        )

    def _log_bucket(self, context: StackContext, access_log_bucket: S3Bucket) -> SecureBucket:
        bucket = SecureBucket(
            self,
            "access_logs",
            context.lifecycle,
            SecureBucketProps(
                name=context.names.make("s3_bucket", "alb-logs"),
                lifecycle=PCI_LOG_LIFECYCLE,
                # ELB delivers access logs only into SSE-S3 buckets (baseline entry CKV_AWS_145).
                kms_key=None,
                access_log_bucket=access_log_bucket,
            ),
        )
        bucket.add_policy_statements(
            {
                "Sid": "LoadBalancerAccessLogDelivery",
                "Effect": "Allow",
                "Principal": context.region.elb_log_delivery_principal(),
                "Action": "s3:PutObject",
                "Resource": f"{bucket.arn}/{LOG_PREFIX}/AWSLogs/{context.account_id}/*",
            }
        )
        return bucket
