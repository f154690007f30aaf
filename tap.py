"""Entry point: synthesizes the environment stack and the account baseline stack.

Reads TAP_PROFILE, ENVIRONMENT_SUFFIX, TAP_CONFIG (a TOML file), AWS_REGION,
TERRAFORM_STATE_BUCKET, TERRAFORM_STATE_BUCKET_REGION, REPOSITORY, COMMIT_AUTHOR and
TAP_PROTECTED. `--summary` prints what was written (used by `make synth`).
"""

from __future__ import annotations

import os
import sys

from lib.errors import ConfigError
from lib.profiles import load_config
from tools import jsii_runtime


def main(argv: list[str]) -> int:
    jsii_runtime.prepare(runtime_type_checks=False)
    from lib.synth import summary, synthesize  # noqa: PLC0415 (the bindings load after prepare)

    try:
        result = synthesize(load_config(os.environ))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        print("nothing was written.", file=sys.stderr)
        return 2
    if "--summary" in argv:
        print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
