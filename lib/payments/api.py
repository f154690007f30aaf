"""The payments HTTP API: POST /payments -> payment_validation (payload 2.0).

IAM authorization (callers sign with SigV4), a stage with KMS-encrypted access logs and
throttling, and CORS only for configured origins (validation refuses "*" when protected).
"""

from __future__ import annotations

import json

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

from lib.config import PaymentsConfig
from lib.contracts import payments as contract
from lib.core.context import StackContext
from lib.core.log_group import encrypted_log_group

ROUTE = f"POST {contract.PAYMENTS_PATH}"
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


class PaymentsApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        context: StackContext,
        *,
        config: PaymentsConfig,
        handler: LambdaFunction,
        logs_key: KmsKey,
    ) -> None:
        super().__init__(scope, construct_id)
        names = context.names
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
            integration_uri=handler.invoke_arn,
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
        access_logs = encrypted_log_group(
            self,
            "access_logs",
            name=names.record("log_group", f"/aws/apigateway/{names.prefix}-payments-api-{names.suffix}"),
            key=logs_key,
            retention_days=context.config.lambdas.log_retention_days,
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
            function_name=handler.function_name,
            principal=context.principal("apigateway"),
            source_arn=f"{self.api.execution_arn}/*/*{contract.PAYMENTS_PATH}",
            source_account=context.account_id,
        )
