"""The health service's release artifact and the user data that installs it.

The artifact is a zip of `app/` (the service and its systemd unit), the card-number detector it
shares with the payment functions, the RDS CA bundle and the pure-Python database drivers. It is
built reproducibly (`lib.core.packaging`), so its SHA-256 names it: `tap-health-<sha256>.zip`. The
user data carries that hash and refuses any other bytes.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lib.core import packaging
from lib.core.function import LAMBDA_ROOT, contract_files
from lib.data.rotation import DRIVERS

APP = Path(__file__).with_name("app")
INSTALL_SCRIPT = Path(__file__).with_name("user_data.sh")
SHARED_FILES = {
    "card_data.py": LAMBDA_ROOT / "payments_common" / "card_data.py",
    "rds-ca-bundle.pem": LAMBDA_ROOT / "rds_client" / "rds-ca-bundle.pem",
    # The metric names the compute tier alarms on.
    **contract_files(["health"]),
}
APP_PORT = 8080
# What no setting may hold: it would add a line or a quote to the environment file or the agent's JSON.
UNQUOTABLE = "\n\r\"'\\ "


@dataclass(frozen=True)
class Artifact:
    path: Path
    sha256: str

    @property
    def key(self) -> str:
        """The object key: the hash in the name, so a release never overwrites another."""
        return f"tap-health/tap-health-{self.sha256}.zip"


def build(out_dir: Path) -> Artifact:
    package = packaging.build([APP], DRIVERS, out_dir, extra_files=SHARED_FILES)
    return Artifact(package.path, hashlib.sha256(package.path.read_bytes()).hexdigest())


# The fleet a release runs in, reported by /version: one group, blue or green, or the batch fleet.
COLOURS = ("web", "blue", "green", "batch")


@dataclass(frozen=True, kw_only=True)
class InstallSettings:
    """What the user data writes into the service's environment file, checked so no value can
    add a line or a quote to it (Terraform references are resolved before the script runs)."""

    region: str
    bucket: str
    artifact: Artifact
    # The secret's name (or ARN): a name is known at synth, so the user data holds no reference.
    db_secret_id: str
    # The log group the CloudWatch agent ships the service's log file to.
    log_group: str
    # The `service` its log lines and metrics carry (unique per environment).
    service: str
    colour: str = "blue"
    app_port: int = APP_PORT

    def __post_init__(self) -> None:
        if self.colour not in COLOURS:
            raise ValueError(f"colour must be one of {COLOURS}, not {self.colour!r}")
        if not 1024 <= self.app_port <= 65535:
            raise ValueError(f"app_port must be 1024-65535 (no privilege to bind below), not {self.app_port}")
        for name in ("region", "bucket", "db_secret_id", "log_group", "service"):
            if any(char in getattr(self, name) for char in UNQUOTABLE):
                raise ValueError(f"{name} must be one word without quotes, not {getattr(self, name)!r}")


def user_data(settings: InstallSettings, *, group_name: str) -> str:
    """The install script with its settings as quoted shell assignments before it.

    Every setting is known at synth (names, not references), so the script goes to the launch
    template as it is, base64-encoded here, with no Terraform expression to escape it from.
    """
    if any(char in group_name for char in UNQUOTABLE):
        raise ValueError(f"group_name must be one word without quotes, not {group_name!r}")
    values: Mapping[str, str] = {
        "AWS_REGION": settings.region,
        "ARTIFACT_BUCKET": settings.bucket,
        "ARTIFACT_KEY": settings.artifact.key,
        "ARTIFACT_SHA256": settings.artifact.sha256,
        "DB_SECRET_ID": settings.db_secret_id,
        "APP_LOG_GROUP": settings.log_group,
        "SERVICE_NAME": settings.service,
        # The Auto Scaling group the instances belong to: the dimension of the agent's metrics.
        "GROUP_NAME": group_name,
        "COLOUR": settings.colour,
        "APP_PORT": str(settings.app_port),
    }
    header = "\n".join(f"readonly {name}={shlex.quote(value)}" for name, value in values.items())
    return f"#!/bin/bash\n{header}\n{INSTALL_SCRIPT.read_text()}"
