"""TAP-NET-1: no subnet outside the public tier routes to an internet gateway.

lib/foundation/network.py tags every subnet with its tier (`Tier`: public, private, database).
Only the public tier holds internet-facing load balancers and NAT gateways; everything that
stores or processes payment data sits in the other tiers and must not be reachable from the
internet directly. Checkov's CKV2_AWS_35 looks only at default routes to NAT, not per subnet.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tools.rules import Evidence, Outcome, Rule, Stacks, Violation
from tools.rules._terraform import Resource, blocks, of_kind, outcome, referenced_name, resolve

PUBLIC_TIER = "public"
# Inline routes (`aws_route_table.route`) and `aws_route` name the destination differently.
DESTINATIONS = (
    "destination_cidr_block",
    "cidr_block",
    "destination_ipv6_cidr_block",
    "ipv6_cidr_block",
    "destination_prefix_list_id",
)
TARGETS = ("gateway_id", "nat_gateway_id", "transit_gateway_id", "vpc_endpoint_id", "vpc_peering_connection_id")


def routes(stacks: Stacks, table: Resource) -> Iterator[tuple[str, str, Any]]:
    """(destination, target attribute, target) of a table's inline routes and `aws_route` resources."""
    standalone = [
        r.body
        for r in of_kind(stacks, "aws_route", table.stack)
        if referenced_name(r.body.get("route_table_id"), "aws_route_table") == table.name
    ]
    for route in [*blocks(table.body.get("route")), *standalone]:
        destination = next((route[key] for key in DESTINATIONS if route.get(key)), "")
        for target in TARGETS:
            if route.get(target):
                yield str(destination), target, route[target]


def to_internet_gateway(target: Any) -> bool:
    return referenced_name(target, "aws_internet_gateway") is not None or str(target).startswith("igw-")


def check(stacks: Stacks) -> Outcome:
    subnets = [s for s in of_kind(stacks, "aws_subnet") if (s.body.get("tags") or {}).get("Tier") != PUBLIC_TIER]
    if not subnets:
        return Outcome(not_applicable="No subnet outside the public tier.")
    associations = of_kind(stacks, "aws_route_table_association")
    evidence: list[Evidence] = []
    violations: list[Violation] = []
    for subnet in subnets:
        tables = [
            table
            for a in associations
            if a.stack == subnet.stack and referenced_name(a.body.get("subnet_id"), "aws_subnet") == subnet.name
            if (table := resolve(stacks, a.stack, a.body.get("route_table_id"), "aws_route_table")) is not None
        ]
        if not tables:
            violations.append(
                subnet.violation("Has no route table association, so the VPC's main table applies: associate a table.")
            )
        for table in tables:
            found = list(routes(stacks, table))
            gateways = [destination for destination, _, target in found if to_internet_gateway(target)]
            if gateways:
                violations.append(
                    subnet.violation(
                        f"Routes {', '.join(gateways)} to an internet gateway through {table.address}: only the "
                        "public tier may; route through a NAT gateway or not at all."
                    )
                )
            else:
                evidence.append(subnet.evidence("tags.Tier", (subnet.body.get("tags") or {}).get("Tier")))
                evidence.append(table.evidence("routes", sorted(f"{d} -> {attribute}" for d, attribute, _ in found)))
    return outcome(evidence, violations)


RULE = Rule(
    id="TAP-NET-1",
    title="No subnet outside the public tier has a route to an internet gateway",
    requirements=("1.3.1", "1.3.2", "1.4.4"),
    source="judgement",
    basis=(
        "uncovered.md row 11; no-unrestricted-route-to-igw is only in the PCI DSS 3.2.1 pack, with no AWS v4.0 "
        "mapping; analyst judgement"
    ),
    verify_in_account=(
        "No route was added outside Terraform (ec2 describe-route-tables), the VPC's main route table has no "
        "internet gateway route, and the Tier tags match where workloads actually run."
    ),
    check=check,
)
