"""TAP-NET-1 (no internet-gateway route outside the public tier) and TAP-NET-2 (ingress from anywhere only on 443/80)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.compliance.rules.documents import Body, evidenced, run, violated

IGW = "${aws_internet_gateway.igw.id}"
NAT = "${aws_nat_gateway.nat.id}"


def network(tier: str, route: Body | None, *, inline: bool = False) -> dict[str, dict[str, Body]]:
    """One subnet of `tier` associated with one table holding `route` (inline or as aws_route)."""
    document: dict[str, dict[str, Any]] = {
        "aws_subnet": {"subnet": {"tags": {"Tier": tier}}},
        "aws_route_table": {"table": {}},
        "aws_route_table_association": {
            "a": {"subnet_id": "${aws_subnet.subnet.id}", "route_table_id": "${aws_route_table.table.id}"}
        },
    }
    if route is not None and inline:
        document["aws_route_table"]["table"]["route"] = [route]
    elif route is not None:
        document["aws_route"] = {"r": {"route_table_id": "${aws_route_table.table.id}", **route}}
    return document


def test_a_private_subnet_routing_through_nat_passes() -> None:
    outcome = run(
        "TAP-NET-1", environment=network("private", {"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": NAT})
    )
    assert outcome.passed and evidenced(outcome) == {"aws_subnet.subnet", "aws_route_table.table"}


def test_an_isolated_subnet_without_routes_passes() -> None:
    assert run("TAP-NET-1", environment=network("database", None)).passed


@pytest.mark.parametrize("inline", [False, True])
def test_a_cde_subnet_routing_to_the_internet_gateway_fails(inline: bool) -> None:
    route = {"destination_cidr_block": "0.0.0.0/0", "gateway_id": IGW}
    if inline:
        route = {"cidr_block": "0.0.0.0/0", "gateway_id": IGW}
    outcome = run("TAP-NET-1", environment=network("database", route, inline=inline))
    assert violated(outcome) == ["aws_subnet.subnet"] and "0.0.0.0/0" in outcome.violations[0].message


def test_an_untagged_subnet_is_treated_as_cde() -> None:
    document = network("private", {"destination_ipv6_cidr_block": "::/0", "gateway_id": "igw-0abc"})
    del document["aws_subnet"]["subnet"]["tags"]
    assert violated(run("TAP-NET-1", environment=document)) == ["aws_subnet.subnet"]


def test_a_cde_subnet_without_an_association_fails() -> None:
    document = network("private", None)
    del document["aws_route_table_association"]
    outcome = run("TAP-NET-1", environment=document)
    assert violated(outcome) == ["aws_subnet.subnet"] and "main table" in outcome.violations[0].message


def test_only_public_subnets_means_not_applicable() -> None:
    outcome = run(
        "TAP-NET-1", environment=network("public", {"destination_cidr_block": "0.0.0.0/0", "gateway_id": IGW})
    )
    assert outcome.passed and outcome.not_applicable is not None


def ingress(**rule: Any) -> dict[str, dict[str, Body]]:
    return {"aws_vpc_security_group_ingress_rule": {"rule": {"ip_protocol": "tcp", **rule}}}


@pytest.mark.parametrize("port", [443, 80])
def test_https_and_http_from_anywhere_pass(port: int) -> None:
    outcome = run("TAP-NET-2", environment=ingress(cidr_ipv4="0.0.0.0/0", from_port=port, to_port=port))
    assert outcome.passed and evidenced(outcome) == {"aws_vpc_security_group_ingress_rule.rule"}


@pytest.mark.parametrize(
    "rule",
    [
        {"cidr_ipv4": "0.0.0.0/0", "from_port": 5432, "to_port": 5432},
        {"cidr_ipv6": "::/0", "from_port": 80, "to_port": 443},
        {"cidr_ipv4": "0.0.0.0/0", "ip_protocol": "-1"},
        {"cidr_ipv4": "0.0.0.0/0", "ip_protocol": "udp", "from_port": 443, "to_port": 443},
    ],
)
def test_other_ports_from_anywhere_fail(rule: Body) -> None:
    outcome = run("TAP-NET-2", environment=ingress(**rule))
    assert violated(outcome) == ["aws_vpc_security_group_ingress_rule.rule"]


def test_inline_and_legacy_rules_are_read_too() -> None:
    environment = {
        "aws_security_group": {
            "web": {"ingress": [{"cidr_blocks": ["0.0.0.0/0"], "protocol": "tcp", "from_port": 22, "to_port": 22}]}
        },
        "aws_security_group_rule": {
            "db": {
                "type": "ingress",
                "cidr_blocks": ["0.0.0.0/0"],
                "protocol": "tcp",
                "from_port": 3306,
                "to_port": 3306,
            },
            "out": {"type": "egress", "cidr_blocks": ["0.0.0.0/0"], "protocol": "-1", "from_port": 0, "to_port": 0},
        },
    }
    assert violated(run("TAP-NET-2", environment=environment)) == [
        "aws_security_group.web",
        "aws_security_group_rule.db",
    ]


def test_ingress_only_from_inside_does_not_apply() -> None:
    outcome = run("TAP-NET-2", environment=ingress(cidr_ipv4="10.0.0.0/16", from_port=5432, to_port=5432))
    assert outcome.passed and outcome.not_applicable is not None


def test_the_default_security_group_is_held_to_the_same() -> None:
    group = {"ingress": [{"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["0.0.0.0/0"]}]}
    outcome = run("TAP-NET-2", environment={"aws_default_security_group": {"default": group}})
    assert violated(outcome) == ["aws_default_security_group.default"]
