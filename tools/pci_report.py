"""The PCI DSS v4.0 evidence report of a profile: one self-contained HTML file and its JSON.

For each requirement of the families an assessor asks TAP about (`compliance/pci/requirements.toml`),
the report gives the evidence read from the synthesized JSON of both stacks (resource addresses
and the attribute values that satisfy it), the checks that prove it (Checkov's and TAP's rules,
each passed, failed, or baselined with the baseline's reason), "not applicable" with the reason,
and what an assessor should still verify in the account. A summary per family comes first.

Which check evidences which requirement is data with its sources named:
- Checkov checks: `compliance/pci/checkov_to_pci40.csv` (the shared crosswalk, copied unchanged).
  A check is matched by meaning to an AWS Config rule (its confidence column), and the rule to
  requirement ids AWS publishes (its Config conformance pack table, Security Hub's controls) or,
  where AWS publishes none, ids from a community mapping (cdk-nag's unmerged PCI DSS 4.0 pack).
- TAP's rules (`tools/rules/`): each names its ids, and whether AWS publishes the mapping.
The report shows which is which: AWS-published, community, or TAP's judgement.

The HTML has no script, font or image from outside the file: it opens offline, as evidence must.
"""

from __future__ import annotations

import csv
import html
import json
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lib.config import DeploymentConfig
from tools.compliance import Assessment, CheckResult, SynthesizedRun, assess, load_baseline
from tools.rules import RULES, Outcome

PCI = Path(__file__).resolve().parent.parent / "compliance" / "pci"
REQUIREMENTS_FILE = PCI / "requirements.toml"
CROSSWALK_FILE = PCI / "checkov_to_pci40.csv"
REPORT_NAME = "pci-dss-v4"
# Evidence items shown per requirement in the HTML (the JSON has them all).
SHOWN_EVIDENCE = 12
AWS, COMMUNITY, JUDGEMENT = "AWS-published", "community", "TAP judgement"
PASS, FAIL, BASELINED, NOT_APPLICABLE = "pass", "fail", "baselined", "not applicable"
STATUS_ORDER = (FAIL, BASELINED, PASS, NOT_APPLICABLE)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Family:
    id: str
    title: str
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    verify: str
    family: str


@dataclass(frozen=True)
class CheckMapping:
    """One check evidencing one requirement id (possibly a sub-requirement: 10.2.1.1)."""

    check_id: str
    check_name: str
    requirement: str
    source: str  # AWS, COMMUNITY or JUDGEMENT
    basis: str  # where the mapping comes from
    confidence: str = ""  # of the Checkov check's match to the Config rule


def row_id(requirement: str) -> str:
    """The report row a requirement id belongs to: its first three levels (10.2.1.1 -> 10.2.1)."""
    return ".".join(requirement.split(".")[:3])


def load_requirements(path: Path = REQUIREMENTS_FILE) -> tuple[list[Family], dict[str, Requirement]]:
    data = tomllib.loads(path.read_text())
    families = [Family(f["id"], f["title"], tuple(f["prefixes"])) for f in data["family"]]
    requirements = {}
    for requirement_id, entry in data["requirement"].items():
        family = family_of(requirement_id, families)
        if family is None:
            raise ValueError(f"{path}: requirement {requirement_id} is in no family")
        requirements[requirement_id] = Requirement(requirement_id, entry["title"], entry["verify"], family.id)
    return families, requirements


def family_of(requirement: str, families: Iterable[Family]) -> Family | None:
    return next((f for f in families if requirement.startswith(f.prefixes)), None)


def split_ids(text: str) -> list[str]:
    return [item.strip() for item in text.split(";") if item.strip()]


def checkov_mappings(path: Path = CROSSWALK_FILE) -> list[CheckMapping]:
    """The crosswalk's rows as mappings: AWS-published ids, else the community's, never both for one id."""
    best: dict[tuple[str, str], CheckMapping] = {}
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            rule = row["config_rule_name"]
            published = split_ids(row["pci_requirements"])
            candidates = [
                CheckMapping(
                    row["checkov_id"],
                    row["checkov_name"],
                    requirement,
                    AWS,
                    f"Config rule {rule}; {row['pci_requirements_source']}",
                    row["confidence"],
                )
                for requirement in published
            ] + [
                CheckMapping(
                    row["checkov_id"],
                    row["checkov_name"],
                    requirement,
                    COMMUNITY,
                    f"Config rule {rule}; cdk-nag PR #2166 (not AWS-authored)",
                    row["confidence"],
                )
                for requirement in split_ids(row["community_pci40_requirements"])
                if requirement not in published
            ]
            for mapping in candidates:
                key = (mapping.check_id, mapping.requirement)
                if key not in best or (best[key].source == COMMUNITY and mapping.source == AWS):
                    best[key] = mapping
    return sorted(best.values(), key=lambda m: (m.check_id, m.requirement))


def rule_mappings() -> list[CheckMapping]:
    return [
        CheckMapping(rule.id, rule.title, requirement, AWS if rule.source == "aws" else JUDGEMENT, rule.basis)
        for rule in RULES.values()
        for requirement in rule.requirements
    ]


@dataclass
class CheckLine:
    """One check's result on the profile, for one requirement row."""

    check_id: str
    check_name: str
    engine: str  # "Checkov" or "TAP"
    source: str
    basis: str
    confidence: str
    requirements: list[str]
    status: str = NOT_APPLICABLE
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    baselined: list[dict[str, str]] = field(default_factory=list)  # resource, reason


@dataclass
class EvidenceLine:
    check_id: str
    stack: str
    resource: str
    attribute: str
    value: str


@dataclass
class Row:
    id: str
    title: str
    family: str
    verify: str
    status: str
    checks: list[CheckLine]
    evidence: list[EvidenceLine]
    not_applicable: str = ""


@dataclass
class Report:
    profile: str
    description: str
    stack: str
    baseline_stack: str
    region: str
    families: list[dict[str, Any]]
    rows: list[Row]
    sources: dict[str, str]


def status_of(check: CheckLine) -> str:
    if check.failed:
        return FAIL
    if check.baselined:
        return BASELINED
    return PASS if check.passed else NOT_APPLICABLE


def worst(statuses: Iterable[str]) -> str:
    present = set(statuses)
    return next((status for status in STATUS_ORDER if status in present), NOT_APPLICABLE)


def build_report(
    config: DeploymentConfig, label: str, assessment: Assessment, documents: Mapping[str, Mapping[str, Any]]
) -> Report:
    """The report of one synthesized run (`label`) of `config`; `documents` maps stack -> its JSON."""
    families, requirements = load_requirements()
    mappings = [m for m in (*checkov_mappings(), *rule_mappings()) if row_id(m.requirement) in requirements]
    results = [r for r in assessment.results if r.profile == label]
    baselined = {
        (finding.check_id, finding.resource): entry.reason
        for finding, entry in assessment.baselined
        if finding.profile == label
    }
    outcomes: Mapping[str, Outcome] = assessment.outcomes.get(label, {})
    rows = []
    for requirement in requirements.values():
        mapped = [m for m in mappings if row_id(m.requirement) == requirement.id]
        checks = [check_line(check_id, mapped, results, baselined) for check_id in sorted({m.check_id for m in mapped})]
        # TAP's rules first (they name the attribute values), then AWS-published mappings, then the
        # community's; checks with nothing in scope last.
        checks.sort(key=lambda c: (c.status == NOT_APPLICABLE, c.engine != "TAP", c.source != AWS, c.check_id))
        evidence = [
            line
            for check in checks
            if check.status in (PASS, BASELINED)
            for line in evidence_lines(check, outcomes, results, documents)
        ]
        evidence = without_bare_passes(evidence)
        status = worst(check.status for check in checks)
        rows.append(
            Row(
                requirement.id,
                requirement.title,
                requirement.family,
                requirement.verify,
                status,
                checks,
                evidence,
                not_applicable=not_applicable_reason(checks, outcomes) if status == NOT_APPLICABLE else "",
            )
        )
    return Report(
        profile=config.profile,
        description=config.description,
        stack=config.stack_name,
        baseline_stack=config.baseline_stack_name,
        region=config.region,
        families=family_summaries(families, rows),
        rows=rows,
        sources={
            "requirements": "compliance/pci/requirements.toml (TAP's paraphrases and verification notes)",
            "crosswalk": "compliance/pci/checkov_to_pci40.csv (see compliance/pci/SOURCES.md)",
            "rules": "tools/rules/ (TAP's own rules, each naming its requirement ids and their basis)",
        },
    )


def check_line(
    check_id: str,
    mapped: Sequence[CheckMapping],
    results: Sequence[CheckResult],
    baselined: Mapping[tuple[str, str], str],
) -> CheckLine:
    mine = [m for m in mapped if m.check_id == check_id]
    strongest = next((m for m in mine if m.source == AWS), mine[0])
    line = CheckLine(
        check_id=check_id,
        check_name=strongest.check_name,
        engine="TAP" if check_id in RULES else "Checkov",
        source=strongest.source,
        basis=strongest.basis,
        confidence=strongest.confidence,
        requirements=sorted({m.requirement for m in mine}),
    )
    for result in results:
        if result.check_id != check_id:
            continue
        where = f"{result.stack}: {result.resource}"
        if result.passed:
            line.passed.append(where)
        elif (result.check_id, result.resource) in baselined:
            line.baselined.append({"resource": where, "reason": baselined[(result.check_id, result.resource)]})
        else:
            line.failed.append(where)
    line.passed.sort()
    line.failed.sort()
    line.status = status_of(line)
    return line


def evidence_lines(
    check: CheckLine,
    outcomes: Mapping[str, Outcome],
    results: Sequence[CheckResult],
    documents: Mapping[str, Mapping[str, Any]],
) -> list[EvidenceLine]:
    """TAP's rules name the attribute values themselves; for Checkov, the keys it evaluated are read
    back from the JSON (a check that names none is evidenced by its passing resources)."""
    if check.engine == "TAP":
        outcome = outcomes.get(check.check_id)
        return [
            EvidenceLine(check.check_id, e.stack, e.resource, e.attribute, e.value)
            for e in (outcome.evidence if outcome else ())
        ]
    lines = []
    for result in results:
        if result.check_id != check.check_id or not result.passed:
            continue
        document = documents.get(result.stack, {})
        address = terraform_address(document, result.resource)
        values = [(key, attribute_value(document, address, key)) for key in result.evaluated_keys]
        shown = [(key, value) for key, value in values if value is not None]
        lines += [EvidenceLine(check.check_id, result.stack, address, key, value) for key, value in shown] or [
            EvidenceLine(check.check_id, result.stack, address, "(passed)", "")
        ]
    return lines


def without_bare_passes(evidence: Sequence[EvidenceLine]) -> list[EvidenceLine]:
    """A resource's "(passed)" line only where no attribute value of it is shown already."""
    valued = {(e.stack, e.resource) for e in evidence if e.value}
    return [e for e in evidence if e.value or (e.stack, e.resource) not in valued]


def terraform_address(document: Mapping[str, Any], resource: str) -> str:
    """`type.name` for a resource Checkov reports as `resource.name` (it does for some checks)."""
    prefix, _, name = resource.partition(".")
    if prefix != "resource":
        return resource
    kinds = [kind for kind, named in document.get("resource", {}).items() if name in named]
    return f"{kinds[0]}.{name}" if len(kinds) == 1 else resource


def attribute_value(document: Mapping[str, Any], address: str, key: str) -> str | None:
    """A resource attribute at a Checkov key path (`a/[0]/b`), as JSON text; None if absent."""
    kind, _, name = address.partition(".")
    node: Any = document.get("resource", {}).get(kind, {}).get(name)
    for part in key.split("/"):
        if node is None:
            return None
        if part.startswith("[") and part.endswith("]"):
            node = (
                node if not isinstance(node, list) else (node[int(part[1:-1])] if len(node) > int(part[1:-1]) else None)
            )
        else:
            node = node.get(part) if isinstance(node, dict) else None
    return None if node is None else json.dumps(node, sort_keys=True)


def not_applicable_reason(checks: Sequence[CheckLine], outcomes: Mapping[str, Outcome]) -> str:
    reasons = [o.not_applicable for check in checks if (o := outcomes.get(check.check_id)) and o.not_applicable]
    if reasons:
        return "; ".join(sorted(set(reasons)))
    names = ", ".join(check.check_id for check in checks) or "none"
    return f"nothing in this profile is in scope of the checks mapped here ({names})"


def family_summaries(families: Sequence[Family], rows: Sequence[Row]) -> list[dict[str, Any]]:
    summaries = []
    for family in families:
        mine = [row for row in rows if row.family == family.id]
        counts = {
            status: sum(row.status == status for row in mine) for status in (PASS, FAIL, BASELINED, NOT_APPLICABLE)
        }
        summaries.append(
            {
                "id": family.id,
                "title": family.title,
                "requirements": len(mine),
                **counts,
                "status": worst(r.status for r in mine),
            }
        )
    return summaries


def report_json(report: Report) -> dict[str, Any]:
    return {"standard": "PCI DSS v4.0", **asdict(report)}


# HTML

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem; color: #1c2430; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 2px solid #d5dbe3; }
table { border-collapse: collapse; width: 100%; margin: .8rem 0; } th, td { border: 1px solid #d5dbe3;
padding: .35rem .5rem; vertical-align: top; text-align: left; } th { background: #eef2f6; }
.status { font-weight: 600; text-transform: uppercase; font-size: .8rem; white-space: nowrap; }
.pass .status { color: #17643a; } .fail .status { color: #a4161a; } .baselined .status { color: #8a5a00; }
.notapplicable .status { color: #5b6573; } tr.fail { background: #fdecec; } tr.baselined { background: #fff7e6; }
code { font: 12px/1.3 ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
.muted { color: #5b6573; } ul { margin: 0; padding-left: 1.1rem; } .source { font-size: .75rem; padding: 0 .3rem;
border-radius: 3px; background: #e8eef6; white-space: nowrap; } .source.aws { background: #dff3e4; }
.source.judgement { background: #f3e8ff; }
"""


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def status_class(status: str) -> str:
    return status.replace(" ", "")


def source_badge(source: str) -> str:
    kind = {AWS: "aws", COMMUNITY: "community", JUDGEMENT: "judgement"}[source]
    return f'<span class="source {kind}">{escape(source)}</span>'


def checks_cell(checks: Sequence[CheckLine]) -> str:
    """Each check that ran here with its result; those with nothing in scope on one line."""
    items = []
    idle = [check.check_id for check in checks if check.status == NOT_APPLICABLE]
    for check in (c for c in checks if c.status != NOT_APPLICABLE):
        detail = {
            PASS: f"passed on {len(check.passed)}",
            FAIL: f"FAILED on {len(check.failed)}: " + ", ".join(f"<code>{escape(r)}</code>" for r in check.failed),
            BASELINED: "baselined: "
            + "; ".join(f"<code>{escape(b['resource'])}</code>: {escape(b['reason'])}" for b in check.baselined),
        }[check.status]
        confidence = f", match {escape(check.confidence)}" if check.confidence else ""
        items.append(
            f'<li class="{status_class(check.status)}"><code>{escape(check.check_id)}</code> {escape(check.check_name)} '
            f'{source_badge(check.source)} <span class="muted">({escape(check.basis)}{confidence})</span>: {detail}</li>'
        )
    if idle:
        items.append(f'<li class="muted">nothing in scope here for {escape(", ".join(idle))}</li>')
    return f"<ul>{''.join(items)}</ul>"


def evidence_cell(row: Row) -> str:
    if row.status == NOT_APPLICABLE:
        return f'<span class="muted">Not applicable: {escape(row.not_applicable)}</span>'
    shown = row.evidence[:SHOWN_EVIDENCE]
    items = [
        f"<li><code>{escape(e.resource)}</code> ({escape(e.stack)}) <code>{escape(e.attribute)}</code>"
        + (f" = <code>{escape(e.value)}</code>" if e.value else "")
        + "</li>"
        for e in shown
    ]
    more = len(row.evidence) - len(shown)
    if more > 0:
        items.append(f'<li class="muted">and {more} more (in the JSON report)</li>')
    return f"<ul>{''.join(items)}</ul>" if items else '<span class="muted">no passing evidence</span>'


def render_html(report: Report) -> str:
    summary_rows = "".join(
        f'<tr class="family {status_class(f["status"])}"><td><a href="#family-{escape(f["id"])}">{escape(f["id"])}</a></td>'
        f'<td>{escape(f["title"])}</td><td class="status">{escape(f["status"])}</td><td>{f["requirements"]}</td>'
        f"<td>{f[PASS]}</td><td>{f[FAIL]}</td><td>{f[BASELINED]}</td><td>{f[NOT_APPLICABLE]}</td></tr>"
        for f in report.families
    )
    sections = []
    for family in report.families:
        rows = "".join(
            f'<tr class="req {status_class(row.status)}" id="req-{escape(row.id)}"><td><strong>{escape(row.id)}</strong><br>'
            f'{escape(row.title)}</td><td class="status">{escape(row.status)}</td><td>{evidence_cell(row)}</td>'
            f"<td>{checks_cell(row.checks)}</td><td>{escape(row.verify)}</td></tr>"
            for row in report.rows
            if row.family == family["id"]
        )
        sections.append(
            f'<h2 id="family-{escape(family["id"])}">{escape(family["id"])}: {escape(family["title"])}</h2>'
            "<table><thead><tr><th>Requirement</th><th>Status</th><th>Evidence (synthesized JSON)</th>"
            f"<th>Checks</th><th>Verify in the account</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    sources = "".join(f"<li>{escape(name)}: {escape(text)}</li>" for name, text in report.sources.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PCI DSS v4.0 evidence: {escape(report.profile)} ({escape(report.stack)})</title>
<style>{STYLE}</style></head>
<body>
<h1>PCI DSS v4.0 evidence: {escape(report.profile)}</h1>
<p class="muted">{escape(report.description)}. Environment stack <code>{escape(report.stack)}</code>, account baseline
<code>{escape(report.baseline_stack)}</code>, region {escape(report.region)}. Evidence is read from the synthesized
Terraform JSON of both stacks; what configuration cannot prove is listed under "Verify in the account".
Mappings are marked {source_badge(AWS)} (AWS Config conformance pack or Security Hub), {source_badge(COMMUNITY)}
(not AWS-authored) or {source_badge(JUDGEMENT)}.</p>
<h2>Summary by requirement family</h2>
<table><thead><tr><th>Family</th><th>Title</th><th>Status</th><th>Requirements</th><th>Pass</th><th>Fail</th>
<th>Baselined</th><th>Not applicable</th></tr></thead><tbody>{summary_rows}</tbody></table>
{"".join(sections)}
<h2>Sources</h2><ul>{sources}</ul>
</body></html>
"""


def render_index(reports: Sequence[tuple[Report, str]]) -> str:
    """The index of every profile's report; `reports` pairs each with its relative link."""
    rows = "".join(
        f'<tr class="{status_class(worst(f["status"] for f in report.families))}"><td><a href="{escape(link)}">'
        f"{escape(report.profile)}</a></td><td>{escape(report.description)}</td>"
        f'<td class="status">{escape(worst(f["status"] for f in report.families))}</td>'
        f"<td>{sum(r.status == PASS for r in report.rows)}</td><td>{sum(r.status == FAIL for r in report.rows)}</td>"
        f"<td>{sum(r.status == BASELINED for r in report.rows)}</td><td>{sum(r.status == NOT_APPLICABLE for r in report.rows)}</td></tr>"
        for report, link in reports
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>PCI DSS v4.0 evidence: every profile</title>
<style>{STYLE}</style></head><body><h1>PCI DSS v4.0 evidence: every profile</h1>
<table><thead><tr><th>Profile</th><th>Document</th><th>Status</th><th>Pass</th><th>Fail</th><th>Baselined</th>
<th>Not applicable</th></tr></thead><tbody>{rows}</tbody></table></body></html>
"""


def write_reports(configs: Sequence[DeploymentConfig], out: Path, progress: Progress, *, index: bool) -> list[Path]:
    """Synthesizes each config, assesses it (Checkov and TAP's rules) and writes its report.

    One profile: `<out>/<stack>/pci-dss-v4.{html,json}`. Several (`all`): one directory per
    profile under `<out>/<stack>/`, and `<out>/<stack>/index.html`.
    """
    from lib.synth import synthesize  # noqa: PLC0415 (the bindings load after prepare)

    written: list[Path] = []
    built: list[tuple[Report, Path]] = []
    with tempfile.TemporaryDirectory() as root:
        runs = []
        for config in configs:
            started = time.perf_counter()
            result = synthesize(config, Path(root) / config.profile)
            progress(f"synthesized {config.profile} in {time.perf_counter() - started:.1f} s")
            runs.append(SynthesizedRun(config.profile, result.output_file, result.baseline_file))
        assessment = assess(runs, load_baseline(), progress, every_run=False)
        for config, run in zip(configs, runs, strict=True):
            documents = {
                "environment": json.loads(run.environment_file.read_text()),
                "baseline": json.loads(run.baseline_file.read_text()),
            }
            report = build_report(config, run.label, assessment, documents)
            directory = out / config.stack_name / (config.profile if index else "")
            directory.mkdir(parents=True, exist_ok=True)
            page, data = directory / f"{REPORT_NAME}.html", directory / f"{REPORT_NAME}.json"
            page.write_text(render_html(report))
            data.write_text(json.dumps(report_json(report), indent=2, sort_keys=True) + "\n")
            written += [page, data]
            built.append((report, page))
    if index:
        page = out / configs[0].stack_name / "index.html"
        page.write_text(render_index([(report, str(path.relative_to(page.parent))) for report, path in built]))
        written.append(page)
    progress(f"reports written under {out}")
    return written
