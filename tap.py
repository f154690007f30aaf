"""Entry point: synthesizes the environment stack and the account baseline stack.

Reads TAP_PROFILE, ENVIRONMENT_SUFFIX, TAP_CONFIG (a TOML file), AWS_REGION,
TERRAFORM_STATE_BUCKET, TERRAFORM_STATE_BUCKET_REGION, REPOSITORY, COMMIT_AUTHOR and
TAP_PROTECTED. `--summary` prints what was written. It is `tap synth` (`tools/cli.py`), the
command `make synth` runs, so both share one code path; the cdktn CLI runs this file.
"""

from __future__ import annotations

import sys

from tools import cli


def main(argv: list[str]) -> int:
    return cli.main(["synth", *([] if "--summary" in argv else ["--no-summary"])])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
