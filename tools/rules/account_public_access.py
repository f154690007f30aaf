"""TAP-S3-2: S3 Block Public Access is on for the whole account.

Per-bucket blocks (which Checkov checks) leave any bucket created outside TAP open to a public
policy or ACL; the account-level block covers every bucket. Checkov never reads it.
"""

from __future__ import annotations

from tools.rules import Outcome, Rule, Stacks, Violation
from tools.rules._terraform import of_kind, outcome

FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def check(stacks: Stacks) -> Outcome:
    blocks = of_kind(stacks, "aws_s3_account_public_access_block")
    if not blocks:
        message = "No account-level S3 public access block: add one in the account baseline with all four flags on."
        return outcome([], [Violation("baseline", "aws_s3_account_public_access_block", message)])
    return outcome(
        [block.evidence(flag, True) for block in blocks for flag in FLAGS if block.body.get(flag) is True],
        [
            block.violation(f"{flag} is not true: set it.")
            for block in blocks
            for flag in FLAGS
            if block.body.get(flag) is not True
        ],
    )


RULE = Rule(
    id="TAP-S3-2",
    title="S3 Block Public Access is on at the account level",
    requirements=("1.4.4",),
    source="aws",
    basis="Security Hub S3.1 (s3-account-level-public-access-blocks-periodic) -> 1.4.4; uncovered.md row 12",
    verify_in_account="s3control get-public-access-block shows all four flags for the account.",
    check=check,
    config_rules=("s3-account-level-public-access-blocks-periodic",),
)
