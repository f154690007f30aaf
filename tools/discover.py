"""`make discover`: what the account already has that the baseline must adopt, not duplicate.

A region has one GuardDuty detector (with at most one S3 export), one Config recorder and
delivery channel, and one Security Hub subscription. Creating a second fails, and deleting an
existing one loses its findings, so the baseline adopts them with Terraform imports when the
config file names them (see `lib/governance/`). This command asks the account (boto3, with the
credentials and region of the environment) and writes what it finds into the config file named
by TAP_CONFIG, keeping everything else in the file as it was. Synthesis itself never calls AWS;
without credentials this command says so and changes nothing.

    TAP_CONFIG=envs/prod.toml AWS_REGION=eu-west-1 make discover
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from lib.errors import ConfigError
from lib.profiles import load_config

Section = tuple[str, ...]


@dataclass(frozen=True)
class Found:
    """What the account has in the region (None / False: nothing to adopt)."""

    detector_id: str | None = None
    publishing_destination_id: str | None = None
    recorder_name: str | None = None
    delivery_channel_name: str | None = None
    security_hub: bool = False

    def settings(self) -> dict[Section, dict[str, Any]]:
        """The config file's keys for what was found, by section."""
        found: dict[Section, dict[str, Any]] = {}
        if self.detector_id is not None:
            guardduty: dict[str, Any] = {"existing_detector_id": self.detector_id}
            if self.publishing_destination_id is not None:
                guardduty["existing_publishing_destination_id"] = self.publishing_destination_id
            found[("baseline", "guardduty")] = guardduty
        if self.recorder_name is not None and self.delivery_channel_name is not None:
            found[("baseline", "aws_config")] = {
                "existing_recorder_name": self.recorder_name,
                "existing_delivery_channel_name": self.delivery_channel_name,
            }
        if self.security_hub:
            found[("baseline", "security_hub")] = {"existing_subscription": True}
        return found


def discover(session: Any) -> Found:
    """Reads only (List/Describe calls) the account's singletons in the session's region."""
    guardduty = session.client("guardduty")
    detectors = guardduty.list_detectors()["DetectorIds"]
    detector = detectors[0] if detectors else None
    destination = None
    if detector is not None:
        exports = guardduty.list_publishing_destinations(DetectorId=detector)["Destinations"]
        destination = next((d["DestinationId"] for d in exports if d.get("DestinationType") == "S3"), None)
    config = session.client("config")
    # Service-linked recorders (of another service) cannot be adopted: only the customer's one.
    recorders = [
        recorder
        for recorder in config.describe_configuration_recorders()["ConfigurationRecorders"]
        if not recorder.get("servicePrincipal")
    ]
    channels = config.describe_delivery_channels()["DeliveryChannels"]
    return Found(
        detector_id=detector,
        publishing_destination_id=destination,
        recorder_name=recorders[0]["name"] if recorders else None,
        delivery_channel_name=channels[0]["name"] if channels else None,
        security_hub=_subscribed(session.client("securityhub")),
    )


def _subscribed(securityhub: Any) -> bool:
    try:
        securityhub.describe_hub()
    except ClientError as error:
        # Both mean "not subscribed" (the account has not enabled Security Hub in this region).
        if error.response["Error"]["Code"] in ("InvalidAccessException", "ResourceNotFoundException"):
            return False
        raise
    return True


# Any table header, array-of-tables ones included (they end the section before them).
HEADER = re.compile(r"^\s*\[\[?([^\[\]]+)\]\]?\s*(#.*)?$")


def _toml_value(value: Any) -> str:
    """A TOML literal for the values discover writes (strings and booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(str(value))  # a JSON string of these characters is a TOML basic string


def update(text: str, settings: Mapping[Section, Mapping[str, Any]]) -> str:
    """`text` with each key set in its section: an existing key's line is replaced, a missing key
    goes right after its section's header, a missing section at the end. Comments, other keys and
    other sections stay as they were. The result is parsed back and checked before it is returned."""
    lines = text.splitlines()
    for section, keys in settings.items():
        header = ".".join(section)
        starts = [i for i, line in enumerate(lines) if (m := HEADER.match(line)) and m.group(1).strip() == header]
        if not starts:
            lines += ["", f"[{header}]", *(f"{key} = {_toml_value(value)}" for key, value in keys.items())]
            continue
        start = starts[0]
        end = next((i for i in range(start + 1, len(lines)) if HEADER.match(lines[i])), len(lines))
        for key, value in keys.items():
            assignment = f"{key} = {_toml_value(value)}"
            existing = [i for i in range(start + 1, end) if re.match(rf"^\s*{re.escape(key)}\s*=", lines[i])]
            if existing:
                lines[existing[0]] = assignment
            else:
                lines.insert(start + 1, assignment)
                end += 1
    result = "\n".join(lines) + "\n"
    parsed = tomllib.loads(result)
    for section, keys in settings.items():
        table: Any = parsed
        for part in section:
            table = table[part]
        if any(table.get(key) != value for key, value in keys.items()):
            raise ValueError(f"writing [{'.'.join(section)}] did not give the discovered values")
    return result


class Refused(Exception):
    """Discovery stopped before writing anything; the message says why."""


def _session(environ: Mapping[str, str]) -> Any:
    """A session in the region synthesis will use (AWS_REGION or the file's), which boto3 alone
    would not read."""
    try:
        region = load_config(environ).region
    except ConfigError as error:
        raise Refused(str(error)) from error
    return boto3.Session(region_name=region)


def _ask(session: Any) -> Found:
    try:
        return discover(session)
    except (ClientError, BotoCoreError) as error:
        reason = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
        operation = getattr(error, "operation_name", "a call")
        raise Refused(f"{operation} was refused or failed ({reason}): nothing written") from error


def _write(file: Path, settings: Mapping[Section, Mapping[str, Any]]) -> None:
    try:
        text = update(file.read_text() if file.exists() else "", settings)
    except (tomllib.TOMLDecodeError, ValueError) as error:
        sections = ", ".join(f"[{'.'.join(s)}]" for s in settings)
        raise Refused(f"could not edit {file} safely ({error}); set {sections} by hand: nothing written") from error
    file.write_text(text)


def main(environ: Mapping[str, str] = os.environ, session: Any = None) -> int:
    path = environ.get("TAP_CONFIG")
    try:
        if not path:
            raise Refused("set TAP_CONFIG to the config file to write what the account has into")
        session = session or _session(environ)
        if session.get_credentials() is None:
            print("discover: no AWS credentials here, so nothing to ask; synthesis never calls AWS.")
            return 0
        found = _ask(session)
        settings = found.settings()
        print(f"discover: {session.region_name}:")
        print(
            f"  GuardDuty detector:      {found.detector_id or 'none'} (export: {found.publishing_destination_id or 'none'})"
        )
        print(f"  Config recorder/channel: {found.recorder_name or 'none'} / {found.delivery_channel_name or 'none'}")
        print(f"  Security Hub:            {'subscribed' if found.security_hub else 'not subscribed'}")
        if found.recorder_name is not None and found.delivery_channel_name is None:
            print("  the recorder has no delivery channel: it is not adopted; give it one or delete it first")
        if not settings:
            print("  nothing to adopt: the baseline creates everything")
            return 0
        _write(Path(path), settings)
    except Refused as refusal:
        print(f"discover: {refusal}", file=sys.stderr)
        return 2
    print(f"  written to {path}: " + ", ".join(f"[{'.'.join(s)}] {', '.join(k)}" for s, k in settings.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
