"""Secrets generated at apply time and written write-only: never in code, plan or Terraform state.

An ephemeral `aws_secretsmanager_random_password` is opened during apply; write-only attributes
(`*_wo`, sent once per `*_wo_version`) carry it to Secrets Manager or the service that needs it.
Letters and digits only, so the value is safe in URLs, shells and SQL literals.
"""

from __future__ import annotations

from cdktn_provider_aws.ephemeral_aws_secretsmanager_random_password import EphemeralAwsSecretsmanagerRandomPassword
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktn_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from lib.core.context import Lifecycle

WRITE_ONCE = 1


def generated_password(scope: Construct, construct_id: str, length: int) -> str:
    """A token for the random value of one apply; reference it only from write-only attributes."""
    return EphemeralAwsSecretsmanagerRandomPassword(
        scope, construct_id, password_length=length, exclude_punctuation=True, include_space=False
    ).random_password


def write_only_secret(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    description: str,
    kms_key: KmsKey,
    value: str,
    lifecycle: Lifecycle,
) -> SecretsmanagerSecret:
    secret = SecretsmanagerSecret(
        scope,
        construct_id,
        name=name,
        description=description,
        kms_key_id=kms_key.arn,
        recovery_window_in_days=lifecycle.secret_recovery_days,
    )
    SecretsmanagerSecretVersion(
        scope, f"{construct_id}_value", secret_id=secret.id, secret_string_wo=value, secret_string_wo_version=WRITE_ONCE
    )
    return secret
