"""The compliance gate: every profile's synthesized JSON, zero failures beyond a checked-in baseline.

Two kinds of checks run over the same documents: Checkov's, and TAP's own rules (tools/rules)
for what Checkov cannot see (missing resources, data events, log-bucket lifecycles, count-mode
WAF rules...). Checkov's `terraform_json` framework has no per-resource skip (it ignores the
`"//"` block, and `--skip-check` silences a check everywhere), so one baseline is applied here to
both kinds of results, keyed by check id and resource address. A baseline entry that matches no
failure is an error too, so the list can only shrink. Every per-resource result, passed or
failed, is kept for the PCI report.

    tap check          # synthesizes every profile, runs Checkov and the rules, applies the baseline
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.profiles import PROFILES, load_config
from tools import CouldNotRun
from tools.rules import RULES, Outcome, Stacks, evaluate

BASELINE_PATH = Path(__file__).resolve().parent.parent / "compliance" / "checkov-baseline.json"
# Profiles scanned a second time with a real domain and a created zone, so what only a domain
# brings (the signed, query-logged zone, failover and its maintenance page, alias records) is
# checked too.
DOMAIN_CONFIG = Path(__file__).resolve().parent.parent / "examples" / "edge-domain.toml"
WITH_DOMAIN = ("secure-platform", "full")
MIN_REASON_LENGTH = 40
# Checkov processes run at once (one per core, up to this): each holds a few hundred MB.
MAX_CHECKOV_PROCESSES = 4


@dataclass(frozen=True, order=True)
class Finding:
    check_id: str
    resource: str
    profile: str
    check_name: str = ""


@dataclass(frozen=True, order=True)
class CheckResult:
    """One check on one resource of one run, passed or failed: Checkov's or a TAP rule's."""

    check_id: str
    resource: str
    profile: str
    stack: str
    passed: bool
    check_name: str = ""
    # The attribute paths Checkov read (`a/[0]/b`): the report shows their values as evidence.
    evaluated_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class BaselineEntry:
    check_id: str
    resource: str
    reason: str
    # The profiles the entry accepts the failure in (empty: every profile with the resource). A
    # profile's `+domain` run counts as the profile.
    profiles: tuple[str, ...] = ()

    def explains(self, finding: Finding) -> bool:
        same = (finding.check_id, finding.resource) == (self.check_id, self.resource)
        return same and (not self.profiles or finding.profile.split("+")[0] in self.profiles)


@dataclass(frozen=True)
class GateResult:
    unexplained: list[Finding]
    stale: list[BaselineEntry]
    passed: int
    parsing_errors: int = 0
    # Stale entries are known only when every run was scanned: an entry may be for another profile.
    stale_checked: bool = True

    @property
    def ok(self) -> bool:
        """A file Checkov could not parse was not checked at all: that fails the gate too."""
        return not self.unexplained and not self.stale and self.parsing_errors == 0

    def report(self) -> str:
        """Failures grouped by check: each once, with its name, then every resource and run."""
        lines = [f"checks passed (Checkov and TAP rules): {self.passed}"]
        if self.parsing_errors:
            lines.append(f"FAILED: Checkov could not parse {self.parsing_errors} file(s); nothing in them was checked")
        by_check: dict[str, list[Finding]] = {}
        for finding in self.unexplained:
            by_check.setdefault(finding.check_id, []).append(finding)
        for check_id in sorted(by_check):
            findings = by_check[check_id]
            lines.append(f"FAILED {check_id}: {findings[0].check_name} ({len(findings)})")
            lines += [f"    {f.resource} [{f.profile}]" for f in findings]
        lines += [f"STALE baseline entry {e.check_id} {e.resource}: it no longer fails; remove it" for e in self.stale]
        if not self.stale_checked:
            lines.append("stale baseline entries not checked: only some profiles were scanned")
        if self.ok:
            lines.append("no findings")
        return "\n".join(lines)


def load_baseline(path: Path = BASELINE_PATH) -> list[BaselineEntry]:
    """Entries must name check, resource and a real reason, once each."""
    entries = [
        BaselineEntry(item["check_id"], item["resource"], item["reason"], tuple(item.get("profiles", ())))
        for item in json.loads(path.read_text())["entries"]
    ]
    problems = [
        f"{e.check_id} {e.resource}: reason too short" for e in entries if len(e.reason.strip()) < MIN_REASON_LENGTH
    ]
    problems += [
        f"{e.check_id} {e.resource}: unknown profile {profile}"
        for e in entries
        for profile in e.profiles
        if profile not in PROFILES
    ]
    keys = [(e.check_id, e.resource) for e in entries]
    problems += [f"{k[0]} {k[1]}: listed twice" for k in sorted(set(keys)) if keys.count(k) > 1]
    if problems:
        raise CouldNotRun(f"invalid baseline {path}: " + "; ".join(problems))
    return entries


def apply_baseline(
    findings: Iterable[Finding], baseline: Sequence[BaselineEntry]
) -> tuple[list[Finding], list[BaselineEntry]]:
    """(failures no entry explains, entries no failure uses)."""
    findings = list(findings)
    unexplained = sorted(f for f in findings if not any(e.explains(f) for e in baseline))
    stale = [e for e in baseline if not any(e.explains(f) for f in findings)]
    return unexplained, stale


@dataclass(frozen=True)
class ScannedFile:
    """Which run a scanned file belongs to, and which of its two stacks it is."""

    profile: str
    stack: str


@dataclass(frozen=True)
class Scan:
    findings: list[Finding]
    passed: int
    parsing_errors: int
    results: list[CheckResult] = field(default_factory=list)


def parse_checkov(report: Any, files: Mapping[str, ScannedFile]) -> Scan:
    """Every per-resource result of a `checkov -o json` report, attributed to runs and stacks, with
    the failures as findings and the pass and parse-error counts."""
    reports = report if isinstance(report, list) else [report]
    findings, results, passed, parsing_errors = [], [], 0, 0
    for single in reports:
        summary = single.get("summary", single)  # with nothing to report Checkov prints the bare summary
        passed += int(summary.get("passed", 0))
        parsing_errors += int(summary.get("parsing_errors", 0))
        for kind, ok in (("passed_checks", True), ("failed_checks", False)):
            for check in single.get("results", {}).get(kind, []):
                file = files[str(Path(check["file_abs_path"]).resolve())]
                name = check.get("check_name", "")
                keys = tuple(check.get("check_result", {}).get("evaluated_keys") or ())
                results.append(
                    CheckResult(check["check_id"], check["resource"], file.profile, file.stack, ok, name, keys)
                )
                if not ok:
                    findings.append(Finding(check["check_id"], check["resource"], file.profile, name))
    return Scan(findings, passed, parsing_errors, sorted(results))


def scannable(document: dict[str, Any]) -> dict[str, Any]:
    """The document without what Checkov's JSON parser cannot read.

    Checkov parses every entry of the `terraform` block as a nested block and gives up on the
    whole file at `required_version` (a string). That block holds no resource settings, so the
    scanned copy leaves out its non-block entries; resource addresses are unchanged.
    """
    settings = {key: value for key, value in document.get("terraform", {}).items() if isinstance(value, dict)}
    return {**document, "terraform": settings}


def run_checkov(files: Mapping[str, ScannedFile]) -> Scan:
    """Checkov over all files, split across the machine's cores (each process's start-up and the
    checks themselves are single-threaded). No network is used.

    Files are scanned as copies (see `scannable`) named `*.tf.json`, the only names Checkov's
    terraform_json framework reads; findings are reported against the original files.
    """
    with tempfile.TemporaryDirectory() as root:
        copies = {}
        for index, (file, scanned) in enumerate(sorted(files.items())):
            copy = Path(root) / f"{index}.tf.json"
            copy.write_text(json.dumps(scannable(json.loads(Path(file).read_text()))))
            copies[str(copy.resolve())] = scanned
        processes = max(1, min(len(copies), os.cpu_count() or 1, MAX_CHECKOV_PROCESSES))
        # Round-robin keeps each share of large and small stacks alike.
        shares = [dict(list(copies.items())[start::processes]) for start in range(processes)]
        with ThreadPoolExecutor(max_workers=processes) as pool:
            scans = list(pool.map(_checkov, shares))
    return Scan(
        [finding for scan in scans for finding in scan.findings],
        sum(scan.passed for scan in scans),
        sum(scan.parsing_errors for scan in scans),
        sorted(result for scan in scans for result in scan.results),
    )


def _checkov(files: Mapping[str, ScannedFile]) -> Scan:
    """Without `--quiet`, which would drop the passed checks the PCI report needs."""
    checkov = Path(sys.executable).with_name("checkov")
    if not checkov.exists():
        raise CouldNotRun(f"Checkov is not installed at {checkov}: run `make`, which installs the locked release")
    command = [str(checkov), "--framework", "terraform_json", "-o", "json", "--compact", "--skip-download"]
    for file in files:
        command += ["-f", file]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603 (fixed argv)
    if completed.returncode not in (0, 1) or not completed.stdout.strip():
        raise RuntimeError(f"checkov failed ({completed.returncode}): {completed.stderr[-2000:]}")
    return parse_checkov(json.loads(completed.stdout), files)


def rule_results(label: str, outcomes: Mapping[str, Outcome]) -> tuple[list[CheckResult], list[Finding]]:
    """TAP rules' outcomes as per-resource results (a violated resource fails, an evidence resource
    passes) and their failures as findings, so the baseline treats them as it treats Checkov's."""
    results: dict[CheckResult, None] = {}
    findings: dict[Finding, None] = {}
    for rule_id, outcome in outcomes.items():
        title = RULES[rule_id].title
        failed = {(v.stack, v.resource) for v in outcome.violations}
        for stack, resource in sorted(failed):
            results[CheckResult(rule_id, resource, label, stack, False, title)] = None
            findings[Finding(rule_id, resource, label, title)] = None
        for evidence in outcome.evidence:
            if (evidence.stack, evidence.resource) not in failed:
                results[CheckResult(rule_id, evidence.resource, label, evidence.stack, True, title)] = None
    return list(results), list(findings)


@dataclass(frozen=True)
class SynthesizedRun:
    label: str
    environment_file: Path
    baseline_file: Path


@dataclass(frozen=True)
class Assessment:
    # Checkov's and TAP's rules' per-resource results, passed and failed.
    results: list[CheckResult]
    # Run label -> rule id -> outcome, with the evidence an assessor reads.
    outcomes: dict[str, dict[str, Outcome]]
    gate: GateResult
    # Failures a baseline entry explains, with the entry (the report shows the reason).
    baselined: list[tuple[Finding, BaselineEntry]]

    def report(self) -> str:
        """The gate's report, then what each unexplained rule failure is and how to fix it."""
        unexplained = {(f.check_id, f.resource, f.profile) for f in self.gate.unexplained}
        details = [
            f"  {rule_id} {v.resource} [{label}]: {v.message}"
            for label, outcomes in self.outcomes.items()
            for rule_id, outcome in outcomes.items()
            for v in outcome.violations
            if (rule_id, v.resource, label) in unexplained
        ]
        return "\n".join([self.gate.report(), *(["TAP rule failures:", *details] if details else [])])


def _silent(_: str) -> None:
    """Progress goes nowhere unless a caller asks for it."""


def default_runs() -> list[tuple[str, dict[str, str]]]:
    """(label, environment) of every profile, and of the profiles scanned again with a domain."""
    runs = [(name, {"TAP_PROFILE": name}) for name in PROFILES]
    runs += [(f"{name}+domain", {"TAP_PROFILE": name, "TAP_CONFIG": str(DOMAIN_CONFIG)}) for name in WITH_DOMAIN]
    return runs


def synthesize_runs(
    runs: Sequence[tuple[str, Mapping[str, str]]], root: Path, progress: Callable[[str], None] = _silent
) -> list[SynthesizedRun]:
    """Each run synthesized into `root/<label>`. `jsii_runtime.prepare()` must have run."""
    from lib.synth import synthesize  # noqa: PLC0415 (the bindings load after prepare)

    synthesized = []
    for label, environ in runs:
        start = time.perf_counter()
        result = synthesize(load_config(environ), root / label)
        synthesized.append(SynthesizedRun(label, result.output_file, result.baseline_file))
        progress(f"synthesized {label} in {time.perf_counter() - start:.1f} s")
    return synthesized


def assess(
    runs: Sequence[SynthesizedRun],
    baseline: Sequence[BaselineEntry],
    progress: Callable[[str], None] = _silent,
    *,
    every_run: bool = True,
) -> Assessment:
    """Checkov once over every file, then `judge` (`every_run`: whether these are all of `default_runs`)."""
    files = {}
    for run in runs:
        files[str(run.environment_file.resolve())] = ScannedFile(run.label, "environment")
        files[str(run.baseline_file.resolve())] = ScannedFile(run.label, "baseline")
    start = time.perf_counter()
    scan = run_checkov(files)
    progress(f"checkov: {len(files)} files in {time.perf_counter() - start:.1f} s")
    stacks = {
        run.label: Stacks(json.loads(run.environment_file.read_text()), json.loads(run.baseline_file.read_text()))
        for run in runs
    }
    return judge(scan, stacks, baseline, progress, every_run=every_run)


def judge(
    scan: Scan,
    stacks: Mapping[str, Stacks],
    baseline: Sequence[BaselineEntry],
    progress: Callable[[str], None] = _silent,
    *,
    every_run: bool = True,
) -> Assessment:
    """Every TAP rule on every run's documents, then one baseline over their failures and Checkov's.

    With `every_run` false (some profiles only), no entry is called stale: it may be another's."""
    start = time.perf_counter()
    outcomes = {label: evaluate(documents) for label, documents in stacks.items()}
    results, findings = list(scan.results), list(scan.findings)
    for label, run_outcomes in outcomes.items():
        run_results, run_findings = rule_results(label, run_outcomes)
        results += run_results
        findings += run_findings
    progress(f"TAP rules: {len(outcomes)} runs in {time.perf_counter() - start:.1f} s")
    unexplained, stale = apply_baseline(findings, baseline)
    baselined = [(f, e) for f in sorted(findings) for e in baseline if e.explains(f)]
    passed = scan.passed + sum(1 for r in results if r.passed and r.check_id in RULES)
    gate = GateResult(unexplained, stale if every_run else [], passed, scan.parsing_errors, stale_checked=every_run)
    return Assessment(sorted(results), outcomes, gate, baselined)
