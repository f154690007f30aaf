"""Static proof, over a synthesized `cdk.tf.json`, that every caller can reach what it calls.

Emulators cannot see security groups and routes, so a layer that forgets a path would only fail
once deployed. This check reads the JSON:

- **Functions outside a VPC.** Only a stack without a VPC (the account baseline) may have one; it
  calls AWS's public endpoints. In a stack with a VPC, such a function is a gap.
- **AWS APIs.** For every function in a VPC, the services its role's statements name are the
  services its code calls. Each needs a path from the function's subnets and security groups:
  - a gateway endpoint (S3, DynamoDB): an egress rule to the endpoint's prefix list on 443, and
    the endpoint on every route table of the function's subnets;
  - an interface endpoint: the endpoint in the VPC with private DNS, an egress rule on 443 to its
    security group, and that group admitting the function (by group or by a CIDR covering the
    function's subnets);
  - there is no NAT fallback: TAP never opens egress to 0.0.0.0/0.
  Statements the Lambda service uses on the function's behalf are not calls of its code:
  writing its own logs, the X-Ray daemon's trace uploads, managing its ENIs, and KMS use that a
  `kms:ViaService` condition confines to another service.
- **Data stores.** Every rule between two security groups has its other half: an ingress rule
  from A into B on a port needs A's egress to B on that port, and the other way round (a
  complete pair is a path between the two groups).
- **Data stores a function names.** A function whose environment names a store's endpoint (an
  RDS Proxy, an Aurora cluster, a Redis replication group) needs egress to that store's security
  group on its port, and the store's group must admit it there.
- **Instances.** Every Auto Scaling group is a caller like a function: its launch template's
  security groups, its subnets, and its instance profile role's services (CloudWatch Logs
  included: the agent on the instance ships the logs itself). A role allowed to read
  a secret whose value names an Aurora cluster's endpoint connects to that cluster: the group
  needs its port there too. A group whose instances carry GuardDuty's inclusion tag
  (`GuardDutyManaged = true`) runs the Runtime Monitoring agent, which calls the
  `guardduty-data` interface endpoint.
- **Load balancers.** An internet-facing load balancer admits every listener's port from the
  internet; each listener's target groups are served by Auto Scaling groups whose instances'
  groups admit the load balancer's on the target port (and it has the egress to match).
- **CloudFront.** A load balancer that is a distribution's origin admits CloudFront's
  origin-facing prefix list on the origin's HTTPS port, and nothing from the internet directly
  (it must be reachable only through CloudFront).
- **VPC links.** An HTTP API integration through a VPC link reaches the load balancer of the
  listener it names: the link's groups have egress to the balancer's on the listener's port,
  and the balancer's groups admit them.
- **RDS Proxy with IAM authentication.** `rds-db:connect` is checked by the proxy, not an API
  call: a function allowed it must name a proxy endpoint in its environment (and reach it, as
  above); and the proxy admits no group but those of such functions.

Each checked path is a `Path` (caller, callee, port, via); `paths()` returns those proven, which the
architecture diagrams draw (`tools/diagram.py`), and `gaps()` the missing halves of the rest.

    python -m lib.reachability cdktf.out/stacks/<stack>/cdk.tf.json      # also run by every synthesis
"""

from __future__ import annotations

import ipaddress
import json
import pathlib
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from lib.core.tags import GUARDDUTY_AGENT_TAG

HTTPS = 443
# Services the Lambda service calls for the function, outside the function's own network path.
RUNTIME_DELIVERED = frozenset({"logs", "xray", "ec2"})
# IAM service prefix -> VPC endpoint service, where they differ.
ENDPOINT_SERVICE = {"cloudwatch": "monitoring"}
GATEWAY_SERVICES = frozenset({"s3", "dynamodb"})
# Authorization a database proxy checks on connect: a path to the proxy, not to an endpoint.
PROXY_AUTH = "rds-db"
PROXY_PORTS = {"POSTGRESQL": 5432, "MYSQL": 3306, "SQLSERVER": 1433}
# Endpoint attributes of the stores a function can name, and where each keeps its security groups.
STORE_ENDPOINTS = {
    "aws_db_proxy": (("endpoint",), "vpc_security_group_ids"),
    "aws_rds_cluster": (("endpoint", "reader_endpoint"), "vpc_security_group_ids"),
    "aws_elasticache_replication_group": (
        ("primary_endpoint_address", "reader_endpoint_address"),
        "security_group_ids",
    ),
}
ENGINE_PORTS = {"aurora-postgresql": 5432, "aurora-mysql": 3306}
TOKEN = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")
CLUSTER_ENDPOINT = re.compile(r"aws_rds_cluster\.([A-Za-z0-9_-]+)\.endpoint")
ANYWHERE = "0.0.0.0/0"

Document = dict[str, Any]


@dataclass(frozen=True, order=True)
class Gap:
    """`caller` cannot reach `target`; `reason` says which half of the path is missing."""

    caller: str
    target: str
    reason: str

    def __str__(self) -> str:
        return f"{self.caller} -> {self.target}: {self.reason}"


@dataclass(frozen=True, order=True)
class Path:
    """`caller` connects to `callee` on `port` through `via` (an endpoint, a listener, a target group,
    a VPC link; "" when it connects to the callee's security group directly).

    `caller` and `callee` are resource addresses, "internet", or (callee) an AWS service prefix.
    """

    caller: str
    callee: str
    port: int
    via: str = ""


@dataclass(frozen=True)
class Check:
    """A path the document needs, and what keeps it from being proven (nothing: proven)."""

    path: Path
    gaps: tuple[Gap, ...] = ()


# What each kind of check yields: paths it checked, and problems that are no path of their own.
Finding = Check | Gap


def _resources(document: Document, kind: str) -> dict[str, dict[str, Any]]:
    return dict(document.get("resource", {}).get(kind, {}))


def _token(kind: str, name: str, attribute: str = "id") -> str:
    return f"${{{kind}.{name}.{attribute}}}"


def _statements(policy: str) -> list[dict[str, Any]]:
    statements = json.loads(policy)["Statement"]
    return [statements] if isinstance(statements, dict) else list(statements)


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def called_services(
    document: Document, role_token: str, delivered_for_it: frozenset[str] = RUNTIME_DELIVERED
) -> set[str]:
    """IAM service prefixes the role's code calls itself (see the module docstring for exclusions).

    `delivered_for_it`: services a runtime calls on the caller's behalf (Lambda's, for functions);
    instances have none, their agents call CloudWatch Logs themselves.
    """
    services = set()
    for policy in _resources(document, "aws_iam_role_policy").values():
        if policy["role"] not in (
            role_token,
            role_token.replace(".arn}", ".id}"),
            role_token.replace(".arn}", ".name}"),
        ):
            continue
        for statement in _statements(policy["policy"]):
            if statement.get("Effect") != "Allow" or "kms:ViaService" in json.dumps(statement.get("Condition", {})):
                continue
            services |= {action.split(":")[0] for action in _actions(statement)} - delivered_for_it
    return services


@dataclass(frozen=True)
class Network:
    """The parts of the document a path is made of."""

    document: Document

    def egress(self, security_groups: Iterable[str]) -> list[dict[str, Any]]:
        groups = set(security_groups)
        return [
            r
            for r in _resources(self.document, "aws_vpc_security_group_egress_rule").values()
            if r["security_group_id"] in groups
        ]

    def ingress(self, security_group: str) -> list[dict[str, Any]]:
        rules = _resources(self.document, "aws_vpc_security_group_ingress_rule").values()
        return [r for r in rules if r["security_group_id"] == security_group]

    def route_tables(self, subnets: Iterable[str]) -> set[str]:
        wanted = set(subnets)
        associations = _resources(self.document, "aws_route_table_association").values()
        return {a["route_table_id"] for a in associations if a["subnet_id"] in wanted}

    def subnet_cidrs(self, subnets: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        found = []
        for token in subnets:
            match = TOKEN.match(token)
            subnet = _resources(self.document, "aws_subnet").get(match.group(2)) if match else None
            if subnet is not None:
                found.append(ipaddress.ip_network(subnet["cidr_block"]))
        return found

    def endpoints(self, service: str, kind: str) -> dict[str, dict[str, Any]]:
        return {
            name: endpoint
            for name, endpoint in _resources(self.document, "aws_vpc_endpoint").items()
            if endpoint["vpc_endpoint_type"] == kind and endpoint["service_name"].rsplit(".", 1)[-1] == service
        }


def _covers(rule: dict[str, Any], port: int) -> bool:
    return rule.get("ip_protocol") in ("-1", "tcp") and rule.get("from_port", 0) <= port <= rule.get("to_port", 65535)


def gateway_check(net: Network, caller: str, service: str, groups: list[str], subnets: list[str]) -> Check:
    endpoints = net.endpoints(service, "Gateway")
    if not endpoints:
        return Check(Path(caller, service, HTTPS), (Gap(caller, service, "no gateway endpoint for the service"),))
    (name, endpoint), *_ = endpoints.items()
    found = []
    prefix_list = _token("aws_vpc_endpoint", name, "prefix_list_id")
    if not any(r.get("prefix_list_id") == prefix_list and _covers(r, HTTPS) for r in net.egress(groups)):
        found.append(Gap(caller, service, f"no egress on {HTTPS} to the gateway endpoint's prefix list"))
    missing = net.route_tables(subnets) - set(endpoint.get("route_table_ids", []))
    if missing:
        found.append(Gap(caller, service, f"the gateway endpoint is not on route tables {sorted(missing)}"))
    return Check(Path(caller, service, HTTPS, f"aws_vpc_endpoint.{name}"), tuple(found))


def interface_check(net: Network, caller: str, service: str, groups: list[str], subnets: list[str]) -> Check:
    endpoints = [(n, e) for n, e in net.endpoints(service, "Interface").items() if e.get("private_dns_enabled")]
    if not endpoints:
        reason = "no interface endpoint with private DNS (and no NAT path: TAP opens none)"
        return Check(Path(caller, service, HTTPS), (Gap(caller, service, reason),))
    (name, endpoint), *_ = endpoints
    found = []
    endpoint_groups = set(endpoint.get("security_group_ids", []))
    egress = net.egress(groups)
    if not any(r.get("referenced_security_group_id") in endpoint_groups and _covers(r, HTTPS) for r in egress):
        found.append(Gap(caller, service, f"no egress on {HTTPS} to the endpoint's security group"))
    cidrs = net.subnet_cidrs(subnets)
    admitted = False
    for group in endpoint_groups:
        for rule in net.ingress(group):
            if not _covers(rule, HTTPS):
                continue
            if rule.get("referenced_security_group_id") in groups:
                admitted = True
            elif "cidr_ipv4" in rule and cidrs:
                block = ipaddress.ip_network(rule["cidr_ipv4"])
                admitted |= all(cidr.subnet_of(block) for cidr in cidrs if cidr.version == block.version)  # type: ignore[arg-type]
    if not admitted:
        found.append(Gap(caller, service, f"the endpoint's security group does not admit the caller on {HTTPS}"))
    return Check(Path(caller, service, HTTPS, f"aws_vpc_endpoint.{name}"), tuple(found))


def function_findings(document: Document) -> Iterator[Finding]:
    net = Network(document)
    has_vpc = bool(_resources(document, "aws_vpc"))
    for name, function in sorted(_resources(document, "aws_lambda_function").items()):
        vpc = function.get("vpc_config")
        caller = f"aws_lambda_function.{name}"
        if not vpc:
            # A stack without a VPC (the account baseline): the function calls AWS's public
            # endpoints. Where the stack has a VPC, every function belongs in it.
            if has_vpc:
                yield Gap(caller, "vpc", "runs outside the stack's VPC, bypassing its endpoints and flow logs")
            continue
        groups, subnets = list(vpc["security_group_ids"]), list(vpc["subnet_ids"])
        services = called_services(document, function["role"])
        stores = named_stores(function)
        if PROXY_AUTH in services and not any(kind == "aws_db_proxy" for kind, _ in stores):
            yield Gap(caller, PROXY_AUTH, "allowed rds-db:connect but names no RDS Proxy endpoint in its environment")
        for kind, store in stores:
            yield store_check(net, caller, kind, store, groups)
        yield from _service_checks(net, caller, services, groups, subnets)


def resource_name(token: str) -> str:
    """The resource name in a `${type.name.attribute}` reference."""
    match = TOKEN.match(token)
    if match is None:
        raise ValueError(f"not a resource reference: {token!r}")
    return match.group(2)


def _service_checks(
    net: Network, caller: str, services: set[str], groups: list[str], subnets: list[str]
) -> Iterator[Check]:
    for prefix in sorted(services - {PROXY_AUTH}):
        service = ENDPOINT_SERVICE.get(prefix, prefix)
        check = gateway_check if service in GATEWAY_SERVICES else interface_check
        yield check(net, caller, service, groups, subnets)


def instance_groups(document: Document, group: dict[str, Any]) -> list[str]:
    """The security groups of an Auto Scaling group's instances (its launch template's)."""
    template = _resources(document, "aws_launch_template")[resource_name(group["launch_template"]["id"])]
    interfaces = template.get("network_interfaces", [])
    return (
        list(interfaces[0].get("security_groups", []))
        if interfaces
        else list(template.get("vpc_security_group_ids", []))
    )


def secret_clusters(document: Document, role_token: str) -> set[str]:
    """Aurora clusters whose endpoint is in a secret the role may read (the caller logs in there)."""
    readable = set()
    for policy in _resources(document, "aws_iam_role_policy").values():
        if policy["role"] != role_token.replace(".arn}", ".id}"):
            continue
        for statement in _statements(policy["policy"]):
            if "secretsmanager:GetSecretValue" in _actions(statement):
                resources = statement["Resource"]
                readable |= {resources} if isinstance(resources, str) else set(resources)
    clusters = set()
    for version in _resources(document, "aws_secretsmanager_secret_version").values():
        if version["secret_id"].replace(".id}", ".arn}") in readable:
            value = str(version.get("secret_string_wo") or version.get("secret_string") or "")
            clusters |= set(CLUSTER_ENDPOINT.findall(value))
    return clusters


def instance_findings(document: Document) -> Iterator[Finding]:
    net = Network(document)
    profiles = _resources(document, "aws_iam_instance_profile")
    for name, group in sorted(_resources(document, "aws_autoscaling_group").items()):
        caller = f"aws_autoscaling_group.{name}"
        template = _resources(document, "aws_launch_template")[resource_name(group["launch_template"]["id"])]
        profile = profiles[resource_name(template["iam_instance_profile"]["arn"])]
        role = profile["role"].replace(".name}", ".arn}")
        groups, subnets = instance_groups(document, group), list(group["vpc_zone_identifier"])
        services = called_services(document, role, frozenset())
        if any(t["key"] == GUARDDUTY_AGENT_TAG and t["value"] == "true" for t in group.get("tag", [])):
            services |= {"guardduty-data"}  # the Runtime Monitoring agent's telemetry
        yield from _service_checks(net, caller, services, groups, subnets)
        for cluster in sorted(secret_clusters(document, role)):
            yield store_check(net, caller, "aws_rds_cluster", cluster, groups)


def _group_check(
    net: Network, path: Path, groups: list[str], target_groups: Iterable[str], *, target: str, what: str = "target"
) -> Check:
    """`groups` reach `target_groups` on the path's port: egress on one side, ingress on the other.

    Gaps name `target` and call it `what` ("target", "store").
    """
    wanted, port, caller = set(target_groups), path.port, path.caller
    found = []
    if not any(r.get("referenced_security_group_id") in wanted and _covers(r, port) for r in net.egress(groups)):
        found.append(Gap(caller, target, f"no egress on {port} to the {what}'s security group"))
    if not any(
        r.get("referenced_security_group_id") in groups and _covers(r, port) for g in wanted for r in net.ingress(g)
    ):
        found.append(Gap(caller, target, f"the {what}'s security group does not admit the caller on {port}"))
    return Check(path, tuple(found))


def _forwarded_target_groups(document: Document, name: str, listener: dict[str, Any]) -> list[str]:
    """Target groups the listener forwards to, by its default action or any of its rules."""
    actions = list(listener.get("default_action", []))
    for rule in _resources(document, "aws_lb_listener_rule").values():
        if rule["listener_arn"] == _token("aws_lb_listener", name, "arn"):
            actions += rule.get("action", [])
    found = []
    for action in actions:
        if action.get("target_group_arn"):
            found.append(action["target_group_arn"])
        found += [group["arn"] for group in action.get("forward", {}).get("target_group", [])]
    return found


CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"


def cloudfront_origins(document: Document) -> dict[str, tuple[str, int]]:
    """Load balancer name -> (distribution, HTTPS port) for every load balancer that is an origin."""
    found = {}
    for name, distribution in sorted(_resources(document, "aws_cloudfront_distribution").items()):
        for origin in distribution.get("origin", []):
            match = TOKEN.match(str(origin.get("domain_name", "")))
            if match and match.group(1) == "aws_lb":
                port = int(origin.get("custom_origin_config", {}).get("https_port", HTTPS))
                found[match.group(2)] = (f"aws_cloudfront_distribution.{name}", port)
    return found


def _cloudfront_prefix_lists(document: Document) -> set[str]:
    lists = document.get("data", {}).get("aws_ec2_managed_prefix_list", {})
    return {
        f"${{data.aws_ec2_managed_prefix_list.{name}.id}}"
        for name, item in lists.items()
        if item.get("name") == CLOUDFRONT_ORIGIN_FACING
    }


def load_balancer_findings(document: Document) -> Iterator[Finding]:
    net = Network(document)
    balancers = _resources(document, "aws_lb")
    scaling_groups = _resources(document, "aws_autoscaling_group")
    fronted = cloudfront_origins(document)
    cloudfront_lists = _cloudfront_prefix_lists(document)
    for name, listener in sorted(_resources(document, "aws_lb_listener").items()):
        balancer_name = resource_name(listener["load_balancer_arn"])
        balancer, caller = balancers[balancer_name], f"aws_lb.{balancer_name}"
        groups, port = list(balancer.get("security_groups", [])), int(listener["port"])
        ingress = [r for g in groups for r in net.ingress(g)]
        listener_address = f"aws_lb_listener.{name}"
        if balancer_name in fronted:
            distribution, origin_port = fronted[balancer_name]
            if port == origin_port:
                admitted = any(r.get("prefix_list_id") in cloudfront_lists and _covers(r, port) for r in ingress)
                reason = f"the load balancer does not admit CloudFront's prefix list on {port}"
                yield Check(
                    Path(distribution, caller, port, listener_address),
                    () if admitted else (Gap(distribution, caller, reason),),
                )
            if any(r.get("cidr_ipv4") == ANYWHERE or r.get("cidr_ipv6") == "::/0" for r in ingress):
                yield Gap("internet", caller, "a CloudFront origin must be reachable through CloudFront only")
        elif not balancer.get("internal"):
            admitted = any(r.get("cidr_ipv4") == ANYWHERE and _covers(r, port) for r in ingress)
            reason = f"the internet-facing load balancer does not admit {port}"
            yield Check(
                Path("internet", caller, port, listener_address),
                () if admitted else (Gap("internet", listener_address, reason),),
            )
        for target_group in _forwarded_target_groups(document, name, listener):
            tg_name = resource_name(target_group)
            tg_port = int(_resources(document, "aws_lb_target_group")[tg_name]["port"])
            target = f"aws_lb_target_group.{tg_name}"
            served = sorted((n, g) for n, g in scaling_groups.items() if target_group in g.get("target_group_arns", []))
            if not served:
                yield Gap(caller, target, "no Auto Scaling group serves the target group")
            for scaling_name, scaling_group in served:
                path = Path(caller, f"aws_autoscaling_group.{scaling_name}", tg_port, target)
                yield _group_check(net, path, groups, instance_groups(document, scaling_group), target=target)


def load_balancer_gaps(document: Document) -> list[Gap]:
    """The load balancers' gaps alone (the internet's, CloudFront's and their targets' paths)."""
    return _gaps_of(load_balancer_findings(document))


def vpc_link_findings(document: Document) -> Iterator[Finding]:
    net = Network(document)
    for name, integration in sorted(_resources(document, "aws_apigatewayv2_integration").items()):
        if integration.get("connection_type") != "VPC_LINK":
            continue
        link = _resources(document, "aws_apigatewayv2_vpc_link")[resource_name(integration["connection_id"])]
        listener = _resources(document, "aws_lb_listener")[resource_name(integration["integration_uri"])]
        balancer_name = resource_name(listener["load_balancer_arn"])
        balancer = _resources(document, "aws_lb")[balancer_name]
        target = f"aws_lb.{balancer_name}"
        path = Path(
            f"aws_apigatewayv2_integration.{name}",
            target,
            int(listener["port"]),
            f"aws_apigatewayv2_vpc_link.{resource_name(integration['connection_id'])}",
        )
        yield _group_check(
            net, path, list(link["security_group_ids"]), balancer.get("security_groups", []), target=target
        )


def named_stores(function: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, name) of every data store whose endpoint the function's environment names."""
    variables = function.get("environment", {}).get("variables", {})
    found = set()
    for value in variables.values():
        match = TOKEN.match(str(value))
        if match and match.group(3) in STORE_ENDPOINTS.get(match.group(1), ((), ""))[0]:
            found.add((match.group(1), match.group(2)))
    return sorted(found)


def store_port(kind: str, store: dict[str, Any]) -> int:
    if kind == "aws_db_proxy":
        return PROXY_PORTS[store["engine_family"]]
    if kind == "aws_rds_cluster":
        return int(store.get("port") or ENGINE_PORTS[store["engine"]])
    return int(store.get("port") or 6379)


def store_check(net: Network, caller: str, kind: str, name: str, groups: list[str]) -> Check:
    """The caller reaches the store it names: egress to the store's group on its port, admitted there."""
    store = _resources(net.document, kind)[name]
    target = f"{kind}.{name}"
    path = Path(caller, target, store_port(kind, store))
    return _group_check(net, path, groups, store.get(STORE_ENDPOINTS[kind][1], []), target=target, what="store")


def proxy_intruders(document: Document) -> Iterator[Gap]:
    """Groups a proxy admits that belong to no function allowed to connect through it."""
    net = Network(document)
    allowed = {
        group
        for function in _resources(document, "aws_lambda_function").values()
        if PROXY_AUTH in called_services(document, function["role"])
        for group in function.get("vpc_config", {}).get("security_group_ids", [])
    }
    for name, proxy in sorted(_resources(document, "aws_db_proxy").items()):
        for group in proxy.get("vpc_security_group_ids", []):
            for rule in net.ingress(group):
                source = rule.get("referenced_security_group_id") or rule.get("cidr_ipv4") or rule.get("prefix_list_id")
                if source not in allowed:
                    yield Gap(str(source), f"aws_db_proxy.{name}", "admitted to the proxy without rds-db:connect")


def rule_pairs(document: Document) -> Iterator[Check]:
    """Every security-group-to-group rule as a path between the groups; a missing other half (a data
    store's port open on one side only) is its gap."""
    ingress = _resources(document, "aws_vpc_security_group_ingress_rule")
    egress = _resources(document, "aws_vpc_security_group_egress_rule")

    def pairs(rules: dict[str, dict[str, Any]], outward: bool) -> dict[tuple[str, str, int], str]:
        found = {}
        for name, rule in rules.items():
            other = rule.get("referenced_security_group_id")
            if other is None:
                continue
            source, target = (rule["security_group_id"], other) if outward else (other, rule["security_group_id"])
            found[(source, target, int(rule["from_port"]))] = name
        return found

    inbound, outbound = pairs(ingress, outward=False), pairs(egress, outward=True)
    for source, target, port in sorted(set(inbound) | set(outbound)):
        key = (source, target, port)
        if key not in outbound:
            reason = f"ingress on {port} ({inbound[key]}) without the caller's egress"
        elif key not in inbound:
            reason = f"egress on {port} ({outbound[key]}) without the target's ingress"
        else:
            yield Check(Path(source, target, port))
            continue
        yield Check(Path(source, target, port), (Gap(source, target, reason),))


def _findings(document: Document) -> Iterator[Finding]:
    yield from function_findings(document)
    yield from instance_findings(document)
    yield from load_balancer_findings(document)
    yield from vpc_link_findings(document)
    yield from rule_pairs(document)
    yield from proxy_intruders(document)


def _gaps_of(findings: Iterable[Finding]) -> list[Gap]:
    return sorted(gap for f in findings for gap in (f.gaps if isinstance(f, Check) else (f,)))


def gaps(document: Document) -> list[Gap]:
    """Every missing path in the document, sorted; empty when every caller reaches what it calls."""
    return _gaps_of(_findings(document))


def paths(document: Document) -> list[Path]:
    """Every proven path (both halves present), sorted and without repeats: what the diagrams draw."""
    return sorted({f.path for f in _findings(document) if isinstance(f, Check) and not f.gaps})


def main(argv: list[str]) -> int:
    found = [gap for path in argv for gap in gaps(json.loads(pathlib.Path(path).read_text()))]
    for gap in found:
        print(gap)
    print(f"reachability: {len(found)} gap(s) in {len(argv)} file(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
