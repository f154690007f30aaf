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
from lib.core.function import LAMBDA_ROOT
from lib.data.rotation import DRIVERS

APP = Path(__file__).with_name("app")
INSTALL_SCRIPT = Path(__file__).with_name("user_data.sh")
SHARED_FILES = {
    "card_data.py": LAMBDA_ROOT / "payments_common" / "card_data.py",
    "rds-ca-bundle.pem": LAMBDA_ROOT / "rds_client" / "rds-ca-bundle.pem",
}
APP_PORT = 8080


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


@dataclass(frozen=True, kw_only=True)
class InstallSettings:
    region: str
    bucket: str
    artifact: Artifact
    db_secret_arn: str
    colour: str = "blue"
    app_port: int = APP_PORT


def user_data(settings: InstallSettings) -> str:
    """The install script with its settings as quoted shell assignments (no template syntax to escape)."""
    values: Mapping[str, str] = {
        "AWS_REGION": settings.region,
        "ARTIFACT_BUCKET": settings.bucket,
        "ARTIFACT_KEY": settings.artifact.key,
        "ARTIFACT_SHA256": settings.artifact.sha256,
        "DB_SECRET_ARN": settings.db_secret_arn,
        "COLOUR": settings.colour,
        "APP_PORT": str(settings.app_port),
    }
    header = "\n".join(f"readonly {name}={shlex.quote(value)}" for name, value in values.items())
    return f"#!/bin/bash\n{header}\n{INSTALL_SCRIPT.read_text()}"
