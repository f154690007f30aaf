"""The payments HTTP API: POST /payments -> payment_validation (payload 2.0).

IAM authorization (callers sign with SigV4), a stage with KMS-encrypted access logs and
throttling, and CORS only for configured origins (validation refuses "*" when protected).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktn_provider_aws.apigatewayv2_api import Apigatewayv2Api, Apigatewayv2ApiCorsConfiguration
from cdktn_provider_aws.apigatewayv2_integration import Apigatewayv2Integration
from cdktn_provider_aws.apigatewayv2_route import Apigatewayv2Route
from cdktn_provider_aws.apigatewayv2_stage import (
    Apigatewayv2Stage,
    Apigatewayv2StageAccessLogSettings,
    Apigatewayv2StageDefaultRouteSettings,
)
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.lambda_function import LambdaFunction
from cdktn_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from lib.config import PaymentsConfig
from lib.naming import Names

ROUTE = "POST /payments"
INTEGRATION_TIMEOUT_MS = 10_000
# Request metadata only: never bodies or headers that could carry card data.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "caller": "$context.identity.caller",
}


@dataclass(frozen=True, kw_only=True)
class ApiProps:
    config: PaymentsConfig
    names: Names
    handler: LambdaFunction
    logs_key: KmsKey
    log_retention_days: int
    account_id: str


class PaymentsApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: ApiProps) -> None:
        super().__init__(scope, construct_id)
        names, config = props.names, props.config
        cors = (
            Apigatewayv2ApiCorsConfiguration(
                allow_origins=list(config.cors_origins),
                allow_methods=["POST", "OPTIONS"],
                allow_headers=[
                    "content-type",
                    "idempotency-key",
                    "authorization",
                    "x-amz-date",
                    "x-amz-security-token",
                ],
                max_age=300,
            )
            if config.cors_origins
            else None
        )
        self.api = Apigatewayv2Api(
            self,
            "api",
            name=names.make("http_api", "payments-api"),
            protocol_type="HTTP",
            description="Payments API",
            cors_configuration=cors,
        )
        integration = Apigatewayv2Integration(
            self,
            "validation",
            api_id=self.api.id,
            integration_type="AWS_PROXY",
            integration_uri=props.handler.invoke_arn,
            payload_format_version="2.0",
            timeout_milliseconds=INTEGRATION_TIMEOUT_MS,
        )
        Apigatewayv2Route(
            self,
            "route",
            api_id=self.api.id,
            route_key=ROUTE,
            target=f"integrations/{integration.id}",
            authorization_type="AWS_IAM",
        )
        access_logs = CloudwatchLogGroup(
            self,
            "access_logs",
            name=names.record("log_group", f"/aws/apigateway/{names.prefix}-payments-api-{names.suffix}"),
            retention_in_days=props.log_retention_days,
            kms_key_id=props.logs_key.arn,
        )
        self.stage = Apigatewayv2Stage(
            self,
            "stage",
            api_id=self.api.id,
            name="$default",
            auto_deploy=True,
            access_log_settings=Apigatewayv2StageAccessLogSettings(
                destination_arn=access_logs.arn, format=json.dumps(ACCESS_LOG_FORMAT)
            ),
            default_route_settings=Apigatewayv2StageDefaultRouteSettings(
                throttling_rate_limit=config.throttle_rate_per_second,
                throttling_burst_limit=config.throttle_burst,
                detailed_metrics_enabled=True,
            ),
        )
        LambdaPermission(
            self,
            "invoke_validation",
            action="lambda:InvokeFunction",
            function_name=props.handler.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{self.api.execution_arn}/*/*/payments",
            source_account=props.account_id,
        )
