"""TAP-TRAIL-2: the trails record data events on payment data, reads and writes.

Management events do not show who read a payment record. CloudTrail records object-level and
item-level access only for what a trail's selectors name, and no Checkov check reads
`advanced_event_selector` or `event_selector`. Payment records live in TAP's audit-log bucket
(document 004), so its objects must be selected; the payment functions and tables are checked
wherever a trail selects them (the environment's data-event trail does, when the profile asks).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tools.rules import Evidence, Outcome, Rule, Stacks, Violation
from tools.rules._terraform import Resource, blocks, of_kind, outcome, resolve

# Construct paths of the buckets that hold payment records (lib/foundation: `audit_logs`).
PAYMENT_RECORD_BUCKETS = frozenset({"foundation_storage_audit_logs_bucket"})
S3_OBJECT = "AWS::S3::Object"
# What a selector may name by ARN, and the resource type each ARN token points at.
SELECTED_KINDS = {
    S3_OBJECT: "aws_s3_bucket",
    "AWS::DynamoDB::Table": "aws_dynamodb_table",
    "AWS::Lambda::Function": "aws_lambda_function",
}
# Fields that only say what a selector records; any other field narrows it to some events.
PLAIN_FIELDS = {"eventCategory", "resources.type", "resources.ARN", "readOnly"}


@dataclass(frozen=True)
class Selection:
    """One selector of one trail: a resource type, reads and/or writes, and which ARNs (None: all)."""

    trail: Resource
    label: str
    resource_type: str
    reads: bool
    writes: bool
    equals: tuple[str, ...] | None
    starts_with: tuple[str, ...] = ()

    def selects_objects_of(self, bucket_arn: str) -> bool:
        return self.equals is None or any(f"{bucket_arn}/".startswith(p) for p in self.starts_with)

    def names(self) -> tuple[str, ...]:
        return (self.equals or ()) + self.starts_with


def advanced(trail: Resource) -> Iterator[Selection]:
    for selector in blocks(trail.body.get("advanced_event_selector")):
        fields: dict[str, Mapping[str, Any]] = {f["field"]: f for f in blocks(selector.get("field_selector"))}
        if fields.get("eventCategory", {}).get("equals") != ["Data"] or set(fields) - PLAIN_FIELDS:
            continue
        types = fields.get("resources.type", {}).get("equals", [])
        read_only = fields.get("readOnly", {}).get("equals", ["true", "false"])
        arns = fields.get("resources.ARN")
        if arns is not None and set(arns) - {"field", "equals", "starts_with"}:
            continue  # narrowed by not_equals, ends_with...: not counted as coverage
        for resource_type in types:
            yield Selection(
                trail,
                f"advanced_event_selector[{selector.get('name', '')}]",
                resource_type,
                reads="true" in read_only,
                writes="false" in read_only,
                equals=None if arns is None else tuple(arns.get("equals", ())),
                starts_with=() if arns is None else tuple(arns.get("starts_with", ())),
            )


def basic(trail: Resource) -> Iterator[Selection]:
    for index, selector in enumerate(blocks(trail.body.get("event_selector"))):
        read_write = selector.get("read_write_type", "All")
        for data in blocks(selector.get("data_resource")):
            values = tuple(data.get("values", ()))
            # "arn:aws:s3" (or "arn:aws:s3:::") and "arn:aws:lambda" name every resource of the type.
            everything = any(value.rstrip(":") in ("arn:aws:s3", "arn:aws:lambda") for value in values)
            yield Selection(
                trail,
                f"event_selector[{index}]",
                data.get("type", ""),
                reads=read_write in ("All", "ReadOnly"),
                writes=read_write in ("All", "WriteOnly"),
                equals=None if everything else (),
                starts_with=values,
            )


def check(stacks: Stacks) -> Outcome:
    selections = [s for trail in of_kind(stacks, "aws_cloudtrail") for s in (*advanced(trail), *basic(trail))]
    records = [b for b in of_kind(stacks, "aws_s3_bucket") if b.path in PAYMENT_RECORD_BUCKETS]
    named = [s for s in selections if s.resource_type in SELECTED_KINDS and s.equals is not None]
    if not records and not named:
        return Outcome(not_applicable="No payment-record bucket, and no trail selects data events by ARN.")
    evidence: list[Evidence] = []
    violations: list[Violation] = []
    for bucket in records:
        arn = f"${{aws_s3_bucket.{bucket.name}.arn}}"
        covering = [s for s in selections if s.resource_type == S3_OBJECT and s.selects_objects_of(arn)]
        missing = [what for what in ("reads", "writes") if not any(getattr(s, what) for s in covering)]
        if missing:
            violations.append(
                bucket.violation(
                    f"No trail records object {' and '.join(missing)} in this payment-record bucket: "
                    "add an AWS::S3::Object data-event selector on its ARN prefix (governance data_events)."
                )
            )
        evidence += [s.trail.evidence(s.label, f"{arn}/") for s in covering]
    for selection in named:
        evidence_and_gaps(stacks, selection, evidence, violations)
    return outcome(evidence, violations)


def evidence_and_gaps(
    stacks: Stacks, selection: Selection, evidence: list[Evidence], violations: list[Violation]
) -> None:
    """A selector that names resources must record reads and writes of resources that exist."""
    trail = selection.trail
    if not (selection.reads and selection.writes):
        violations.append(
            trail.violation(f"{selection.label} records only reads or only writes: drop its readOnly field.")
        )
    kind = SELECTED_KINDS[selection.resource_type]
    for arn in selection.names():
        if resolve(stacks, trail.stack, arn, kind) is None:
            violations.append(
                trail.violation(
                    f"{selection.label} names {arn}, which is no {kind} of this stack: name the resource's ARN."
                )
            )
        else:
            evidence.append(trail.evidence(selection.label, arn))


RULE = Rule(
    id="TAP-TRAIL-2",
    title="Trails record data events (reads and writes) on payment-record buckets and on what they select",
    requirements=("10.2.1",),
    source="aws",
    basis=(
        "Security Hub S3.22 (cloudtrail-all-write-s3-data-event-check) and S3.23 "
        "(cloudtrail-all-read-s3-data-event-check) -> 10.2.1; uncovered.md row 7 for Lambda and DynamoDB selectors"
    ),
    verify_in_account=(
        "No other bucket, table or function holds or processes cardholder data unselected (the rule knows TAP's "
        "payment-record bucket by construct path), and the data-event trail is logging in the bucket's region."
    ),
    check=check,
    config_rules=("cloudtrail-all-write-s3-data-event-check", "cloudtrail-all-read-s3-data-event-check"),
)
