"""The payment application as synthesized: functions, IAM, queues, bus, rules, topics, API, X-Ray."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from lib.config import PaymentsConfig
from lib.core.function import LAMBDA_ROOT
from lib.errors import ConfigError
from lib.profiles import PROFILES
from lib.synth import synthesize
from tests.conftest import SUFFIX, Document, Synthesized, iter_statements, name_prefix, path_of, policy, ref, resources

CONCURRENCY = {"secure-platform": 5, "serverless-payments": 10, "full": 10}
FUNCTIONS = ("payment_validation", "fraud_detection", "transaction_processing")


def functions(doc: Document) -> dict[str, dict[str, Any]]:
    found = resources(doc, "aws_lambda_function")
    return {
        code: found[f"payments_functions_{code}_function"]
        for code in FUNCTIONS
        if f"payments_functions_{code}_function" in found
    }


def role_statements(doc: Document, code: str) -> dict[str, dict[str, Any]]:
    role_policy = resources(doc, "aws_iam_role_policy")[f"payments_functions_{code}_role_policy"]
    return {s["Sid"]: s for s in iter_statements(policy(role_policy))}


def named(doc: Document, kind: str, path: str) -> tuple[str, dict[str, Any]]:
    return path, resources(doc, kind)[path]


def key_token(doc: Document, purpose: str) -> str:
    return ref(doc, "aws_kms_key", f"foundation_keys_{purpose}", "arn")


def profile_of(doc: Document) -> str:
    return str(doc["provider"]["aws"][0]["default_tags"][0]["tags"]["Profile"])


def test_only_the_payment_profiles_have_the_application(doc: Document, profile: str) -> None:
    assert bool(functions(doc)) == (profile in CONCURRENCY)
    # Document 001's transactions API is the one other HTTP API (tests/unit/test_transactions_api.py).
    apis = {api["description"] for api in resources(doc, "aws_apigatewayv2_api").values()}
    assert ("Payments API" in apis) == (profile in CONCURRENCY)
    assert bool(resources(doc, "aws_cloudwatch_event_bus")) == (profile in CONCURRENCY)


@pytest.fixture(scope="module", params=sorted(CONCURRENCY))
def payments_doc(request: pytest.FixtureRequest, synthesized: Synthesized) -> Document:
    return synthesized(request.param)


def test_functions_are_private_traced_limited_logged_with_a_dlq(payments_doc: Document) -> None:
    profile = profile_of(payments_doc)
    private = {
        ref(payments_doc, "aws_subnet", n)
        for n, s in resources(payments_doc, "aws_subnet").items()
        if s["tags"]["Tier"] == "private"
    }
    _, dlq = named(payments_doc, "aws_sqs_queue", "payments_functions_dlq_queue")
    found = functions(payments_doc)
    assert set(found) == set(FUNCTIONS)
    for code, fn in found.items():
        assert fn["runtime"] == "python3.13" and fn["handler"] == f"{code}.handler"
        assert fn["reserved_concurrent_executions"] == CONCURRENCY[profile]
        assert fn["tracing_config"] == {"mode": "Active"}
        assert set(fn["vpc_config"]["subnet_ids"]) == private
        assert fn["dead_letter_config"]["target_arn"] == ref(
            payments_doc, "aws_sqs_queue", "payments_functions_dlq_queue", "arn"
        )
        assert fn["layers"] == [
            ref(payments_doc, "aws_lambda_layer_version", "foundation_code_signing_powertools_layer", "arn")
        ]
        assert fn["kms_key_arn"] == key_token(payments_doc, "events")
        # Secrets are named by ARN (read at run time), never passed as values.
        assert not any(
            word in k.lower()
            for k in fn["environment"]["variables"]
            if not k.endswith("_SECRET_ARN")
            for word in ("password", "secret", "token")
        )
        log_group_name = path_of(fn["logging_config"]["log_group"].split(".")[1])
        group = resources(payments_doc, "aws_cloudwatch_log_group")[log_group_name]
        assert group["kms_key_id"] == key_token(payments_doc, "logs") and group["retention_in_days"] == 365
    assert dlq["kms_master_key_id"] == key_token(payments_doc, "events")
    env = found["payment_validation"]["environment"]["variables"]
    assert env["ALLOWED_CURRENCIES"] == "USD,EUR,GBP" and env["AMOUNT_CEILING"] == "10000000"
    assert env["FRAUD_VELOCITY_LIMIT"] == "10"


def test_iam_names_each_functions_own_resources(payments_doc: Document) -> None:
    validation = role_statements(payments_doc, "payment_validation")
    assert validation["IdempotencyRecords"]["Resource"].startswith(
        "${aws_dynamodb_table.payments_functions_idempotency_table"
    )
    assert validation["Enqueue"]["Resource"].startswith("${aws_sqs_queue.payments_messaging_transaction_queue_")
    assert validation["ScoreFraud"]["Resource"].startswith(
        "${aws_lambda_function.payments_functions_fraud_detection_function"
    )
    fraud = role_statements(payments_doc, "fraud_detection")
    assert not any(action.startswith(("dynamodb:", "kms:Encrypt")) for s in fraud.values() for action in s["Action"])
    processing = role_statements(payments_doc, "transaction_processing")
    assert processing["Announce"]["Resource"].startswith("${aws_cloudwatch_event_bus.payments_messaging_bus")
    if "RecordTransactions" in processing:  # the DynamoDB store (document 004)
        assert processing["RecordTransactions"]["Resource"].startswith("${aws_dynamodb_table.data_transactions_table")
    else:  # the ledger: IAM authentication through the proxy, as the application user only
        connect = processing["ConnectToTheLedgerThroughTheProxy"]
        assert connect["Action"] == ["rds-db:connect"]
        assert connect["Resource"].endswith(":dbuser:${local.data_database_proxy_resource_id}/tap_app") or (
            "dbuser:${local." in connect["Resource"] and connect["Resource"].endswith("/tap_app")
        )
        assert validation["ConnectToTheLedgerThroughTheProxy"] == connect
        assert not any(action.startswith("dynamodb:") for action in processing["Announce"]["Action"])
    for statements in (validation, fraud, processing):
        for sid, statement in statements.items():
            assert all(not action.endswith("*") for action in statement["Action"]), sid
            if statement["Resource"] == "*":
                assert sid == "DescribeInterfacesAndWriteTraces"


def test_idempotency_table_and_event_source_mapping(payments_doc: Document) -> None:
    _, table = named(payments_doc, "aws_dynamodb_table", "payments_functions_idempotency_table")
    assert (
        table["name"] == f"{name_prefix(profile_of(payments_doc))}-idempotency-{SUFFIX}" and table["hash_key"] == "id"
    )
    assert table["ttl"] == {"attribute_name": "expiration", "enabled": True}
    assert table["server_side_encryption"]["kms_key_arn"] == key_token(payments_doc, "dynamodb")
    mappings = resources(payments_doc, "aws_lambda_event_source_mapping")
    assert set(mappings) == {"payments_functions_transaction_queue_source", "payments_functions_dead_letter_source"}
    queue = mappings["payments_functions_transaction_queue_source"]
    assert queue["event_source_arn"] == ref(
        payments_doc, "aws_sqs_queue", "payments_messaging_transaction_queue", "arn"
    )
    assert queue["function_name"] == ref(
        payments_doc, "aws_lambda_function", "payments_functions_transaction_processing_function", "arn"
    )
    # What processing gives up on goes to the DLQ, whose consumer marks the payment failed.
    dead = mappings["payments_functions_dead_letter_source"]
    assert dead["event_source_arn"] == ref(
        payments_doc, "aws_sqs_queue", "payments_messaging_transaction_queue_dlq_queue", "arn"
    )
    assert dead["function_name"] == ref(
        payments_doc, "aws_lambda_function", "payments_functions_dead_letters_function", "arn"
    )
    dead_letters = resources(payments_doc, "aws_lambda_function")["payments_functions_dead_letters_function"]
    assert dead_letters["handler"] == "transaction_processing.dead_letter_handler"
    assert all(m["function_response_types"] == ["ReportBatchItemFailures"] for m in mappings.values())


def test_queues_are_encrypted_with_dlqs_and_admit_only_their_producers(payments_doc: Document) -> None:
    queues = resources(payments_doc, "aws_sqs_queue")
    assert all(q["kms_master_key_id"] == key_token(payments_doc, "events") for q in queues.values())
    for purpose in ("transaction", "analytics"):
        _, queue = named(payments_doc, "aws_sqs_queue", f"payments_messaging_{purpose}_queue")
        redrive = json.loads(queue["redrive_policy"])
        assert redrive["maxReceiveCount"] == 3
        assert redrive["deadLetterTargetArn"] == ref(
            payments_doc, "aws_sqs_queue", f"payments_messaging_{purpose}_queue_dlq_queue", "arn"
        )
    _, transaction_policy = named(payments_doc, "aws_sqs_queue_policy", "payments_messaging_transaction_queue_policy")
    statements = {s["Sid"]: s for s in iter_statements(policy(transaction_policy))}
    validation_role = statements["Producer"]["Principal"]["AWS"]
    assert validation_role.startswith("${aws_iam_role.payments_functions_payment_validation_role")
    assert statements["OnlyTheProducer"]["Effect"] == "Deny"
    assert statements["OnlyTheProducer"]["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": validation_role}}
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    _, analytics_policy = named(payments_doc, "aws_sqs_queue_policy", "payments_messaging_analytics_queue_policy")
    (rule_statement,) = [s for s in iter_statements(policy(analytics_policy)) if s["Sid"] == "EventBridgeRule"]
    assert rule_statement["Condition"]["ArnEquals"]["aws:SourceArn"].startswith(
        "${aws_cloudwatch_event_rule.payments_messaging_payment_succeeded"
    )


def test_bus_rules_and_targets(payments_doc: Document) -> None:
    (bus,) = resources(payments_doc, "aws_cloudwatch_event_bus").values()
    assert bus["name"] == f"{name_prefix(profile_of(payments_doc))}-payments-{SUFFIX}"
    assert bus["kms_key_identifier"] == key_token(payments_doc, "events")
    rules = {
        path.removeprefix("payments_messaging_"): r
        for path, r in resources(payments_doc, "aws_cloudwatch_event_rule").items()
    }
    assert json.loads(rules["payment_succeeded"]["event_pattern"]) == {
        "source": ["tap.payments"],
        "detail-type": ["payment.succeeded"],
    }
    assert json.loads(rules["payment_failed"]["event_pattern"]) == {
        "source": ["tap.payments"],
        "detail-type": ["payment.failed"],
    }
    failover = json.loads(rules["rds_failover"]["event_pattern"])
    assert failover["source"] == ["aws.rds"] and failover["detail"] == {"EventCategories": ["failover"]}
    assert "event_bus_name" not in rules["rds_failover"]  # RDS publishes on the default bus
    assert rules["payment_succeeded"]["event_bus_name"].startswith("${aws_cloudwatch_event_bus.payments_messaging_bus")
    targets = resources(payments_doc, "aws_cloudwatch_event_target")
    routed = {(path_of(t["rule"].split(".")[1]), t["arn"].split(".")[0]) for t in targets.values()}
    assert routed == {
        ("payments_messaging_payment_succeeded", "${aws_sqs_queue"),
        ("payments_messaging_payment_failed", "${aws_sns_topic"),
        ("payments_messaging_rds_failover", "${aws_sns_topic"),
    }
    assert len(targets) == 4
    dlqs = {t["dead_letter_config"]["arn"] for t in targets.values()}
    assert len(dlqs) == 4  # each target its own DLQ
    for target in targets.values():
        assert target["retry_policy"] == {"maximum_retry_attempts": 8, "maximum_event_age_in_seconds": 3600}


def test_topics_are_encrypted_and_admit_only_cloudwatch_and_their_rules(payments_doc: Document) -> None:
    # The payment tier's topics (the observability tier's alarms topic is tested there).
    topics = {p: t for p, t in resources(payments_doc, "aws_sns_topic").items() if p.startswith("payments_")}
    prefix = name_prefix(profile_of(payments_doc))
    assert {t["name"] for t in topics.values()} == {
        f"{prefix}-alerts-{SUFFIX}",
        f"{prefix}-failed-transactions-{SUFFIX}",
    }
    assert all(t["kms_master_key_id"] == key_token(payments_doc, "events") for t in topics.values())
    payment_policies = [
        p for n, p in resources(payments_doc, "aws_sns_topic_policy").items() if n.startswith("payments_")
    ]
    assert len(payment_policies) == len(topics)
    for topic_policy in payment_policies:
        allows = [s for s in iter_statements(policy(topic_policy)) if s["Effect"] == "Allow"]
        assert {s["Principal"]["Service"] for s in allows} == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}
        (events_statement,) = [s for s in allows if s["Principal"]["Service"] == "events.amazonaws.com"]
        assert all(
            arn.startswith("${aws_cloudwatch_event_rule.payments_messaging_")
            for arn in events_statement["Condition"]["ArnEquals"]["aws:SourceArn"]
        )
    assert resources(payments_doc, "aws_sns_topic_subscription") == {}  # no emails configured


def test_http_api_route_auth_stage_and_permission(payments_doc: Document) -> None:
    _, api = named(payments_doc, "aws_apigatewayv2_api", "payments_api")
    assert api["protocol_type"] == "HTTP" and "cors_configuration" not in api
    _, route = named(payments_doc, "aws_apigatewayv2_route", "payments_api_route_create_payment")
    assert route["route_key"] == "POST /payments" and route["authorization_type"] == "AWS_IAM"
    _, integration = named(payments_doc, "aws_apigatewayv2_integration", "payments_api_integration")
    assert integration["payload_format_version"] == "2.0" and integration["integration_type"] == "AWS_PROXY"
    assert integration["integration_uri"].startswith(
        "${aws_lambda_function.payments_functions_payment_validation_function"
    )
    _, stage = named(payments_doc, "aws_apigatewayv2_stage", "payments_api_stage")
    assert (
        stage["default_route_settings"]["throttling_rate_limit"] == 100
        and stage["default_route_settings"]["throttling_burst_limit"] == 200
    )
    log_format = json.loads(stage["access_log_settings"]["format"])
    assert "$context.requestId" in log_format.values() and not any("body" in v.lower() for v in log_format.values())
    _, access_logs = named(payments_doc, "aws_cloudwatch_log_group", "payments_api_access_logs")
    assert access_logs["kms_key_id"] == key_token(payments_doc, "logs")
    _, permission = named(payments_doc, "aws_lambda_permission", "payments_api_invoke_create_payment")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["source_arn"].endswith("/*/POST/payments")


def test_tracing_is_what_lambda_samples_and_no_rule_claims_more(payments_doc: Document) -> None:
    """Document 002's "100 % of payment transactions" cannot be had on this path: Lambda starts a
    trace for the first request each second and 5 % of the rest, whatever the sampling rules say,
    and HTTP APIs do not trace (README, "Tracing"). Every function traces actively, every handler
    traces its calls (so a sampled payment is followed through fraud scoring, the queue and the
    bus), and no sampling rule claims a rate nothing applies."""
    functions = resources(payments_doc, "aws_lambda_function")
    assert functions and all(f["tracing_config"] == {"mode": "Active"} for f in functions.values())
    for handler in ("payment_validation", "fraud_detection", "transaction_processing"):
        assert "tracer = Tracer()" in (LAMBDA_ROOT / handler / f"{handler}.py").read_text(), handler
    assert resources(payments_doc, "aws_xray_sampling_rule") == {}
    # Trace encryption is an account setting: it lives in the baseline stack (test_baseline.py).
    assert resources(payments_doc, "aws_xray_encryption_config") == {}


def test_cors_emails_and_the_protected_wildcard_rule(tmp_path: Path) -> None:
    base = PROFILES["serverless-payments"]
    payments = PaymentsConfig(cors_origins=("https://pay.example.com",), alert_emails=("oncall@example.com",))
    document = json.loads(
        synthesize(dataclasses.replace(base, payments=payments), tmp_path / "out").output_file.read_text()
    )
    (api,) = resources(document, "aws_apigatewayv2_api").values()
    assert api["cors_configuration"]["allow_origins"] == ["https://pay.example.com"]
    subscriptions = resources(document, "aws_sns_topic_subscription").values()
    assert {(s["protocol"], s["endpoint"]) for s in subscriptions} == {("email", "oncall@example.com")}
    assert len(subscriptions) == 2  # alerts and failed-transactions
    protected = dataclasses.replace(base, destroyable=False, payments=PaymentsConfig(cors_origins=("*",)))
    with pytest.raises(
        ConfigError, match=r"payments.cors_origins = '\*': '\*' is never allowed in a protected environment"
    ):
        synthesize(protected, tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_velocity_counters_live_in_their_own_table_updated_only_by_validation(payments_doc: Document) -> None:
    table = resources(payments_doc, "aws_dynamodb_table")["payments_functions_velocity_table"]
    assert (
        table["name"] == f"{name_prefix(profile_of(payments_doc))}-velocity-{SUFFIX}" and table["hash_key"] == "subject"
    )
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    assert table["server_side_encryption"]["kms_key_arn"] == key_token(payments_doc, "dynamodb")
    counting = role_statements(payments_doc, "payment_validation")["CountVelocity"]
    assert counting["Action"] == ["dynamodb:UpdateItem"]
    assert counting["Resource"] == ref(payments_doc, "aws_dynamodb_table", "payments_functions_velocity_table", "arn")


def test_validation_reads_only_the_attributes_that_answer_a_retry(synthesized: Synthesized) -> None:
    """AWS's attribute-level pattern: named attributes only, and no request for all of them (DynamoDB store)."""
    payments_doc = synthesized("serverless-payments")
    reading = role_statements(payments_doc, "payment_validation")["ReadRecordedTransactions"]
    assert reading["Action"] == ["dynamodb:GetItem"]
    assert reading["Condition"] == {
        "ForAllValues:StringEquals": {
            "dynamodb:Attributes": ["transaction_id", "fingerprint", "status", "fraud_decision"]
        },
        "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
    }
