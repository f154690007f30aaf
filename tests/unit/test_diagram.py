"""Architecture diagrams (`tools/diagram.py`): drawn from the synthesized JSON, with the network check's
proven paths as their only edges, and committed under docs/diagrams/ so the README shows them."""

from __future__ import annotations

import copy
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lib.reachability import paths
from tests.conftest import Document, Synthesized, address_name, resources
from tools import diagram
from tools.diagram import DIAGRAMS, DiagramError, Graph, model, render, to_dot, write

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ISOLATED_DATABASE_TIER = {"full", "serverless-payments"}


def graph_of(synthesized: Synthesized, profile: str, document: Document | None = None) -> Graph:
    return model(document or synthesized(profile), synthesized.baseline(profile), title=profile)


def labels(graph: Graph) -> list[str]:
    return [node.label.replace("\n", " ") for node in graph.nodes]


def edges(graph: Graph) -> set[tuple[str, str, str]]:
    return {(edge.caller, edge.callee, edge.label) for edge in graph.edges}


def test_the_vpc_holds_one_cluster_per_subnet_tier(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    tiers = {subnet["tags"]["Tier"] for subnet in resources(doc, "aws_subnet").values()}
    graph = graph_of(synthesized, profile)
    assert {cluster.id for cluster in graph.cluster("vpc").clusters} == {f"tier_{tier}" for tier in tiers}
    assert ("database" in tiers) is (profile in ISOLATED_DATABASE_TIER)
    # Zones and CIDRs, compactly: "us-east-1a/b/c · 10.0.10-12.0/24".
    private = graph.cluster("tier_private").label
    assert "1a/b/c · 10.0.1" in private and private.endswith(".0/24")
    assert graph.clusters[0].id == "vpc"
    assert {c.id for c in graph.clusters} <= {"vpc", "edge", "data", "messaging", "governance"}


def test_the_governance_group_shows_the_account_baseline(synthesized: Synthesized, profile: str) -> None:
    governance = graph_of(synthesized, profile).cluster("governance")
    assert {"gov_trail", "gov_config", "gov_guardduty", "gov_securityhub", "gov_kms"} <= set(governance.nodes)


KEY_NODES = {
    "web-mysql": ["Internet", "ALB internet-facing", "ASG web", "Aurora MySQL 2 instances", "Function secret rotation"],
    "portal-cdn": ["CloudFront", "WAF CloudFront", "WAF regional", "ALB internet-facing", "Aurora MySQL"],
    "serverless-payments": [
        "Payments functions (4)",
        "DynamoDB idempotency · transactions velocity",
        "SQS 2 queues + 7 DLQs",
        "EventBridge 1 bus",
        "HTTP API payments",
        "ALB internal",
    ],
    "transactions-pg": ["Function transactions api", "Aurora PostgreSQL", "ElastiCache Redis 3 nodes", "EFS"],
    "secure-platform": ["RDS Proxy IAM auth", "Payments functions", "11 interface endpoints", "2 gateway endpoints"],
    "full": ["CloudFront", "RDS Proxy", "ElastiCache Redis", "Payments functions (5)", "ASG blue", "ASG batch"],
}


def test_each_profile_has_its_key_nodes(synthesized: Synthesized, profile: str) -> None:
    found = labels(graph_of(synthesized, profile))
    missing = [key for key in KEY_NODES[profile] if not any(label.startswith(key) for label in found)]
    assert not missing, f"{profile}: no node for {missing} in {found}"


KEY_EDGES = {
    "web-mysql": [
        ("internet", "lb_edge_load_balancer", "80, 443"),
        ("lb_edge_load_balancer", "asg_compute_web_group", "8080"),
        ("asg_compute_web_group", "rds_data_database_cluster", "3306"),
        ("asg_compute_web_group", "endpoints_interface", "443"),
        ("endpoints_gateway", "svc_s3", "443"),
    ],
    "portal-cdn": [("cdn_edge_cdn_distribution", "lb_edge_load_balancer", "443")],
    "serverless-payments": [
        ("api_payments_api", "lb_edge_load_balancer", "443"),  # through the VPC link
        ("fn_payments", "endpoints_gateway", "443"),
        ("endpoints_gateway", "svc_dynamodb", "443"),
        ("endpoints_interface", "svc_sqs", "443"),
    ],
    "transactions-pg": [
        ("fn_payments_transactions_api_function", "redis_data_cache_replication_group", "6379"),
        ("fn_payments_transactions_api_function", "rds_data_database_cluster", "5432"),
    ],
    "secure-platform": [("fn_payments", "proxy_data_database_proxy", "5432")],
    "full": [
        ("proxy_data_database_proxy", "rds_data_database_cluster", "5432"),
        ("fn_payments", "redis_data_cache_replication_group", "6379"),
        ("fn_data_secret_rotation_function", "rds_data_database_cluster", "5432"),
    ],
}


def test_each_profile_has_its_key_edges_labelled_with_ports(synthesized: Synthesized, profile: str) -> None:
    found = edges(graph_of(synthesized, profile))
    missing = [edge for edge in KEY_EDGES[profile] if edge not in found]
    assert not missing, f"{profile}: no edge {missing}"


def test_the_edges_are_exactly_the_proven_paths(synthesized: Synthesized, profile: str) -> None:
    """Nothing drawn that the reachability check does not prove, and nothing it proves left out."""
    doc = synthesized(profile)
    graph = graph_of(synthesized, profile)
    assert all(edge.paths for edge in graph.edges)
    assert {path for edge in graph.edges for path in edge.paths} == set(paths(doc))
    for edge in graph.edges:
        assert edge.label == ", ".join(str(port) for port in sorted({p.port for p in edge.paths}))
    node_ids = {node.id for node in graph.nodes}
    assert {end for edge in graph.edges for end in (edge.caller, edge.callee)} <= node_ids


def test_a_removed_security_group_rule_removes_its_edge(synthesized: Synthesized) -> None:
    doc = copy.deepcopy(synthesized("web-mysql"))
    for kind, path in (
        ("aws_vpc_security_group_ingress_rule", "data_database_app_to_database_ingress"),
        ("aws_vpc_security_group_egress_rule", "data_database_app_to_database_egress"),
    ):
        del doc["resource"][kind][address_name(doc, kind, path)]
    before, after = edges(graph_of(synthesized, "web-mysql")), edges(graph_of(synthesized, "web-mysql", doc))
    assert before - after == {("asg_compute_web_group", "rds_data_database_cluster", "3306")}
    assert after < before


def test_one_side_of_a_rule_is_not_a_path_to_draw(synthesized: Synthesized) -> None:
    """Half a path is a gap, not an edge: the load balancer's targets stop admitting it."""
    doc = copy.deepcopy(synthesized("web-mysql"))
    kind = "aws_vpc_security_group_ingress_rule"
    del doc["resource"][kind][address_name(doc, kind, "edge_load_balancer_to_targets_ingress")]
    assert not [e for e in edges(graph_of(synthesized, "web-mysql", doc)) if e[0] == "lb_edge_load_balancer"]


def test_the_dot_is_deterministic_and_sorted(synthesized: Synthesized) -> None:
    first = to_dot(graph_of(synthesized, "full"))
    assert first == to_dot(graph_of(synthesized, "full"))
    edge_lines = [line for line in first.splitlines() if " -> " in line and "invis" not in line]
    assert edge_lines == sorted(edge_lines) and len(edge_lines) == len(graph_of(synthesized, "full").edges)


def test_the_committed_diagrams_are_current(synthesized: Synthesized, profile: str) -> None:
    committed = ROOT / DIAGRAMS / f"{profile}.dot"
    current = to_dot(graph_of(synthesized, profile))
    assert committed.exists() and committed.read_text() == current, (
        f"{committed.relative_to(ROOT)} is stale: run `make diagram` and commit docs/diagrams/"
    )
    assert (ROOT / DIAGRAMS / f"{profile}.svg").exists() and (ROOT / DIAGRAMS / f"{profile}.png").exists()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_rendering_writes_a_valid_svg_and_png(synthesized: Synthesized, tmp_path: Path) -> None:
    svg, png = render(to_dot(graph_of(synthesized, "web-mysql")), tmp_path, "web-mysql")
    root = ET.parse(svg).getroot()  # noqa: S314 (our own rendering)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "Aurora MySQL" in svg.read_text()
    width, height = png_size(png)
    assert 800 <= width <= diagram.PNG_WIDTH and height > 300


def test_write_writes_the_dot_svg_and_png_of_a_synthesis(synthesized: Synthesized, tmp_path: Path) -> None:
    result, _ = synthesized.result("transactions-pg")
    written = write("txn", result.output_file, result.baseline_file, tmp_path / "out")
    assert [p.name for p in written] == ["txn.dot", "txn.svg", "txn.png"]
    assert written[0].read_text() == to_dot(graph_of(synthesized, "transactions-pg")).replace(
        '"transactions-pg"', '"txn"'
    )


def test_without_graphviz_the_error_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(diagram.shutil, "which", lambda _name: None)
    with pytest.raises(DiagramError, match=r"apt-get install graphviz"):
        render("digraph {}", tmp_path, "empty")
    assert not list(tmp_path.iterdir())
