"""An API Gateway HTTP API in front of one Lambda function, secure by default.

IAM authorization on every route (callers sign with SigV4), a stage with auto-deploy, JSON access
logs of request metadata only (never bodies or headers that could carry card data) to a
KMS-encrypted log group kept for the PCI year, stage throttling, CORS only for listed origins
(validation refuses "*" in a protected environment), and an invoke permission scoped to the
API's own routes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktn_provider_aws.apigatewayv2_api import Apigatewayv2Api, Apigatewayv2ApiCorsConfiguration
from cdktn_provider_aws.apigatewayv2_integration import Apigatewayv2Integration
from cdktn_provider_aws.apigatewayv2_route import Apigatewayv2Route
from cdktn_provider_aws.apigatewayv2_stage import (
    Apigatewayv2Stage,
    Apigatewayv2StageAccessLogSettings,
    Apigatewayv2StageDefaultRouteSettings,
)
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.lambda_function import LambdaFunction
from cdktn_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from lib.config import PaymentRules
from lib.core.context import StackContext
from lib.core.log_group import encrypted_log_group

INTEGRATION_TIMEOUT_MS = 10_000
# Request metadata only: never bodies or headers that could carry card data.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "caller": "$context.identity.caller",
}
PATH_PARAMETER = re.compile(r"\{[A-Za-z0-9_]+\}")
SIGV4_HEADERS = ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")


@dataclass(frozen=True, kw_only=True)
class HttpApiProps:
    """`routes` maps stable names to route keys ("POST /payments"), all served by `handler`."""

    name: str  # the API's name; its log group is /aws/apigateway/<name>
    description: str
    routes: Mapping[str, str]
    handler: LambdaFunction
    rules: PaymentRules  # CORS origins and throttling
    logs_key: KmsKey
    stage_name: str = "$default"
    cors_headers: Sequence[str] = ("content-type",)


class IamHttpApi(Construct):
    """`api` and `stage` are what other layers (alarms, outputs) wire to."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: HttpApiProps) -> None:
        super().__init__(scope, construct_id)
        names, rules = context.names, props.rules
        methods = sorted({route.split(" ", 1)[0] for route in props.routes.values()} | {"OPTIONS"})
        cors = (
            Apigatewayv2ApiCorsConfiguration(
                allow_origins=list(rules.cors_origins),
                allow_methods=methods,
                allow_headers=[*props.cors_headers, *SIGV4_HEADERS],
                max_age=300,
            )
            if rules.cors_origins
            else None
        )
        self.api = Apigatewayv2Api(
            self,
            "api",
            name=props.name,
            protocol_type="HTTP",
            description=props.description,
            cors_configuration=cors,
        )
        integration = Apigatewayv2Integration(
            self,
            "integration",
            api_id=self.api.id,
            integration_type="AWS_PROXY",
            integration_uri=props.handler.invoke_arn,
            payload_format_version="2.0",
            timeout_milliseconds=INTEGRATION_TIMEOUT_MS,
        )
        for route_name, route_key in props.routes.items():
            Apigatewayv2Route(
                self,
                f"route_{route_name}",
                api_id=self.api.id,
                route_key=route_key,
                target=f"integrations/{integration.id}",
                authorization_type="AWS_IAM",
            )
        access_logs = encrypted_log_group(
            self,
            "access_logs",
            name=names.record("log_group", f"/aws/apigateway/{props.name}"),
            key=props.logs_key,
            retention_days=context.config.lambdas.log_retention_days,
        )
        self.stage = Apigatewayv2Stage(
            self,
            "stage",
            api_id=self.api.id,
            name=props.stage_name,
            auto_deploy=True,
            access_log_settings=Apigatewayv2StageAccessLogSettings(
                destination_arn=access_logs.arn, format=json.dumps(ACCESS_LOG_FORMAT)
            ),
            default_route_settings=Apigatewayv2StageDefaultRouteSettings(
                throttling_rate_limit=rules.throttle_rate_per_second,
                throttling_burst_limit=rules.throttle_burst,
                detailed_metrics_enabled=True,
            ),
        )
        for route_name, route_key in props.routes.items():
            method, path = route_key.split(" ", 1)
            LambdaPermission(
                self,
                f"invoke_{route_name}",
                action="lambda:InvokeFunction",
                function_name=props.handler.function_name,
                principal=context.principal("apigateway"),
                # Any stage, this route only (a `{name}` path parameter matches one segment).
                source_arn=f"{self.api.execution_arn}/*/{method}{PATH_PARAMETER.sub('*', path)}",
                source_account=context.account_id,
            )
