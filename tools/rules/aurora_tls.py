"""TAP-RDS-1: every Aurora cluster's parameter group forces TLS.

Engine defaults accept plaintext connections. Checkov's CKV2_AWS_69 reads `aws_db_instance` and
`aws_db_parameter_group` only, never a cluster's `aws_rds_cluster_parameter_group`.
"""

from __future__ import annotations

from tools.rules import Evidence, Outcome, Rule, Stacks, Violation
from tools.rules._terraform import blocks, of_kind, outcome, resolve

# Engine family -> (parameter, values that force TLS).
FORCING = {
    "postgres": ("rds.force_ssl", {"1"}),
    "mysql": ("require_secure_transport", {"ON", "1"}),
}


def check(stacks: Stacks) -> Outcome:
    clusters = of_kind(stacks, "aws_rds_cluster")
    if not clusters:
        return Outcome(not_applicable="No Aurora cluster.")
    evidence: list[Evidence] = []
    violations: list[Violation] = []
    for cluster in clusters:
        engine = str(cluster.body.get("engine", "aurora"))
        family = "postgres" if "postgres" in engine else "mysql"  # "aurora" is Aurora MySQL 5.6
        parameter, forcing = FORCING[family]
        group = resolve(
            stacks,
            cluster.stack,
            cluster.body.get("db_cluster_parameter_group_name"),
            "aws_rds_cluster_parameter_group",
        )
        if group is None:
            violations.append(
                cluster.violation(
                    f"Has no declared cluster parameter group, so the engine default accepts plaintext: set {parameter}."
                )
            )
            continue
        values = [str(p.get("value")) for p in blocks(group.body.get("parameter")) if p.get("name") == parameter]
        if values and values[-1].upper() in forcing:
            evidence.append(group.evidence(f"parameter[{parameter}]", values[-1]))
        else:
            violations.append(
                cluster.violation(
                    f"Its parameter group {group.address} does not force TLS: set {parameter} to {sorted(forcing)[0]}."
                )
            )
    return outcome(evidence, violations)


RULE = Rule(
    id="TAP-RDS-1",
    title="Every Aurora cluster's parameter group forces TLS",
    requirements=("4.2.1",),
    source="judgement",
    basis=(
        "uncovered.md row 3; AWS maps the instance-level rds-*-encrypted-in-transit rules, none for clusters; "
        "analyst judgement"
    ),
    verify_in_account=(
        "The cluster runs with the group in sync after the pending reboot (rds describe-db-clusters: "
        "DBClusterParameterGroupStatus in-sync)."
    ),
    check=check,
)
