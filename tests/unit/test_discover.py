"""`make discover` on moto: it reads the account's singletons and writes them into the config file,
which then adopts them; without credentials it changes nothing."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from lib.profiles import load_config
from lib.validation import validate
from tools import discover

REGION = "us-east-1"
EXISTING = """# Production (comments and other sections stay)
[payments]
alert_emails = ["payments-oncall@example.com"]

[baseline.guardduty]
# found by hand earlier
existing_detector_id = "00000000000000000000000000000000"
"""


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def with_export(session: Any, monkeypatch: pytest.MonkeyPatch, destination: str | None) -> None:
    """moto has no publishing destinations: answer that one call as GuardDuty documents it."""
    client = session.client

    def patched(service: str, *args: Any, **kwargs: Any) -> Any:
        made = client(service, *args, **kwargs)
        if service == "guardduty":
            exports = (
                [{"DestinationId": destination, "DestinationType": "S3", "Status": "PUBLISHING"}] if destination else []
            )
            monkeypatch.setattr(made, "list_publishing_destinations", lambda **_: {"Destinations": exports})
        return made

    monkeypatch.setattr(session, "client", patched)


def populate(session: Any) -> str:
    detector = str(session.client("guardduty").create_detector(Enable=True)["DetectorId"])
    config = session.client("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": "arn:aws:iam::123456789012:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    session.client("s3").create_bucket(Bucket="config-bucket-123456789012")
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-bucket-123456789012"})
    session.client("securityhub").enable_security_hub()
    return detector


def test_what_the_account_has_is_written_and_the_file_then_adopts_it(
    account: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    detector = populate(account)
    with_export(account, monkeypatch, "a1b2c3d4e5f6")
    file = tmp_path / "prod.toml"
    file.write_text(EXISTING)
    assert discover.main({"TAP_CONFIG": str(file)}, account) == 0
    written = file.read_text()
    parsed = tomllib.loads(written)
    assert parsed["baseline"]["guardduty"] == {
        "existing_detector_id": detector,
        "existing_publishing_destination_id": "a1b2c3d4e5f6",
    }
    assert parsed["baseline"]["aws_config"] == {
        "existing_recorder_name": "default",
        "existing_delivery_channel_name": "default",
    }
    assert parsed["baseline"]["security_hub"] == {"existing_subscription": True}
    # Everything else stays: comments, other sections, and the key replaced in place.
    assert written.startswith("# Production (comments and other sections stay)\n[payments]\n")
    assert "# found by hand earlier" in written and written.count("existing_detector_id") == 1
    assert parsed["payments"] == {"alert_emails": ["payments-oncall@example.com"]}
    # The written file is a valid configuration that adopts what was found.
    config = load_config({"TAP_PROFILE": "serverless-payments", "TAP_CONFIG": str(file)})
    assert validate(config) == []
    assert config.baseline.guardduty.existing_detector_id == detector
    assert "subscribed" in capsys.readouterr().out


def test_an_empty_account_writes_nothing(account: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with_export(account, monkeypatch, None)
    file = tmp_path / "prod.toml"
    file.write_text(EXISTING)
    assert discover.main({"TAP_CONFIG": str(file)}, account) == 0
    assert file.read_text() == EXISTING


def test_without_credentials_nothing_is_asked_or_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    class NoCredentials:
        def get_credentials(self) -> None:
            return None

        def client(self, service: str) -> Any:
            raise AssertionError("discover must not call AWS without credentials")

    file = tmp_path / "prod.toml"
    file.write_text(EXISTING)
    assert discover.main({"TAP_CONFIG": str(file)}, NoCredentials()) == 0
    assert file.read_text() == EXISTING
    assert "no AWS credentials" in capsys.readouterr().out


def test_a_recorder_without_a_channel_is_not_adopted(account: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    account.client("config").put_configuration_recorder(
        ConfigurationRecorder={"name": "default", "roleARN": "arn:aws:iam::123456789012:role/config"}
    )
    with_export(account, monkeypatch, None)
    found = discover.discover(account)
    assert found.recorder_name == "default" and found.delivery_channel_name is None
    assert ("baseline", "aws_config") not in found.settings()


def test_update_adds_missing_sections_and_keys_and_checks_what_it_wrote() -> None:
    text = "[baseline]\nxray_encryption = true\n"
    result = discover.update(text, {("baseline", "security_hub"): {"existing_subscription": True}})
    assert tomllib.loads(result) == {
        "baseline": {"xray_encryption": True, "security_hub": {"existing_subscription": True}}
    }
    # A value that cannot be written as given is refused rather than written wrong.
    with pytest.raises(ValueError, match="did not give the discovered values"):
        discover.update("", {("baseline", "guardduty"): {"existing_detector_id": 12}})


class FakeSession:
    """A session whose clients answer from `answers` (service -> operation -> result or error)."""

    def __init__(self, answers: dict[str, dict[str, Any]], region: str = REGION) -> None:
        self.answers, self.region_name = answers, region

    def get_credentials(self) -> object:
        return object()

    def client(self, service: str) -> Any:
        answers = self.answers[service]

        class Client:
            def __getattr__(self, operation: str) -> Any:
                def call(**_: Any) -> Any:
                    answer = answers[operation]
                    if isinstance(answer, Exception):
                        raise answer
                    return answer

                return call

        return Client()


def refused(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, operation)


def test_a_refused_call_names_itself_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "prod.toml"
    file.write_text(EXISTING)
    session = FakeSession({"guardduty": {"list_detectors": refused("ListDetectors")}})
    assert discover.main({"TAP_CONFIG": str(file)}, session) == 2
    assert file.read_text() == EXISTING
    assert "ListDetectors was refused or failed (AccessDeniedException): nothing written" in capsys.readouterr().err


def test_a_service_linked_recorder_is_not_adopted() -> None:
    session = FakeSession(
        {
            "guardduty": {"list_detectors": {"DetectorIds": []}},
            "config": {
                "describe_configuration_recorders": {
                    "ConfigurationRecorders": [
                        {"name": "AWSConfigurationRecorderForX", "servicePrincipal": "x.amazonaws.com"}
                    ]
                },
                "describe_delivery_channels": {"DeliveryChannels": [{"name": "default"}]},
            },
            "securityhub": {"describe_hub": refused("DescribeHub")},
        }
    )
    session.answers["securityhub"]["describe_hub"] = ClientError(
        {"Error": {"Code": "InvalidAccessException", "Message": "not subscribed"}}, "DescribeHub"
    )
    found = discover.discover(session)
    assert found.recorder_name is None and not found.security_hub


def test_the_account_is_asked_in_the_region_synthesis_uses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """AWS_REGION (or the file's region), which boto3 by itself would not read."""
    asked: list[str | None] = []

    class Recording:
        def __init__(self, region_name: str | None = None) -> None:
            asked.append(region_name)

        def get_credentials(self) -> None:
            return None

    monkeypatch.setattr(discover.boto3, "Session", Recording)
    file = tmp_path / "prod.toml"
    file.write_text('region = "eu-central-1"\n')
    assert discover.main({"TAP_CONFIG": str(file), "TAP_PROFILE": "web-mysql"}) == 0
    assert discover.main({"TAP_CONFIG": str(file), "TAP_PROFILE": "web-mysql", "AWS_REGION": "eu-west-1"}) == 0
    assert asked == ["eu-central-1", "eu-west-1"]


def test_a_file_it_cannot_edit_safely_is_left_alone(
    account: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(account)
    with_export(account, monkeypatch, None)
    file = tmp_path / "prod.toml"
    dotted = "[baseline]\nguardduty.enabled = true\n"  # the section as dotted keys: not edited line by line
    file.write_text(dotted)
    assert discover.main({"TAP_CONFIG": str(file)}, account) == 2
    assert file.read_text() == dotted
    assert "set [baseline.guardduty]" in capsys.readouterr().err
