"""Saved Logs Insights queries (002's security analysis): where each is saved, what it reads, and
that the reader in `tests/queries.py` fails on a query that does not fit its lines. The real
handlers' lines are checked next to the tests that produce them (test_hardening, test_secret_rotation)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lib.core.queries import Query, lines
from lib.edge.firewall import waf_blocks_query
from lib.foundation import rejected_traffic
from lib.foundation.network import FLOW_LOG_FIELDS
from lib.payments import failed_payments_query
from tests.conftest import PROFILE_NAMES, SUFFIX, Document, Synthesized, name_prefix, ref, resources
from tests.queries import conditions, fields_read, selects

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
SETTLED = {
    "level": "INFO",
    "message": "processed",
    "transaction_id": "7d0c1c4e-5b3a-5f0e-9d1c-2a9f8e7b6c5d",
    "status": "failed",
    "failure_reason": "gave up",
}


def test_the_reader_finds_fields_aliases_and_conditions() -> None:
    query = failed_payments_query("group")
    assert fields_read(query) == {"message", "status", "failure_reason", "transaction_id"}
    assert conditions(query) == {"message": "processed", "status": "failed"}
    assert selects(query, SETTLED)


@pytest.mark.parametrize(
    "broken",
    [
        {k: v for k, v in SETTLED.items() if k != "failure_reason"},  # a field the query groups by is missing
        {**SETTLED, "status": "approved"},  # the filter would drop it
        {**SETTLED, "message": "Processed"},  # a message that drifted
    ],
)
def test_a_line_the_query_does_not_fit_is_not_selected(broken: dict[str, str]) -> None:
    assert not selects(failed_payments_query("group"), broken)


def test_an_unsupported_filter_is_refused_rather_than_ignored() -> None:
    with pytest.raises(AssertionError, match="unsupported filter condition"):
        conditions(Query(title="t", log_groups=["g"], text=lines('filter status != "ok"')))


def query_definitions(doc: Document) -> dict[str, dict[str, object]]:
    return {d["name"]: d for d in resources(doc, "aws_cloudwatch_query_definition").values()}


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_query_reads_log_groups_of_its_stack_under_the_environments_folder(
    synthesized: Synthesized, profile: str
) -> None:
    doc = synthesized(profile)
    groups = {ref(doc, "aws_cloudwatch_log_group", path, "name") for path in resources(doc, "aws_cloudwatch_log_group")}
    definitions = query_definitions(doc)
    assert definitions
    for name, definition in definitions.items():
        assert name.startswith(f"{name_prefix(profile)}-{SUFFIX}/"), name
        assert definition["log_group_names"] and set(definition["log_group_names"]) <= groups, name  # type: ignore[arg-type]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_lambda_errors_by_function_reads_every_functions_log_group(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    (errors,) = [d for n, d in query_definitions(doc).items() if n.endswith("/Lambda errors by function")]
    functions = {f["logging_config"]["log_group"] for f in resources(doc, "aws_lambda_function").values()}
    assert set(errors["log_group_names"]) == functions  # type: ignore[arg-type]


def test_document_002_saves_its_security_analysis(synthesized: Synthesized) -> None:
    titles = {name.split("/", 2)[2] for name in query_definitions(synthesized("secure-platform"))}
    assert {
        "Rejected traffic by source",
        "Failed payments by reason",
        "Lambda errors by function",
        "Rotation failures",
        "WAF blocks by rule and client",
    } <= titles


# AWS's example flow log record (VPC User Guide, "Flow log record examples": rejected RDP traffic).
REJECTED_RECORD = (
    "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK"
)


def parse_as_logs_insights(query: Query, message: str) -> dict[str, str]:
    """What the query's `parse @message "<glob>" as ...` extracts from one record."""
    match = re.search(r'parse @message "([^"]*)" as ([\w, ]+)', query.text)
    assert match, query.text
    pattern = "^" + re.escape(match.group(1)).replace(r"\*", "(.*?)") + "$"
    names = [name.strip() for name in match.group(2).split(",")]
    found = re.match(pattern, message)
    assert found, message
    return dict(zip(names, found.groups(), strict=True))


@pytest.mark.parametrize("profile", ["secure-platform", "full"])
def test_rejected_traffic_parses_the_format_the_flow_log_delivers(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    flow_log = resources(doc, "aws_flow_log")["foundation_network_flow_log_cloudwatch"]
    delivered = re.findall(r"\$\{([\w-]+)\}", flow_log["log_format"])
    assert delivered == list(FLOW_LOG_FIELDS.values())
    query = rejected_traffic("group")
    record = parse_as_logs_insights(query, REJECTED_RECORD)
    assert list(record) == list(FLOW_LOG_FIELDS)  # the names the query uses, one per delivered field
    assert (record["srcAddr"], record["dstPort"], record["action"]) == ("172.31.9.69", "3389", "REJECT")
    assert selects(query, record)


WAF_RECORD = json.loads((FIXTURES / "wafLogBlocked.json").read_text())


def test_waf_blocks_by_rule_and_client_reads_waf_s_documented_record() -> None:
    query = waf_blocks_query("group")
    assert fields_read(query) == {"terminatingRuleId", "httpRequest.clientIp", "httpRequest.country", "action"}
    assert selects(query, WAF_RECORD)
    assert not selects(query, {**WAF_RECORD, "action": "ALLOW"})
    # A field named as it is not in WAF's record (clientIP) is found missing.
    assert not selects(query, {**WAF_RECORD, "httpRequest": {"clientIP": "198.51.100.7", "country": "NL"}})


def test_the_waf_query_reads_the_regional_web_acls_log_group(synthesized: Synthesized) -> None:
    doc = synthesized("secure-platform")
    (waf,) = [d for n, d in query_definitions(doc).items() if n.endswith("/WAF blocks by rule and client")]
    assert waf["log_group_names"] == [ref(doc, "aws_cloudwatch_log_group", "edge_firewall_log_group", "name")]


def test_the_baseline_admits_waf_log_delivery_to_waf_log_groups_only(synthesized: Synthesized) -> None:
    """Declared once per account and region, so WAF never grows a policy of its own per log group."""
    baseline = synthesized.baseline("secure-platform")
    (policy_resource,) = resources(baseline, "aws_cloudwatch_log_resource_policy").values()
    (statement,) = json.loads(policy_resource["policy_document"])["Statement"]
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"].endswith(":log-group:aws-waf-logs-*:log-stream:*")
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": "${data.aws_caller_identity.current.account_id}"
    }
