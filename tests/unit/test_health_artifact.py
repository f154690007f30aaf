"""The health service's artifact and the user data that installs it (`lib/compute/artifact.py`).

The user data runs for real here, with `aws`, `dnf`, `useradd`, `chgrp`, `systemctl` and
the CloudWatch agent's control replaced
by recorders on PATH and the file system rooted in a scratch directory (INSTALL_ROOT).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from lib.compute import artifact
from lib.contracts import health
from lib.core import alarms

GROUP = "tap-web-dev"
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tap/dev/database/app-AbCdEf"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> artifact.Artifact:
    return artifact.build(tmp_path_factory.mktemp("artifact"))


def script_for(built: artifact.Artifact) -> str:
    return artifact.user_data(
        artifact.InstallSettings(
            region="us-east-1",
            bucket="tap-artifacts-dev",
            artifact=built,
            db_secret_id=ARN,
            log_group="/tap/dev/app/health",
            service="tap-health-dev",
            colour="green",
        ),
        group_name=GROUP,
    )


def test_the_artifact_holds_the_service_its_unit_the_ca_bundle_and_the_drivers(
    built: artifact.Artifact, tmp_path: Path
) -> None:
    names = set(zipfile.ZipFile(built.path).namelist())
    # The contract its metric names come from, at the import path the service uses.
    contract = {"lib/__init__.py", "lib/contracts/__init__.py", "lib/contracts/health.py"}
    expected = {"health_service.py", "tap-health.service", "card_data.py", "rds-ca-bundle.pem", *contract}
    assert expected <= names
    assert "pg8000/__init__.py" in names and "pymysql/__init__.py" in names
    assert not any(name.startswith(("boto3/", "botocore/", "aws_lambda_powertools/")) for name in names)
    # Reproducible: the same sources give the same bytes, so the hash names the release.
    assert artifact.build(tmp_path).sha256 == built.sha256
    assert built.key == f"tap-health/tap-health-{built.sha256}.zip"


def test_the_user_data_parses_and_passes_shellcheck(built: artifact.Artifact, tmp_path: Path) -> None:
    script = tmp_path / "user_data.sh"
    script.write_text(script_for(built))
    subprocess.run(["bash", "-n", str(script)], check=True)
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: scripts/ensure-test-servers.sh installs it"
    result = subprocess.run([shellcheck, "--severity=style", str(script)], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_shellcheck_would_catch_a_broken_script(tmp_path: Path) -> None:
    """The check above can fail: an unquoted expansion is reported."""
    script = tmp_path / "broken.sh"
    script.write_text("#!/bin/bash\nrm -rf $1/tmp\n")
    assert subprocess.run(["shellcheck", str(script)], check=False, capture_output=True).returncode != 0


class Host:
    """A scratch root and recorders for the commands that would change a real host."""

    def __init__(self, tmp_path: Path, served: Path) -> None:
        self.root, self.bin, self.calls = tmp_path / "root", tmp_path / "bin", tmp_path / "calls"
        self.root.mkdir()
        self.bin.mkdir()
        recorder = f'#!/bin/sh\necho "$(basename "$0") $*" >> {self.calls}\n'
        for name in ("dnf", "useradd", "chgrp", "systemctl", "amazon-cloudwatch-agent-ctl", "shutdown"):
            self._tool(name, recorder)
        self._tool("id", recorder + "exit 1\n")  # no such user yet
        self._tool("aws", recorder + f'cp {served} "$7"\n')  # aws s3 cp --only-show-errors --region R SRC DEST
        self._tool("python3.11", f'#!/bin/sh\nexec {shutil.which("python3")} "$@"\n')

    def _tool(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(body)
        path.chmod(0o755)

    def run(self, script: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "INSTALL_ROOT": str(self.root)}
        return subprocess.run(["bash", "-c", script], env=env, check=False, capture_output=True, text=True)

    def recorded(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []


def test_the_user_data_installs_the_verified_release_under_systemd(built: artifact.Artifact, tmp_path: Path) -> None:
    host = Host(tmp_path, built.path)
    result = host.run(script_for(built))
    assert result.returncode == 0, result.stderr
    current = host.root / "opt/tap-health/current"
    assert current.resolve().name == built.sha256 and (current / "health_service.py").is_file()
    env = (host.root / "etc/tap-health.env").read_text()
    assert f"TAP_DB_SECRET_ID={ARN}" in env and "TAP_COLOUR=green" in env and "TAP_PORT=8080" in env
    assert f"{health.SERVICE_SETTING}=tap-health-dev" in env
    assert oct((host.root / "etc/tap-health.env").stat().st_mode & 0o777) == "0o640"
    assert "TAP_TLS_CERT=/etc/tap-health/tls.crt" in env and "TAP_TLS_KEY=/etc/tap-health/tls.key" in env
    key = host.root / "etc/tap-health/tls.key"
    assert oct(key.stat().st_mode & 0o777) == "0o640"
    subject = subprocess.run(
        ["openssl", "x509", "-noout", "-subject", "-in", str(host.root / "etc/tap-health/tls.crt")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "CN = tap-health" in subject
    unit = (host.root / "etc/systemd/system/tap-health.service").read_text()
    assert "User=tap-health" in unit and "NoNewPrivileges=yes" in unit
    calls = host.recorded()
    assert (
        calls[0]
        == f"aws s3 cp --only-show-errors --region us-east-1 s3://tap-artifacts-dev/{built.key} " + calls[0].split()[-1]
    )
    assert "dnf install -y --quiet python3.11 amazon-cloudwatch-agent logrotate" in calls
    # The agent ships the service's log file to the log group, reading it through the service's group.
    agent = json.loads((host.root / "opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json").read_text())
    (collected,) = agent["logs"]["logs_collected"]["files"]["collect_list"]
    assert collected["file_path"] == "/var/log/tap-health/health.log"
    assert collected["log_group_name"] == "/tap/dev/app/health"
    # Memory per Auto Scaling group (002), under the namespace and name the memory alarm reads.
    metrics = agent["metrics"]
    assert metrics["namespace"] == alarms.AGENT_NAMESPACE
    assert metrics["metrics_collected"]["mem"]["measurement"] == [alarms.AGENT_MEMORY_METRIC]
    # Named by the group the synthesis gave it (the agent's own lookup would need ec2:DescribeTags),
    # and rolled up per group, which is what the memory alarm reads.
    assert metrics["metrics_collected"]["mem"]["append_dimensions"] == {"AutoScalingGroupName": GROUP}
    assert metrics["aggregation_dimensions"] == [["AutoScalingGroupName"]]
    assert "chgrp cwagent " + str(host.root / "var/log/tap-health") in calls  # the agent's own group
    assert "systemctl enable --now logrotate.timer" in calls
    assert any(call.startswith("amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s") for call in calls)
    assert oct((host.root / "var/log/tap-health").stat().st_mode & 0o777) == "0o750"
    assert "StandardOutput=append:/var/log/tap-health/health.log" in unit
    assert any(call.startswith("useradd --system") and call.endswith("tap-health") for call in calls)
    assert calls[-1] == "systemctl enable --now tap-health.service"  # and no shutdown


def test_the_user_data_refuses_an_artifact_whose_hash_does_not_match(built: artifact.Artifact, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(built.path.read_bytes() + b"\0")
    host = Host(tmp_path, tampered)
    result = host.run(script_for(built))
    assert result.returncode == 1 and "does not match its SHA-256; refusing" in result.stderr
    # Nothing on the host changed, and the instance powers off so that Auto Scaling replaces it.
    assert [call.split()[0] for call in host.recorded()] == ["aws", "shutdown"]
    assert host.recorded()[-1] == "shutdown -h now" and "powering off" in result.stderr
    assert not (host.root / "opt").exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"colour": "red"},
        {"app_port": 80},
        {"db_secret_id": "arn\nTAP_PORT=1"},
        {"region": "us-east-1'"},
        {"log_group": '/tap/dev", "x": "'},
        {"service": "tap health"},
    ],
)
def test_settings_that_could_break_the_environment_file_are_refused(
    built: artifact.Artifact, changes: dict[str, object]
) -> None:
    values: dict[str, object] = {
        "region": "us-east-1",
        "bucket": "b",
        "artifact": built,
        "db_secret_id": ARN,
        "log_group": "/tap/dev/app/health",
        "service": "tap-health-dev",
    }
    with pytest.raises(ValueError, match="must be"):
        artifact.InstallSettings(**{**values, **changes})  # type: ignore[arg-type]


def test_a_group_name_that_could_break_the_agents_json_is_refused(built: artifact.Artifact) -> None:
    settings = artifact.InstallSettings(
        region="us-east-1", bucket="b", artifact=built, db_secret_id=ARN, log_group="/g", service="s"
    )
    with pytest.raises(ValueError, match="group_name must be one word"):
        artifact.user_data(settings, group_name='web", "x": "')
