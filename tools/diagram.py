"""Architecture diagrams drawn from the synthesized `cdk.tf.json`, so they cannot go stale.

`model()` reads the environment stack (the VPC's tiers and zones, the edge, compute, functions,
data stores, queues and buses) and the account baseline (the governance services) into a `Graph`
whose edges are exactly `lib.reachability.paths()`: nothing is drawn that the network check does
not prove. Resources are aggregated (one node for the interface endpoints, one per layer of three
or more functions) so a profile reads at README size. `to_dot()` writes it deterministically.

Graphviz over a pure-Python renderer: `dot`'s layered layout routes edges around nested clusters
and places their labels without overlaps, which no pure-Python package on PyPI does as well; it is
one Debian package, installed with the test servers (`scripts/ensure-test-servers.sh`).

    tap diagram [--profile P|all] [--out docs/diagrams]     # `make diagram`: every profile
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib import reachability
from tools import CouldNotRun

Document = Mapping[str, Any]

DIAGRAMS = Path("docs/diagrams")
PACKAGE = "graphviz"
# Columns of the grid a cluster without edges is packed into (see `_placement`).
GRID_COLUMNS = 5
# Aggregate a layer's functions into one node from this many on.
GROUP_FUNCTIONS_FROM = 3
# A PNG is read at README width (about 1000-1400 px): larger drawings are scaled down to PNG_WIDTH.
PNG_DPI = 96
PNG_WIDTH = 1400
FONT = "Helvetica"
TIERS = ("public", "private", "database")
PATH_HASH = re.compile(r"_[0-9A-F]{8}$")

# Fill color of each kind of node, and of the cluster that holds it.
COLORS = {
    "external": "#ffffff",
    "edge": "#fde2c4",
    "compute": "#cfe3f7",
    "function": "#fbefb6",
    "endpoint": "#e4d7f0",
    "data": "#cdeed9",
    "messaging": "#f7d3d0",
    "governance": "#e5e8e8",
}
CLUSTER_COLORS = {
    "vpc": ("#1f5f99", "#f7fbff"),
    "tier": ("#7a9cc0", "#eef4fb"),
    "edge": ("#c9752b", "#fff8f0"),
    "data": ("#2f8a53", "#f3fbf6"),
    "messaging": ("#b5473e", "#fdf5f4"),
    "governance": ("#707b7c", "#f8f9f9"),
}


@dataclass(frozen=True, order=True)
class Node:
    id: str
    label: str
    kind: str


@dataclass(frozen=True)
class Cluster:
    """A box on the diagram: the VPC (holding one cluster per subnet tier) or a group of services."""

    id: str
    label: str
    kind: str
    nodes: tuple[str, ...] = ()
    clusters: tuple[Cluster, ...] = ()

    def walk(self) -> Iterable[Cluster]:
        yield self
        for child in self.clusters:
            yield from child.walk()


@dataclass(frozen=True, order=True)
class Edge:
    """`caller` reaches `callee`; `label` lists the ports of the reachability paths it draws."""

    caller: str
    callee: str
    label: str
    paths: tuple[reachability.Path, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Graph:
    title: str
    nodes: tuple[Node, ...]
    clusters: tuple[Cluster, ...]
    edges: tuple[Edge, ...]

    def cluster(self, cluster_id: str) -> Cluster:
        return next(c for top in self.clusters for c in top.walk() if c.id == cluster_id)


def _resources(document: Document, kind: str) -> dict[str, dict[str, Any]]:
    return dict(sorted(document.get("resource", {}).get(kind, {}).items()))


def _short(name: str, *drop: str) -> str:
    """A resource's construct path without its layer, hash and kind words: "payment validation"."""
    layer, *rest = PATH_HASH.sub("", name).split("_")
    return " ".join(part for part in rest if part not in drop) or layer


def _id(prefix: str, name: str) -> str:
    """A node id from a resource name, without the construct path's hash (stable and readable)."""
    return f"{prefix}_{PATH_HASH.sub('', name)}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _lines(words: Iterable[str], per_line: int = 3) -> str:
    items = list(words)
    return "\n".join(" · ".join(items[i : i + per_line]) for i in range(0, len(items), per_line))


def _compact_cidrs(cidrs: list[str]) -> str:
    """10.0.10.0/24, 10.0.11.0/24, 10.0.12.0/24 -> 10.0.10-12.0/24 (consecutive third octets)."""
    parts = [re.match(r"^(\d+\.\d+)\.(\d+)\.(\d+/\d+)$", c) for c in cidrs]
    if all(parts) and len({(p[1], p[3]) for p in parts if p}) == 1:
        thirds = sorted(int(p[2]) for p in parts if p)
        if thirds == list(range(thirds[0], thirds[0] + len(thirds))):
            first = parts[0]
            assert first is not None
            span = str(thirds[0]) if len(thirds) == 1 else f"{thirds[0]}-{thirds[-1]}"
            return f"{first[1]}.{span}.{first[3]}"
    return ", ".join(cidrs)


def _compact_zones(zones: list[str]) -> str:
    """us-east-1a, us-east-1b -> us-east-1a/b."""
    region = zones[0][:-1]
    if all(z[:-1] == region for z in zones):
        return region + "/".join(z[-1] for z in zones)
    return ", ".join(zones)


class _Builder:
    """Collects nodes into clusters and the resource addresses each node stands for."""

    def __init__(self, environment: Document, baseline: Document) -> None:
        self.env, self.baseline = environment, baseline
        self.address: dict[str, str] = {"internet": "internet"}  # resource address -> node id
        self.nodes: dict[str, Node] = {}
        self.members: dict[str, list[str]] = defaultdict(list)  # cluster id -> node ids
        self.subnet_tier = {
            f"${{aws_subnet.{name}.id}}": subnet.get("tags", {}).get("Tier", "private")
            for name, subnet in _resources(environment, "aws_subnet").items()
        }

    def add(self, node_id: str, label: str, kind: str, cluster: str, addresses: Iterable[str] = ()) -> None:
        self.nodes[node_id] = Node(node_id, label, kind)
        self.members[cluster].append(node_id)
        for address in addresses:
            self.address[address] = node_id

    def tier(self, subnets: Iterable[str]) -> str:
        """The tier cluster of the first subnet found (the VPC's own cluster when none is)."""
        tiers = [self.subnet_tier[s] for s in subnets if s in self.subnet_tier]
        return f"tier_{tiers[0]}" if tiers else "vpc"

    def subnets_of(self, kind: str, token: str) -> list[str]:
        """Subnets of a subnet group named by a `${kind.name.attribute}` token."""
        name = reachability.TOKEN.match(token)
        return list(_resources(self.env, kind)[name.group(2)]["subnet_ids"]) if name else []


def _vpc(b: _Builder) -> list[Cluster]:
    vpcs = _resources(b.env, "aws_vpc")
    if not vpcs:
        return []
    (vpc,) = vpcs.values()
    by_tier: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for subnet in _resources(b.env, "aws_subnet").values():
        by_tier[subnet.get("tags", {}).get("Tier", "private")].append(subnet)
    tiers = []
    for tier in sorted(by_tier, key=lambda t: (TIERS.index(t) if t in TIERS else len(TIERS), t)):
        subnets = sorted(by_tier[tier], key=lambda s: str(s["cidr_block"]))
        zones = _compact_zones(sorted(s["availability_zone"] for s in subnets))
        cidrs = _compact_cidrs([s["cidr_block"] for s in subnets])
        label = f"{tier} subnets\n{zones} · {cidrs}"
        tiers.append(Cluster(f"tier_{tier}", label, "tier", tuple(sorted(b.members[f"tier_{tier}"]))))
    nat = len(_resources(b.env, "aws_nat_gateway"))
    region = b.env.get("provider", {}).get("aws", [{}])[0].get("region", "")
    label = f"VPC {vpc['cidr_block']} · {region} · {_plural(nat, 'NAT gateway') if nat else 'no NAT'}"
    return [Cluster("vpc", label, "vpc", tuple(sorted(b.members["vpc"])), tuple(tiers))]


def _network_nodes(b: _Builder) -> None:
    """Everything with subnets: load balancers, instances, functions, endpoints, data stores."""
    for name, lb in _resources(b.env, "aws_lb").items():
        facing = "internal" if lb.get("internal") else "internet-facing"
        b.add(_id("lb", name), f"ALB\n{facing}", "edge", b.tier(lb["subnets"]), [f"aws_lb.{name}"])
    templates = _resources(b.env, "aws_launch_template")
    for name, asg in _resources(b.env, "aws_autoscaling_group").items():
        template = templates[reachability.resource_name(asg["launch_template"]["id"])]
        size = f"{asg['min_size']}-{asg['max_size']} x {template.get('instance_type', '')}"
        label = f"ASG {_short(name, 'group')}\n{size}"
        b.add(_id("asg", name), label, "compute", b.tier(asg["vpc_zone_identifier"]), [f"aws_autoscaling_group.{name}"])
    _functions(b)
    interface = {
        n: e for n, e in _resources(b.env, "aws_vpc_endpoint").items() if e["vpc_endpoint_type"] == "Interface"
    }
    gateway = {n: e for n, e in _resources(b.env, "aws_vpc_endpoint").items() if e["vpc_endpoint_type"] == "Gateway"}
    if interface:
        services = sorted(e["service_name"].rsplit(".", 1)[-1] for e in interface.values())
        label = f"{_plural(len(interface), 'interface endpoint')}\n{_lines(services)}"
        subnets = [s for e in interface.values() for s in e.get("subnet_ids", [])]
        b.add("endpoints_interface", label, "endpoint", b.tier(subnets), [f"aws_vpc_endpoint.{n}" for n in interface])
    if gateway:
        services = sorted(e["service_name"].rsplit(".", 1)[-1] for e in gateway.values())
        label = f"{_plural(len(gateway), 'gateway endpoint')}\n{' · '.join(services)}"
        # On route tables, not subnets: placed in the tier of the first subnet those tables serve.
        tables = {t for e in gateway.values() for t in e.get("route_table_ids", [])}
        associations = _resources(b.env, "aws_route_table_association").values()
        subnets = sorted(a["subnet_id"] for a in associations if a["route_table_id"] in tables)
        placement = b.tier(sorted(subnets, key=lambda s: TIERS.index(b.subnet_tier.get(s, "private"))))
        b.add("endpoints_gateway", label, "endpoint", placement, [f"aws_vpc_endpoint.{n}" for n in gateway])
    instances: dict[str, int] = defaultdict(int)
    for instance in _resources(b.env, "aws_rds_cluster_instance").values():
        instances[instance["cluster_identifier"]] += 1
    for name, cluster in _resources(b.env, "aws_rds_cluster").items():
        engine = "PostgreSQL" if "postgresql" in cluster["engine"] else "MySQL"
        count = instances[f"${{aws_rds_cluster.{name}.id}}"]
        subnets = b.subnets_of("aws_db_subnet_group", cluster.get("db_subnet_group_name", ""))
        label = f"Aurora {engine}\n{_plural(count, 'instance')}"
        b.add(_id("rds", name), label, "data", b.tier(subnets), [f"aws_rds_cluster.{name}"])
    for name, proxy in _resources(b.env, "aws_db_proxy").items():
        auth = "IAM auth" if any(a.get("iam_auth") == "REQUIRED" for a in proxy.get("auth", [])) else "secret auth"
        b.add(
            _id("proxy", name), f"RDS Proxy\n{auth}", "data", b.tier(proxy["vpc_subnet_ids"]), [f"aws_db_proxy.{name}"]
        )
    for name, cache in _resources(b.env, "aws_elasticache_replication_group").items():
        subnets = b.subnets_of("aws_elasticache_subnet_group", cache.get("subnet_group_name", ""))
        label = f"ElastiCache Redis\n{_plural(int(cache.get('num_cache_clusters', 1)), 'node')}"
        b.add(_id("redis", name), label, "data", b.tier(subnets), [f"aws_elasticache_replication_group.{name}"])
    mounts = list(_resources(b.env, "aws_efs_mount_target").values())
    for name in _resources(b.env, "aws_efs_file_system"):
        subnets = [m["subnet_id"] for m in mounts if f"aws_efs_file_system.{name}." in m["file_system_id"]]
        label = f"EFS\n{_plural(len(subnets), 'mount target')}"
        b.add(_id("efs", name), label, "data", b.tier(subnets), [f"aws_efs_file_system.{name}"])


def _functions(b: _Builder) -> None:
    """One node per function, or one per layer (payments, data, ...) from GROUP_FUNCTIONS_FROM on."""
    layers: dict[tuple[str, str], list[str]] = defaultdict(list)
    functions = _resources(b.env, "aws_lambda_function")
    for name, function in functions.items():
        placement = b.tier(function.get("vpc_config", {}).get("subnet_ids", []))
        layers[(name.split("_")[0], placement)].append(name)
    for (layer, placement), names in sorted(layers.items()):
        if len(names) >= GROUP_FUNCTIONS_FROM:
            shorts = sorted(_short(n, "functions", "function") for n in names)
            label = f"{layer.capitalize()} functions ({len(names)})\n{_lines(shorts, 1)}"
            b.add(f"fn_{layer}", label, "function", placement, [f"aws_lambda_function.{n}" for n in names])
            continue
        for name in names:
            label = f"Function\n{_short(name, 'functions', 'function')}"
            b.add(_id("fn", name), label, "function", placement, [f"aws_lambda_function.{name}"])


def _edge_nodes(b: _Builder) -> None:
    for name in _resources(b.env, "aws_cloudfront_distribution"):
        b.add(_id("cdn", name), "CloudFront", "edge", "edge", [f"aws_cloudfront_distribution.{name}"])
    for name, acl in _resources(b.env, "aws_wafv2_web_acl").items():
        scope = "CloudFront" if acl.get("scope") == "CLOUDFRONT" else "regional"
        b.add(_id("waf", name), f"WAF\n{scope}", "edge", "edge")
    apis = _resources(b.env, "aws_apigatewayv2_api")
    routes = _resources(b.env, "aws_apigatewayv2_route").values()
    integrations = _resources(b.env, "aws_apigatewayv2_integration")
    for name in apis:
        count = sum(f"aws_apigatewayv2_api.{name}." in r["api_id"] for r in routes)
        wired = [f"aws_apigatewayv2_integration.{i}" for i, v in integrations.items() if f".{name}." in v["api_id"]]
        b.add(
            _id("api", name),
            f"HTTP API {_short(name, 'api', 'http')}\n{_plural(count, 'route')}",
            "edge",
            "edge",
            wired,
        )


def _service_nodes(b: _Builder) -> dict[str, str]:
    """Data and messaging services outside the VPC; returns the AWS service prefix -> node id."""

    def count(kind: str) -> int:
        return len(_resources(b.env, kind))

    tables = sorted(_short(n, "functions", "table") for n in _resources(b.env, "aws_dynamodb_table"))
    queues = list(_resources(b.env, "aws_sqs_queue"))
    dead = sum("dlq" in n for n in queues)
    services = [
        ("dynamodb", "data", len(tables), f"DynamoDB\n{_lines(tables, 2)}"),
        ("s3", "data", count("aws_s3_bucket"), f"S3\n{_plural(count('aws_s3_bucket'), 'bucket')}"),
        (
            "secretsmanager",
            "data",
            count("aws_secretsmanager_secret"),
            f"Secrets Manager\n{_plural(count('aws_secretsmanager_secret'), 'secret')}",
        ),
        ("sqs", "messaging", len(queues), f"SQS\n{_plural(len(queues) - dead, 'queue')} + {dead} DLQs"),
        ("sns", "messaging", count("aws_sns_topic"), f"SNS\n{_plural(count('aws_sns_topic'), 'topic')}"),
        (
            "events",
            "messaging",
            count("aws_cloudwatch_event_bus"),
            f"EventBridge\n{_plural(count('aws_cloudwatch_event_bus'), 'bus')}",
        ),
        (
            "firehose",
            "messaging",
            count("aws_kinesis_firehose_delivery_stream"),
            f"Firehose\n{_plural(count('aws_kinesis_firehose_delivery_stream'), 'stream')}",
        ),
    ]
    found = {}
    for service, cluster, present, label in services:
        if present:
            b.add(f"svc_{service}", label, cluster, cluster)
            found[service] = f"svc_{service}"
    return found


def _governance(b: _Builder) -> None:
    """The account baseline's singletons, and the environment's own governance resources."""
    both = (b.baseline, b.env)

    def count(kind: str) -> int:
        """Resources, each `for_each` one counted once per key (the Config rules are one such)."""
        return sum(
            len(body["for_each"]) if isinstance(body.get("for_each"), dict) else 1
            for document in both
            for body in _resources(document, kind).values()
        )

    services = [
        ("trail", "CloudTrail", _plural(count("aws_cloudtrail"), "trail")),
        ("config", "AWS Config", _plural(count("aws_config_config_rule"), "rule")),
        ("guardduty", "GuardDuty", _plural(count("aws_guardduty_detector_feature"), "feature")),
        ("securityhub", "Security Hub", _plural(count("aws_securityhub_standards_subscription"), "standard")),
        ("inspector", "Inspector", "enabled" if count("aws_inspector2_enabler") else ""),
        ("analyzer", "Access Analyzer", "enabled" if count("aws_accessanalyzer_analyzer") else ""),
        ("backup", "AWS Backup", _plural(count("aws_backup_vault"), "vault")),
        ("kms", "KMS", _plural(count("aws_kms_key"), "key")),
    ]
    markers = {
        "trail": "aws_cloudtrail",
        "config": "aws_config_configuration_recorder",
        "guardduty": "aws_guardduty_detector",
        "securityhub": "aws_securityhub_account",
        "inspector": "aws_inspector2_enabler",
        "analyzer": "aws_accessanalyzer_analyzer",
        "backup": "aws_backup_vault",
        "kms": "aws_kms_key",
    }
    for key, title, detail in services:
        if count(markers[key]):
            b.add(f"gov_{key}", f"{title}\n{detail}", "governance", "governance")
    for name in _resources(b.baseline, "aws_lambda_function"):
        b.add(_id("gov_fn", name), f"Function\n{_short(name, 'function')}", "function", "governance")


def _owners(b: _Builder) -> dict[str, list[str]]:
    """Security group -> the nodes whose resources it is attached to (a path's caller may be a group)."""
    owners: dict[str, set[str]] = defaultdict(set)
    attached = [
        ("aws_lb", "security_groups"),
        ("aws_rds_cluster", "vpc_security_group_ids"),
        ("aws_db_proxy", "vpc_security_group_ids"),
        ("aws_elasticache_replication_group", "security_group_ids"),
        ("aws_vpc_endpoint", "security_group_ids"),
    ]
    for kind, attribute in attached:
        for name, resource in _resources(b.env, kind).items():
            for group in resource.get(attribute, []):
                owners[group].add(b.address[f"{kind}.{name}"])
    for name, function in _resources(b.env, "aws_lambda_function").items():
        for group in function.get("vpc_config", {}).get("security_group_ids", []):
            owners[group].add(b.address[f"aws_lambda_function.{name}"])
    for name, asg in _resources(b.env, "aws_autoscaling_group").items():
        for group in reachability.instance_groups(dict(b.env), asg):
            owners[group].add(b.address[f"aws_autoscaling_group.{name}"])
    links = _resources(b.env, "aws_apigatewayv2_vpc_link")
    for name, integration in _resources(b.env, "aws_apigatewayv2_integration").items():
        if integration.get("connection_type") == "VPC_LINK":
            link = links[reachability.resource_name(integration["connection_id"])]
            for group in link["security_group_ids"]:
                owners[group].add(b.address[f"aws_apigatewayv2_integration.{name}"])
    for mount in _resources(b.env, "aws_efs_mount_target").values():
        for group in mount.get("security_groups", []):
            owners[group].add(b.address[f"aws_efs_file_system.{reachability.resource_name(mount['file_system_id'])}"])
    return {group: sorted(nodes) for group, nodes in owners.items()}


def _edges(b: _Builder, services: Mapping[str, str]) -> list[Edge]:
    """Each proven path as one hop (caller -> callee) or two (caller -> endpoint -> service)."""
    owners = _owners(b)
    drawn: dict[tuple[str, str], list[reachability.Path]] = defaultdict(list)

    def ends(address: str) -> list[str]:
        """A path's end: the internet, a resource's node, or the nodes a security group is attached to."""
        if address == "internet" and address not in b.nodes:
            b.add("internet", "Internet", "external", "")
        return [b.address[address]] if address in b.address else owners[address]

    for path in reachability.paths(dict(b.env)):
        hops: list[tuple[list[str], list[str]]]
        if path.via.startswith("aws_vpc_endpoint."):
            endpoint = [b.address[path.via]]
            hops = [(ends(path.caller), endpoint)]
            if path.callee in services:
                hops.append((endpoint, [services[path.callee]]))
        else:
            hops = [(ends(path.caller), ends(path.callee))]
        for callers, callees in hops:
            for caller in callers:
                for callee in callees:
                    drawn[(caller, callee)].append(path)
    return [
        Edge(caller, callee, ", ".join(str(p) for p in sorted({p.port for p in found})), tuple(sorted(set(found))))
        for (caller, callee), found in sorted(drawn.items())
    ]


def model(environment: Document, baseline: Document, *, title: str = "") -> Graph:
    """The architecture of one profile: its environment stack and the account baseline beside it."""
    b = _Builder(environment, baseline)
    _network_nodes(b)
    _edge_nodes(b)
    services = _service_nodes(b)
    _governance(b)
    edges = _edges(b, services)
    groups = [
        ("edge", "Edge"),
        ("data", "Data stores"),
        ("messaging", "Messaging"),
        ("governance", "Governance · account baseline and environment"),
    ]
    clusters = _vpc(b) + [
        Cluster(cluster, label, cluster, tuple(sorted(b.members[cluster])))
        for cluster, label in groups
        if b.members[cluster]
    ]
    return Graph(title, tuple(sorted(b.nodes.values())), tuple(clusters), tuple(edges))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attributes(**values: str | int | float) -> str:
    return "[" + ", ".join(f"{key}={_quote(str(value))}" for key, value in values.items()) + "]"


def _cluster_lines(cluster: Cluster, nodes: Mapping[str, Node], connected: set[str], depth: int) -> list[str]:
    pad = "  " * depth
    border, fill = CLUSTER_COLORS[cluster.kind]
    lines = [
        f"{pad}subgraph {_quote('cluster_' + cluster.id)} {{",
        f"{pad}  graph {_attributes(label=cluster.label, color=border, fillcolor=fill, fontcolor=border, fontsize=15)}",
        # Tier titles bottom left, away from the edges that enter from the top and run right.
        *([f"{pad}  graph {_attributes(labeljust='l', labelloc='b')}"] if cluster.kind == "tier" else []),
    ]
    lines += [f"{pad}  {_node_line(nodes[node])}" for node in cluster.nodes]
    lines += [f"{pad}  {line}" for line in _placement(cluster, connected)]
    for child in cluster.clusters:
        lines += _cluster_lines(child, nodes, connected, depth + 1)
    return [*lines, f"{pad}}}"]


def _placement(cluster: Cluster, connected: set[str]) -> list[str]:
    """Layout only, nothing drawn: `dot` would stack a cluster's nodes without edges in the first
    column. They share the rank of the cluster's first connected node instead; in a cluster with
    none, invisible edges pack them into rows of GRID_COLUMNS."""
    loose = [n for n in cluster.nodes if n not in connected]
    anchors = [n for n in cluster.nodes if n in connected]
    if not loose:
        return []
    if anchors:
        return [f"{{rank=same; {'; '.join(_quote(n) for n in [anchors[0], *loose])}}}"]
    rows = [loose[i : i + GRID_COLUMNS] for i in range(0, len(loose), GRID_COLUMNS)]
    return [
        f"{_quote(a)} -> {_quote(b)} {_attributes(style='invis')}" for row in rows for a, b in itertools.pairwise(row)
    ]


def _node_line(node: Node) -> str:
    return f"{_quote(node.id)} {_attributes(label=node.label, fillcolor=COLORS[node.kind])}"


def to_dot(graph: Graph) -> str:
    """Graphviz source for the graph: deterministic (sorted, no timestamps), so it can be committed."""
    nodes = {node.id: node for node in graph.nodes}
    clustered = {n for top in graph.clusters for c in top.walk() for n in c.nodes}
    connected = {end for edge in graph.edges for end in (edge.caller, edge.callee)}
    lines = [
        f"digraph {_quote(graph.title or 'architecture')} {{",
        "  graph "
        + _attributes(
            label=graph.title,
            labelloc="t",
            fontname=FONT,
            fontsize=20,
            rankdir="LR",
            newrank="true",
            nodesep=0.2,
            ranksep=0.35,
            style="rounded,filled",
            penwidth=1.5,
            fontcolor="#222222",
        ),
        "  node " + _attributes(shape="box", style="rounded,filled", fontname=FONT, fontsize=13, color="#555555"),
        "  edge " + _attributes(fontname=FONT, fontsize=12, color="#4d5656", fontcolor="#1b2631", arrowsize=0.7),
    ]
    lines += [f"  {_node_line(node)}" for node in graph.nodes if node.id not in clustered]
    for cluster in graph.clusters:
        lines += _cluster_lines(cluster, nodes, connected, 1)
    lines += [
        f"  {_quote(edge.caller)} -> {_quote(edge.callee)} {_attributes(label=edge.label)}" for edge in graph.edges
    ]
    return "\n".join([*lines, "}"]) + "\n"


class DiagramError(CouldNotRun):
    """Rendering is impossible here (Graphviz is missing) or failed."""


def render(dot: str, out_dir: Path, name: str) -> tuple[Path, Path]:
    """Writes `<name>.svg` and `<name>.png` with Graphviz's `dot`."""
    executable = shutil.which("dot")
    if executable is None:
        raise DiagramError(
            f"Graphviz's `dot` is not on PATH: install the Debian package `{PACKAGE}` "
            f"(apt-get install {PACKAGE}; `bash scripts/ensure-test-servers.sh` does it)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    svg, png = out_dir / f"{name}.svg", out_dir / f"{name}.png"
    for target, options in (
        (svg, ["-Tsvg"]),
        (png, ["-Tpng", f"-Gdpi={PNG_DPI}", f"-Gsize={PNG_WIDTH / PNG_DPI:.2f},100"]),
    ):
        done = subprocess.run(  # noqa: S603 (our own DOT, to the `dot` found on PATH)
            [executable, *options, "-o", str(target)], input=dot, text=True, capture_output=True, check=False
        )
        if done.returncode != 0:
            raise DiagramError(f"dot {' '.join(options)} failed for {name}: {done.stderr.strip()}")
    return svg, png


def write(label: str, environment_file: Path, baseline_file: Path, out_dir: Path) -> list[Path]:
    """Writes `<label>.dot`, `.svg` and `.png` for one synthesized environment and its baseline."""
    environment = json.loads(Path(environment_file).read_text())
    baseline = json.loads(Path(baseline_file).read_text())
    dot = to_dot(model(environment, baseline, title=label))
    out_dir.mkdir(parents=True, exist_ok=True)
    source = out_dir / f"{label}.dot"
    source.write_text(dot)
    return [source, *render(dot, out_dir, label)]
