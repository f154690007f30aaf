"""The Checkov gate: every profile's synthesized JSON, zero failures beyond a checked-in baseline.

Checkov's `terraform_json` framework has no per-resource skip (it ignores the `"//"` block, and
`--skip-check` silences a check everywhere), so the baseline is applied here to Checkov's JSON
results, keyed by check id and resource address. A baseline entry that matches no failure is an
error too, so the list can only shrink.

    python -m tools.compliance          # synthesizes every profile, runs Checkov, applies the baseline
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.profiles import PROFILES, load_config
from tools import jsii_runtime

BASELINE_PATH = Path(__file__).resolve().parent.parent / "compliance" / "checkov-baseline.json"
# Profiles scanned a second time with a real domain and a created zone, so what only a domain
# brings (the signed, query-logged zone, failover and its maintenance page, alias records) is
# checked too.
DOMAIN_CONFIG = Path(__file__).resolve().parent.parent / "examples" / "edge-domain.toml"
WITH_DOMAIN = ("secure-platform", "full")
MIN_REASON_LENGTH = 40


@dataclass(frozen=True, order=True)
class Finding:
    check_id: str
    resource: str
    profile: str
    check_name: str = ""


@dataclass(frozen=True)
class BaselineEntry:
    check_id: str
    resource: str
    reason: str


@dataclass(frozen=True)
class GateResult:
    unexplained: list[Finding]
    stale: list[BaselineEntry]
    passed: int
    parsing_errors: int = 0

    @property
    def ok(self) -> bool:
        """A file Checkov could not parse was not checked at all: that fails the gate too."""
        return not self.unexplained and not self.stale and self.parsing_errors == 0

    def report(self) -> str:
        lines = [f"checkov: {self.passed} checks passed"]
        if self.parsing_errors:
            lines.append(f"FAILED: Checkov could not parse {self.parsing_errors} file(s); nothing in them was checked")
        lines += [f"FAILED {f.check_id} {f.resource} [{f.profile}]: {f.check_name}" for f in self.unexplained]
        lines += [f"STALE baseline entry {e.check_id} {e.resource}: no longer fails, remove it" for e in self.stale]
        return "\n".join(lines)


def load_baseline(path: Path = BASELINE_PATH) -> list[BaselineEntry]:
    """Entries must name check, resource and a real reason, once each."""
    entries = [BaselineEntry(**item) for item in json.loads(path.read_text())["entries"]]
    problems = [
        f"{e.check_id} {e.resource}: reason too short" for e in entries if len(e.reason.strip()) < MIN_REASON_LENGTH
    ]
    keys = [(e.check_id, e.resource) for e in entries]
    problems += [f"{k[0]} {k[1]}: listed twice" for k in sorted(set(keys)) if keys.count(k) > 1]
    if problems:
        raise ValueError(f"invalid baseline {path}: " + "; ".join(problems))
    return entries


def apply_baseline(
    findings: Iterable[Finding], baseline: Sequence[BaselineEntry]
) -> tuple[list[Finding], list[BaselineEntry]]:
    """(failures no entry explains, entries no failure uses)."""
    findings = list(findings)
    explained = {(e.check_id, e.resource) for e in baseline}
    unexplained = sorted(f for f in findings if (f.check_id, f.resource) not in explained)
    used = {(f.check_id, f.resource) for f in findings}
    stale = [e for e in baseline if (e.check_id, e.resource) not in used]
    return unexplained, stale


@dataclass(frozen=True)
class Scan:
    findings: list[Finding]
    passed: int
    parsing_errors: int


def parse_checkov(report: Any, profiles_by_file: Mapping[str, str]) -> Scan:
    """Failed checks of a `checkov -o json` report, attributed to profiles, with pass and parse-error counts."""
    reports = report if isinstance(report, list) else [report]
    findings, passed, parsing_errors = [], 0, 0
    for single in reports:
        summary = single.get("summary", single)  # with nothing to report Checkov prints the bare summary
        passed += int(summary.get("passed", 0))
        parsing_errors += int(summary.get("parsing_errors", 0))
        for failed in single.get("results", {}).get("failed_checks", []):
            path = str(Path(failed["file_abs_path"]).resolve())
            findings.append(
                Finding(failed["check_id"], failed["resource"], profiles_by_file[path], failed.get("check_name", ""))
            )
    return Scan(findings, passed, parsing_errors)


def scannable(document: dict[str, Any]) -> dict[str, Any]:
    """The document without what Checkov's JSON parser cannot read.

    Checkov parses every entry of the `terraform` block as a nested block and gives up on the
    whole file at `required_version` (a string). That block holds no resource settings, so the
    scanned copy leaves out its non-block entries; resource addresses are unchanged.
    """
    settings = {key: value for key, value in document.get("terraform", {}).items() if isinstance(value, dict)}
    return {**document, "terraform": settings}


def run_checkov(profiles_by_file: Mapping[str, str]) -> Scan:
    """One Checkov run over all files (its start-up is the slow part). No network is used.

    Files are scanned as copies (see `scannable`) named `*.tf.json`, the only names Checkov's
    terraform_json framework reads; findings are reported against the original files.
    """
    with tempfile.TemporaryDirectory() as root:
        copies = {}
        for index, (file, profile) in enumerate(sorted(profiles_by_file.items())):
            copy = Path(root) / f"{index}.tf.json"
            copy.write_text(json.dumps(scannable(json.loads(Path(file).read_text()))))
            copies[str(copy.resolve())] = profile
        return _checkov(copies)


def _checkov(profiles_by_file: Mapping[str, str]) -> Scan:
    checkov = Path(sys.executable).with_name("checkov")
    command = [str(checkov), "--framework", "terraform_json", "-o", "json", "--quiet", "--compact", "--skip-download"]
    for file in profiles_by_file:
        command += ["-f", file]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603 (fixed argv)
    if completed.returncode not in (0, 1) or not completed.stdout.strip():
        raise RuntimeError(f"checkov failed ({completed.returncode}): {completed.stderr[-2000:]}")
    return parse_checkov(json.loads(completed.stdout), profiles_by_file)


def gate(profiles_by_file: Mapping[str, str], baseline: Sequence[BaselineEntry]) -> GateResult:
    scan = run_checkov({str(Path(f).resolve()): p for f, p in profiles_by_file.items()})
    unexplained, stale = apply_baseline(scan.findings, baseline)
    return GateResult(unexplained, stale, scan.passed, scan.parsing_errors)


def main() -> int:
    jsii_runtime.prepare()
    from lib.synth import synthesize  # noqa: PLC0415 (the bindings load after prepare)

    with tempfile.TemporaryDirectory() as root:
        files = {}
        runs = [(name, {"TAP_PROFILE": name}) for name in PROFILES]
        runs += [(f"{name}+domain", {"TAP_PROFILE": name, "TAP_CONFIG": str(DOMAIN_CONFIG)}) for name in WITH_DOMAIN]
        for label, environ in runs:
            result = synthesize(load_config(environ), Path(root) / label)
            files[str(result.output_file)] = label
            files[str(result.baseline_file)] = label
        outcome = gate(files, load_baseline())
    print(outcome.report())
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
