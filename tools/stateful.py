"""Pinned Terraform addresses of the resources that hold data, per profile and stack.

Terraform identifies a resource by its address. A refactor that renames a construct changes the
address, and the next apply destroys the old resource and creates an empty one: a key, a bucket,
a database. `compliance/stateful-addresses.json` lists every such address;
`tests/unit/test_stateful_addresses.py` fails when one disappears or a new one is not pinned.

When a rename is meant, add a `moved` block for it (see the README), then regenerate:

    make pin        # python -m tools.stateful --write
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PINNED_PATH = Path(__file__).resolve().parent.parent / "compliance" / "stateful-addresses.json"
# Types whose replacement loses data, keys, or messages in flight.
STATEFUL_TYPES = frozenset(
    {
        "aws_kms_key",
        "aws_s3_bucket",
        "aws_rds_cluster",
        "aws_rds_cluster_instance",
        "aws_dynamodb_table",
        "aws_efs_file_system",
        "aws_elasticache_replication_group",
        "aws_secretsmanager_secret",
        "aws_cloudwatch_log_group",
        "aws_sqs_queue",  # dead-letter queues hold the payments that failed
        # Deleting either deletes its findings.
        "aws_guardduty_detector",
        "aws_securityhub_account",
        "aws_config_configuration_recorder",
        # Holds the recovery points (a locked vault cannot be deleted before they expire anyway).
        "aws_backup_vault",
    }
)
ENVIRONMENT, BASELINE = "environment", "baseline"
Pins = dict[str, dict[str, list[str]]]


def stateful_addresses(document: Mapping[str, Any]) -> list[str]:
    """Sorted `type.name` addresses of the document's stateful resources."""
    resources = document.get("resource", {})
    return sorted(f"{kind}.{name}" for kind in STATEFUL_TYPES for name in resources.get(kind, {}))


def moves(document: Mapping[str, Any]) -> dict[str, str]:
    """The document's `moved` blocks, from -> to (what `resource.move_from_id(old)` emits)."""
    return {str(block["from"]): str(block["to"]) for block in document.get("moved", [])}


@dataclass(frozen=True)
class Drift:
    """What changed against the pinned list for one profile's stack."""

    profile: str
    stack: str
    missing: list[str]  # pinned, now gone or renamed without a moved block: applying would destroy them
    unpinned: list[str]  # new and not yet pinned
    moved: list[str]  # renamed with a moved block: safe; `make pin` records the new address

    @property
    def safe(self) -> bool:
        """Nothing would be destroyed and nothing is unguarded; only pinning is left to do."""
        return not self.missing and not self.unpinned

    def __str__(self) -> str:
        lines = [f"{self.profile} {self.stack} stack:"]
        lines += [f"  GONE (apply would destroy it; add a moved block): {a}" for a in self.missing]
        lines += [f"  NEW (not pinned; run `make pin`): {a}" for a in self.unpinned]
        lines += [f"  MOVED (declared; run `make pin`): {a}" for a in self.moved]
        return "\n".join(lines)


def drift(
    pinned: Pins, profile: str, stack: str, addresses: Iterable[str], moved: Mapping[str, str] | None = None
) -> Drift | None:
    """None when `addresses` are exactly the pinned ones for that profile's stack."""
    expected, actual, moved = set(pinned.get(profile, {}).get(stack, [])), set(addresses), moved or {}
    if expected == actual:
        return None
    renamed = {old: new for old, new in moved.items() if old in expected - actual and new in actual - expected}
    return Drift(
        profile,
        stack,
        missing=sorted(expected - actual - set(renamed)),
        unpinned=sorted(actual - expected - set(renamed.values())),
        moved=[f"{old} -> {new}" for old, new in sorted(renamed.items())],
    )


def load(path: Path = PINNED_PATH) -> Pins:
    pins: Pins = json.loads(path.read_text())["profiles"]
    return pins


def write(pins: Pins, path: Path = PINNED_PATH) -> None:
    about = "Terraform addresses of stateful resources per profile and stack; regenerate with `make pin`."
    path.write_text(json.dumps({"about": about, "profiles": pins}, indent=2, sort_keys=True) + "\n")


def current(declared: dict[str, str]) -> Pins:
    """Every profile synthesized with its defaults, as `make synth` would, and those the Checkov gate
    also scans with a domain (`<profile>+domain`); fills `declared` with moves."""
    from lib.profiles import PROFILES, load_config  # noqa: PLC0415 (after jsii_runtime.prepare)
    from lib.synth import synthesize  # noqa: PLC0415
    from tools.compliance import DOMAIN_CONFIG, WITH_DOMAIN  # noqa: PLC0415

    runs = [(name, {"TAP_PROFILE": name}) for name in sorted(PROFILES)]
    runs += [(f"{name}+domain", {"TAP_PROFILE": name, "TAP_CONFIG": str(DOMAIN_CONFIG)}) for name in WITH_DOMAIN]
    pins: Pins = {}
    with tempfile.TemporaryDirectory() as root:
        for name, environ in runs:
            result = synthesize(load_config(environ), Path(root) / name)
            for stack, document in ((ENVIRONMENT, result.document()), (BASELINE, result.baseline_document())):
                pins.setdefault(name, {})[stack] = stateful_addresses(document)
                declared.update(moves(document))
    return pins


def main(argv: list[str]) -> int:
    from tools import jsii_runtime  # noqa: PLC0415

    jsii_runtime.prepare()
    declared: dict[str, str] = {}
    pins = current(declared)
    if "--write" in argv:
        write(pins)
        print(f"pinned {sum(len(a) for p in pins.values() for a in p.values())} addresses in {PINNED_PATH}")
        return 0
    pinned = load()
    drifts = [
        found
        for name, stacks in pins.items()
        for stack, addresses in stacks.items()
        if (found := drift(pinned, name, stack, addresses, declared)) is not None
    ]
    for found in drifts:
        print(found)
    return 0 if all(found.safe for found in drifts) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
