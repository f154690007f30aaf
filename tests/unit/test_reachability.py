"""Every caller reaches what it calls, proven on the synthesized JSON (`lib/reachability.py`, also run by every synthesis).

Each broken-input test removes one half of a real path from a profile's document and shows the
check naming it: without that, a check that always passes would look the same as a correct one.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from lib.core import function as function_block
from lib.errors import ConfigError
from lib.profiles import load_config
from lib.reachability import Gap, called_services, gaps, main, paths
from lib.reachability import Path as Reach
from lib.synth import synthesize
from tests.conftest import Document, Synthesized, address_name, ref, resources


def test_every_caller_reaches_what_it_calls(doc: Document) -> None:
    assert gaps(doc) == []


def full(synthesized: Synthesized) -> Document:
    return copy.deepcopy(synthesized("full"))


def function(doc: Document, code: str) -> str:
    return "aws_lambda_function." + address_name(doc, "aws_lambda_function", f"payments_functions_{code}_function")


def drop(doc: Document, kind: str, path: str) -> dict[str, Any]:
    return doc["resource"][kind].pop(address_name(doc, kind, path))


def test_code_calls_are_read_from_the_role_without_what_lambda_does_for_it(synthesized: Synthesized) -> None:
    doc = synthesized("full")
    role = ref(doc, "aws_iam_role", "payments_functions_payment_validation_role", "arn")
    # Logs, traces and ENIs are the Lambda service's; KMS is used through SQS and DynamoDB; rds-db
    # is the proxy's authorization (checked as a path to the proxy).
    assert called_services(doc, role) == {"dynamodb", "sqs", "lambda", "rds-db"}


def test_a_missing_prefix_list_egress_is_found(synthesized: Synthesized) -> None:
    """The defect this check was written for: functions with no path to DynamoDB's gateway endpoint."""
    doc = full(synthesized)
    drop(doc, "aws_vpc_security_group_egress_rule", "payments_functions_payment_validation_to_dynamodb")
    assert gaps(doc) == [
        Gap(function(doc, "payment_validation"), "dynamodb", "no egress on 443 to the gateway endpoint's prefix list")
    ]


def test_a_gateway_endpoint_off_the_functions_route_tables_is_found(synthesized: Synthesized) -> None:
    doc = full(synthesized)
    endpoint = resources(doc, "aws_vpc_endpoint")["foundation_endpoints_dynamodb"]
    endpoint["route_table_ids"] = endpoint["route_table_ids"][1:]
    found = gaps(doc)
    assert {gap.target for gap in found} == {"dynamodb"} and len(found) == 1  # validation's idempotency records
    assert all("is not on route tables" in gap.reason for gap in found)


def test_a_missing_interface_endpoint_is_found(synthesized: Synthesized) -> None:
    doc = full(synthesized)
    drop(doc, "aws_vpc_endpoint", "foundation_endpoints_lambda")
    assert gaps(doc) == [
        Gap(
            function(doc, "payment_validation"),
            "lambda",
            "no interface endpoint with private DNS (and no NAT path: TAP opens none)",
        )
    ]


def test_a_missing_egress_to_the_interface_endpoints_is_found(synthesized: Synthesized) -> None:
    doc = full(synthesized)
    drop(doc, "aws_vpc_security_group_egress_rule", "payments_functions_payment_validation_to_endpoints_egress")
    validation = function(doc, "payment_validation")
    calls = [gap for gap in gaps(doc) if gap.caller == validation]
    assert calls == [
        Gap(validation, "lambda", "no egress on 443 to the endpoint's security group"),
        Gap(validation, "sqs", "no egress on 443 to the endpoint's security group"),
    ]
    (one_sided,) = [gap for gap in gaps(doc) if gap.caller != validation]
    assert one_sided.reason.endswith("without the caller's egress")


def test_an_endpoint_group_that_admits_no_one_is_found(synthesized: Synthesized) -> None:
    doc = full(synthesized)
    endpoints_group = ref(doc, "aws_security_group", "foundation_endpoints_security_group")
    rules = doc["resource"]["aws_vpc_security_group_ingress_rule"]
    for name in [n for n, r in rules.items() if r["security_group_id"] == endpoints_group]:
        del rules[name]
    found = [gap for gap in gaps(doc) if "does not admit the caller" in gap.reason]
    # Functions call secretsmanager, sqs, lambda and events; instances secretsmanager, and their
    # CloudWatch agent logs and monitoring, their GuardDuty agent guardduty-data.
    assert {gap.target for gap in found} == {
        "secretsmanager",
        "sqs",
        "lambda",
        "events",
        "logs",
        "monitoring",
        "guardduty-data",
    }


def test_a_data_store_port_open_on_one_side_only_is_found(synthesized: Synthesized) -> None:
    doc = full(synthesized)
    drop(doc, "aws_vpc_security_group_ingress_rule", "data_database_rotation_to_database_ingress")
    (gap,) = gaps(doc)
    assert gap.caller == ref(doc, "aws_security_group", "data_secret_rotation_function_security_group")
    assert gap.target == ref(doc, "aws_security_group", "data_database_security_group")
    assert gap.reason.startswith("egress on 5432") and gap.reason.endswith("without the target's ingress")


def test_synthesis_refuses_a_stack_with_a_gap_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The proof also gates every synthesis: here functions lose their gateway egress."""
    monkeypatch.setattr(function_block, "allow_gateway", lambda *_args, **_kwargs: None)
    outdir = tmp_path / "cdktf.out"
    with pytest.raises(ConfigError) as raised:
        synthesize(load_config({"TAP_PROFILE": "serverless-payments"}), outdir)
    problems = raised.value.violations
    assert {(v.value, v.rule_id) for v in problems} == {("dynamodb", "reachability.path")}
    assert len(problems) == 3 and not outdir.exists()


def test_the_command_line_reports_gaps_and_exits_non_zero(
    synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, broken = tmp_path / "good.json", tmp_path / "broken.json"
    good.write_text(json.dumps(synthesized("full")))
    doc = full(synthesized)
    drop(doc, "aws_vpc_endpoint", "foundation_endpoints_lambda")
    broken.write_text(json.dumps(doc))
    assert main([str(good)]) == 0
    assert main([str(good), str(broken)]) == 1
    out = capsys.readouterr().out
    assert "-> lambda: no interface endpoint" in out and "reachability: 1 gap(s) in 2 file(s)" in out


def test_a_missing_gateway_endpoint_is_found(synthesized: Synthesized) -> None:
    doc = full(synthesized)
    drop(doc, "aws_vpc_endpoint", "foundation_endpoints_dynamodb")
    found = [gap for gap in gaps(doc) if gap.reason == "no gateway endpoint for the service"]
    assert {gap.target for gap in found} == {"dynamodb"} and len(found) == 1


def test_a_function_outside_any_vpc_needs_no_path() -> None:
    """Such a function reaches AWS over Lambda's own network (TAP places every function in the VPC)."""
    document = {"resource": {"aws_lambda_function": {"edge": {"role": "${aws_iam_role.edge.arn}"}}}}
    assert gaps(document) == []


PROCESSING = "payments_functions_transaction_processing_function"


def test_a_ledger_user_without_a_path_to_the_proxy_is_found(synthesized: Synthesized) -> None:
    doc = full(synthesized)
    drop(doc, "aws_vpc_security_group_egress_rule", "data_database_processing_to_ledger_egress")
    drop(doc, "aws_vpc_security_group_ingress_rule", "data_database_processing_to_ledger_ingress")
    proxy = f"aws_db_proxy.{address_name(doc, 'aws_db_proxy', 'data_database_proxy')}"
    caller = f"aws_lambda_function.{address_name(doc, 'aws_lambda_function', PROCESSING)}"
    assert gaps(doc) == [
        Gap(caller, proxy, "no egress on 5432 to the store's security group"),
        Gap(caller, proxy, "the store's security group does not admit the caller on 5432"),
    ]


TRANSACTIONS_API = "payments_transactions_api_function"


def test_the_transactions_api_without_a_path_to_the_cluster_is_found(synthesized: Synthesized) -> None:
    """transactions-pg has no proxy: the API logs in at the writer with the rotated secret, by its own group."""
    doc = copy.deepcopy(synthesized("transactions-pg"))
    drop(doc, "aws_vpc_security_group_ingress_rule", "data_database_transactions_api_to_ledger_ingress")
    cluster = f"aws_rds_cluster.{address_name(doc, 'aws_rds_cluster', 'data_database_cluster')}"
    caller = f"aws_lambda_function.{address_name(doc, 'aws_lambda_function', TRANSACTIONS_API)}"
    assert Gap(caller, cluster, "the store's security group does not admit the caller on 5432") in gaps(doc)


def test_the_transactions_api_without_a_path_to_redis_is_found(synthesized: Synthesized) -> None:
    doc = copy.deepcopy(synthesized("transactions-pg"))
    drop(doc, "aws_vpc_security_group_egress_rule", "data_cache_transactions_api_to_cache_egress")
    group = address_name(doc, "aws_elasticache_replication_group", "data_cache_replication_group")
    caller = f"aws_lambda_function.{address_name(doc, 'aws_lambda_function', TRANSACTIONS_API)}"
    found = gaps(doc)
    # The function's own path, and the one-sided rule the missing egress leaves behind.
    assert (
        Gap(caller, f"aws_elasticache_replication_group.{group}", "no egress on 6379 to the store's security group")
        in found
    )
    assert len(found) == 2 and "without the caller's egress" in found[0].reason


def test_a_ledger_user_naming_no_proxy_is_found(synthesized: Synthesized) -> None:
    doc = full(synthesized)
    function = doc["resource"]["aws_lambda_function"][address_name(doc, "aws_lambda_function", PROCESSING)]
    function["environment"]["variables"].pop("LEDGER_HOST")
    caller = f"aws_lambda_function.{address_name(doc, 'aws_lambda_function', PROCESSING)}"
    assert gaps(doc) == [
        Gap(caller, "rds-db", "allowed rds-db:connect but names no RDS Proxy endpoint in its environment")
    ]


def test_a_group_admitted_to_the_proxy_without_rds_db_connect_is_found(synthesized: Synthesized) -> None:
    """Nothing but the functions that use the proxy may reach it: the rotation's group, added, is named."""
    doc = full(synthesized)
    rotation = ref(doc, "aws_security_group", "data_secret_rotation_function_security_group")
    proxy_group = ref(doc, "aws_security_group", "data_database_proxy_security_group")
    rules = doc["resource"]["aws_vpc_security_group_ingress_rule"]
    rules["intruder"] = {
        "security_group_id": proxy_group,
        "referenced_security_group_id": rotation,
        "ip_protocol": "tcp",
        "from_port": 5432,
        "to_port": 5432,
    }
    doc["resource"]["aws_vpc_security_group_egress_rule"]["intruder"] = {
        "security_group_id": rotation,
        "referenced_security_group_id": proxy_group,
        "ip_protocol": "tcp",
        "from_port": 5432,
        "to_port": 5432,
    }
    proxy = f"aws_db_proxy.{address_name(doc, 'aws_db_proxy', 'data_database_proxy')}"
    assert gaps(doc) == [Gap(rotation, proxy, "admitted to the proxy without rds-db:connect")]


def asg(doc: Document, role: str) -> str:
    return "aws_autoscaling_group." + address_name(doc, "aws_autoscaling_group", f"compute_{role}_group")


def test_instances_without_a_path_to_the_secrets_endpoint_are_found(synthesized: Synthesized) -> None:
    """Instances are callers too: their role reads the database secret through Secrets Manager."""
    doc = full(synthesized)
    drop(doc, "aws_vpc_security_group_egress_rule", "compute_to_endpoints_egress")
    found = gaps(doc)
    assert Gap(asg(doc, "blue"), "secretsmanager", "no egress on 443 to the endpoint's security group") in found
    assert {gap.caller for gap in found if gap.target == "secretsmanager"} == {
        asg(doc, role) for role in ("blue", "green", "batch")
    }


def test_instances_without_the_logs_endpoint_are_found(synthesized: Synthesized) -> None:
    """The CloudWatch agent ships the logs itself: unlike a function's, an instance's logs need a path."""
    doc = copy.deepcopy(synthesized("web-mysql"))
    drop(doc, "aws_vpc_endpoint", "foundation_endpoints_logs")
    assert gaps(doc) == [
        Gap(
            "aws_autoscaling_group." + address_name(doc, "aws_autoscaling_group", "compute_web_group"),
            "logs",
            "no interface endpoint with private DNS (and no NAT path: TAP opens none)",
        )
    ]


def test_instances_without_the_monitoring_endpoint_are_found(synthesized: Synthesized) -> None:
    """The CloudWatch agent publishes the instances' memory (002) itself, through `monitoring`."""
    doc = copy.deepcopy(synthesized("web-mysql"))
    drop(doc, "aws_vpc_endpoint", "foundation_endpoints_monitoring")
    assert gaps(doc) == [
        Gap(asg(doc, "web"), "monitoring", "no interface endpoint with private DNS (and no NAT path: TAP opens none)")
    ]


def test_instances_running_guardduty_s_agent_without_its_endpoint_are_found(synthesized: Synthesized) -> None:
    """The Runtime Monitoring agent on instances carrying GuardDuty's tag sends to guardduty-data."""
    doc = copy.deepcopy(synthesized("web-mysql"))
    tags = resources(doc, "aws_autoscaling_group")["compute_web_group"]["tag"]
    assert {"key": "GuardDutyManaged", "value": "true", "propagate_at_launch": True} in tags
    drop(doc, "aws_vpc_endpoint", "foundation_endpoints_guardduty-data")
    assert gaps(doc) == [
        Gap(
            asg(doc, "web"),
            "guardduty-data",
            "no interface endpoint with private DNS (and no NAT path: TAP opens none)",
        )
    ]


def test_without_guardduty_instances_carry_no_agent_tag_and_get_no_endpoint(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    config = tmp_path / "no-guardduty.toml"
    config.write_text("[baseline.guardduty]\nenabled = false\n")
    doc = synthesized("web-mysql", TAP_CONFIG=str(config))
    assert not [e for e in resources(doc, "aws_vpc_endpoint").values() if e["service_name"].endswith("guardduty-data")]
    tags = resources(doc, "aws_autoscaling_group")["compute_web_group"]["tag"]
    assert "GuardDutyManaged" not in {t["key"] for t in tags}


def test_instances_without_a_path_to_s3_are_found(synthesized: Synthesized) -> None:
    doc = copy.deepcopy(synthesized("web-mysql"))
    drop(doc, "aws_vpc_security_group_egress_rule", "compute_to_s3")
    assert gaps(doc) == [Gap(asg(doc, "web"), "s3", "no egress on 443 to the gateway endpoint's prefix list")]


def test_instances_without_a_path_to_the_database_their_secret_names_are_found(synthesized: Synthesized) -> None:
    """The secret's host is the cluster: the instances' health check connects there."""
    doc = copy.deepcopy(synthesized("portal-cdn"))
    drop(doc, "aws_vpc_security_group_ingress_rule", "data_database_app_to_database_ingress")
    drop(doc, "aws_vpc_security_group_egress_rule", "data_database_app_to_database_egress")
    cluster = "aws_rds_cluster." + address_name(doc, "aws_rds_cluster", "data_database_cluster")
    assert gaps(doc) == [
        Gap(asg(doc, "web"), cluster, "no egress on 3306 to the store's security group"),
        Gap(asg(doc, "web"), cluster, "the store's security group does not admit the caller on 3306"),
    ]


def test_a_load_balancer_whose_targets_do_not_admit_it_is_found(synthesized: Synthesized) -> None:
    doc = copy.deepcopy(synthesized("web-mysql"))
    drop(doc, "aws_vpc_security_group_ingress_rule", "edge_load_balancer_to_targets_ingress")
    balancer = "aws_lb." + address_name(doc, "aws_lb", "edge_load_balancer")
    target = "aws_lb_target_group." + address_name(doc, "aws_lb_target_group", "edge_load_balancer_target_group_web")
    found = gaps(doc)
    assert Gap(balancer, target, "the target's security group does not admit the caller on 8080") in found
    # The other half, left alone, is reported as one-sided: nothing else is.
    (other,) = [gap for gap in found if gap.caller != balancer]
    assert other.reason.startswith("egress on 8080") and other.reason.endswith("without the target's ingress")


def test_a_target_group_no_instances_serve_is_found(synthesized: Synthesized) -> None:
    doc = copy.deepcopy(synthesized("serverless-payments"))
    drop(doc, "aws_autoscaling_group", "compute_green_group")
    target = "aws_lb_target_group." + address_name(doc, "aws_lb_target_group", "edge_load_balancer_target_group_green")
    assert [gap for gap in gaps(doc) if gap.target == target] == [
        Gap(
            "aws_lb." + address_name(doc, "aws_lb", "edge_load_balancer"),
            target,
            "no Auto Scaling group serves the target group",
        )
    ]


def test_a_public_listener_the_internet_cannot_reach_is_found(synthesized: Synthesized) -> None:
    doc = copy.deepcopy(synthesized("web-mysql"))
    drop(doc, "aws_vpc_security_group_ingress_rule", "edge_load_balancer_ingress_443")
    listener = "aws_lb_listener." + address_name(doc, "aws_lb_listener", "edge_load_balancer_https")
    assert gaps(doc) == [Gap("internet", listener, "the internet-facing load balancer does not admit 443")]


def test_a_vpc_link_the_internal_load_balancer_does_not_admit_is_found(synthesized: Synthesized) -> None:
    doc = copy.deepcopy(synthesized("serverless-payments"))
    drop(doc, "aws_vpc_security_group_ingress_rule", "edge_private_route_to_load_balancer_ingress")
    drop(doc, "aws_vpc_security_group_egress_rule", "edge_private_route_to_load_balancer_egress")
    integration = "aws_apigatewayv2_integration." + address_name(
        doc, "aws_apigatewayv2_integration", "edge_private_route_integration"
    )
    balancer = "aws_lb." + address_name(doc, "aws_lb", "edge_load_balancer")
    assert gaps(doc) == [
        Gap(integration, balancer, "no egress on 443 to the target's security group"),
        Gap(integration, balancer, "the target's security group does not admit the caller on 443"),
    ]


def test_a_function_outside_the_vpc_is_a_gap_where_the_stack_has_one(synthesized: Synthesized) -> None:
    document = full(synthesized)
    caller = function(document, "fraud_detection")
    del document["resource"]["aws_lambda_function"][caller.split(".")[1]]["vpc_config"]
    assert Gap(caller, "vpc", "runs outside the stack's VPC, bypassing its endpoints and flow logs") in gaps(document)


def test_the_baselines_function_calls_public_endpoints_without_a_gap(synthesized: Synthesized) -> None:
    """The account baseline has no VPC: its remediation function reaches AWS's public endpoints, so
    the check has no path to prove there; it only proves it cannot be a stack with a VPC."""
    baseline = synthesized.baseline("full")
    assert resources(baseline, "aws_lambda_function") and not resources(baseline, "aws_vpc")
    assert gaps(baseline) == []


def endpoint(doc: Document, service: str) -> str:
    return "aws_vpc_endpoint." + address_name(doc, "aws_vpc_endpoint", f"foundation_endpoints_{service}")


def test_paths_are_the_checked_paths_with_their_ports_and_what_they_pass_through(synthesized: Synthesized) -> None:
    doc = synthesized("web-mysql")
    web = asg(doc, "web")
    balancer = "aws_lb." + address_name(doc, "aws_lb", "edge_load_balancer")
    cluster = "aws_rds_cluster." + address_name(doc, "aws_rds_cluster", "data_database_cluster")
    found = paths(doc)
    assert found == sorted(set(found))
    https = "aws_lb_listener." + address_name(doc, "aws_lb_listener", "edge_load_balancer_https")
    target_group = "aws_lb_target_group." + address_name(
        doc, "aws_lb_target_group", "edge_load_balancer_target_group_web"
    )
    assert {
        Reach("internet", balancer, 443, https),
        Reach(balancer, web, 8080, target_group),
        Reach(web, cluster, 3306),
        Reach(web, "s3", 443, endpoint(doc, "s3")),
        Reach(web, "secretsmanager", 443, endpoint(doc, "secretsmanager")),
    } <= set(found)
    # A complete pair of security group rules is a path between the two groups.
    app, database = (
        ref(doc, "aws_security_group", "foundation_app_security_group"),
        ref(doc, "aws_security_group", "data_database_security_group"),
    )
    assert Reach(app, database, 3306) in found


def test_a_path_with_a_gap_is_not_proven(synthesized: Synthesized) -> None:
    """`gaps()` and `paths()` share the checks: the path a gap names leaves the proven ones."""
    doc = full(synthesized)
    validation = function(doc, "payment_validation")
    proven = Reach(validation, "dynamodb", 443, endpoint(doc, "dynamodb"))
    assert proven in paths(doc)
    drop(doc, "aws_vpc_security_group_egress_rule", "payments_functions_payment_validation_to_dynamodb")
    assert proven not in paths(doc) and [gap.caller for gap in gaps(doc)] == [validation]


def test_the_baseline_has_no_network_paths(synthesized: Synthesized) -> None:
    assert paths(synthesized.baseline("full")) == []
