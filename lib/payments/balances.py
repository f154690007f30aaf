"""What a function needs to reach the balance cache: its settings, its IAM, and the cache's admission.

The transactions API reads and invalidates cached balances; where it exists, the payment
pipeline's settlement invalidates them too (both write the ledger). Both get exactly this.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_aws.kms_key import KmsKey

from lib.contracts import payments as contract
from lib.core.context import StackContext
from lib.core.function import PythonFunction
from lib.core.policies import Statement, key_use
from lib.data.cache import RedisCache

# The client library the functions use for Redis (TLS, AUTH).
REDIS_DISTRIBUTION = "redis"


@dataclass(frozen=True)
class BalanceCacheAccess:
    cache: RedisCache
    environment: dict[str, str]
    statements: list[Statement]

    def admit(self, construct_id: str, function: PythonFunction, description: str) -> None:
        """The cache's security group admits the function's, on the cache's port only."""
        self.cache.admit(construct_id, function.security_group, description)


def balance_cache_access(context: StackContext, cache: RedisCache, secrets_key: KmsKey) -> BalanceCacheAccess:
    """Endpoint and token secret in the environment; reading that secret, decrypted through Secrets Manager.

    The key statement covers any secret under the secrets key the function may read.
    """
    return BalanceCacheAccess(
        cache=cache,
        environment={
            contract.CACHE_HOST: cache.replication_group.primary_endpoint_address,
            contract.CACHE_PORT: str(cache.port),
            contract.CACHE_AUTH_SECRET_ARN: cache.auth_secret.arn,
        },
        statements=[
            {
                "Sid": "ReadTheCacheToken",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": cache.auth_secret.arn,
            },
            key_use(
                "SecretsKeyThroughSecretsManager",
                ["kms:Decrypt"],
                secrets_key.arn,
                [context.region.service_host("secretsmanager")],
            ),
        ],
    )
