"""Account balances cached in Redis over verified TLS with AUTH, invalidated on every write.

Two keys per account: `balance-version:<id>` counts the writes that moved the account, and
`balance:<id>` holds the balance read from the ledger together with the count it was read under
(with a TTL). A read fetches both in one round trip and is a hit only when the counts match. A
write increments the count after its commit, so a balance a slow reader fetched before that
commit was stored under an older count and is never served: no race between readers and
writers, and no lock. The write also deletes the cached balance in the same MULTI, so a count
that restarted (evicted, or lost in a failover) can never line up with a value cached before.

The ledger store invalidates after every commit that moved an account (`LedgerStore`), so every
writer does it: the transactions API and, where the API exists, the payment pipeline.

Redis is a cache, never the truth. When a read finds it unreachable, timing out or refusing the
token, the balance comes from the ledger; reads then leave Redis alone for a short pause, so an
outage costs one timeout rather than one per request. An invalidation ignores the pause (a
skipped one leaves a stale balance for up to the TTL) and reports its failure through
`on_stale`, which the functions count as a metric. A refused token is read again from its
secret once before giving up.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import rds_client
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from lib.contracts import payments as contract

# Short: a cache that answers slower than the database is not worth waiting for.
TIMEOUT_SECONDS = 0.25
PAUSE_AFTER_FAILURE_SECONDS = 30
# The version key outlives any cached balance, so a count never restarts under a live value.
VERSION_TTL_SECONDS = 24 * 3600

Balance = dict[str, Any]
# Called with refresh=True after Redis refused the previous token: read the secret again.
TokenProvider = Callable[[bool], str]


def from_settings(settings: Mapping[str, str], secrets: Any, *, on_stale: Callable[[list[int]], None]) -> BalanceCache:
    """The cache the settings name (`contract.CACHE_SETTINGS`).

    Its AUTH token is read from its secret (AWSCURRENT, cached, read again when refused). Without
    `BALANCE_CACHE_SECONDS` the client only invalidates: it never caches a balance itself.
    """
    arn = settings[contract.CACHE_AUTH_SECRET_ARN]
    seconds = settings.get(contract.BALANCE_CACHE_SECONDS)
    return BalanceCache(
        host=settings[contract.CACHE_HOST],
        port=int(settings[contract.CACHE_PORT]),
        token=lambda refresh: str(rds_client.current_secret(secrets, arn, refresh=refresh)),
        ca_bundle=lambda: rds_client.CA_BUNDLE,  # its Amazon Root CAs sign ElastiCache's certificates too
        ttl_seconds=None if seconds is None else int(seconds),
        on_stale=on_stale,
    )


def connect(*, host: str, port: int, token: str, ca_bundle: Path) -> redis.Redis:
    """A client that verifies the server's certificate and name, TLS 1.2 at least, AUTH with the token."""
    return redis.Redis(
        host=host,
        port=port,
        password=token,
        ssl=True,
        ssl_ca_certs=str(ca_bundle),
        ssl_cert_reqs="required",
        ssl_check_hostname=True,
        ssl_min_version=ssl.TLSVersion.TLSv1_2,
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
        # redis-py retries 3 times with backoff by default: seconds per command while Redis is down,
        # which every write would pay (invalidations ignore the pause). One attempt, then the ledger.
        retry=Retry(NoBackoff(), 0),
    )


class BalanceCache:
    """`read` answers from Redis or the loader; `invalidate` after a committed write."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        token: TokenProvider,
        ca_bundle: Callable[[], Path],
        ttl_seconds: int | None,
        clock: Callable[[], float] = time.monotonic,
        on_stale: Callable[[list[int]], None] = lambda account_ids: None,
    ) -> None:
        self.host, self.port, self.ttl_seconds = host, port, ttl_seconds
        self._token, self._ca_bundle, self._clock, self._on_stale = token, ca_bundle, clock, on_stale
        self._client: redis.Redis | None = None
        self._paused_until = 0.0

    def read(self, account_id: int, load: Callable[[], Balance | None]) -> tuple[Balance | None, str]:
        """The balance and how it was answered: "hit", "miss" (read and cached) or "unavailable"."""
        version_key, value_key = f"balance-version:{account_id}", f"balance:{account_id}"
        found = self._call(lambda client: client.mget(version_key, value_key))
        if found is None:
            return load(), "unavailable"
        version = int(found[0] or 0)
        if found[1] is not None:
            try:
                cached = json.loads(found[1])
                if cached["version"] == version:
                    balance: Balance = cached["balance"]
                    return balance, "hit"
            except (ValueError, TypeError, KeyError):
                pass  # not a value this code wrote: a miss, overwritten below
        value = load()
        if value is not None and self.ttl_seconds is not None:
            text = json.dumps({"version": version, "balance": value})
            self._call(lambda client: client.set(value_key, text, ex=self.ttl_seconds))
        return value, "miss"

    def invalidate(self, account_ids: list[int]) -> bool:
        """Moves each account's count on and drops its value, atomically; False when Redis could not be told."""

        def bump(client: redis.Redis) -> list[Any]:
            pipeline = client.pipeline(transaction=True)
            for account_id in account_ids:
                pipeline.incr(f"balance-version:{account_id}")
                pipeline.expire(f"balance-version:{account_id}", VERSION_TTL_SECONDS)
                pipeline.delete(f"balance:{account_id}")
            result: list[Any] = pipeline.execute()
            return result

        if not account_ids or self._call(bump, paused_too=True) is not None:
            return True
        self._on_stale(account_ids)
        return False

    def _call(self, command: Callable[[redis.Redis], Any], *, paused_too: bool = False) -> Any:
        """The command's answer, or None when Redis is paused (unless `paused_too`) or failed (then paused)."""
        if not paused_too and self._clock() < self._paused_until:
            return None
        for refresh in (False, True):
            try:
                return command(self._connected(refresh))
            except redis.AuthenticationError:
                self._client = None  # the token was rotated: read it again, once
                if refresh:
                    break
            except Exception:  # Redis errors, or its token unreadable: the ledger answers
                self._client = None
                break
        self._paused_until = self._clock() + PAUSE_AFTER_FAILURE_SECONDS
        return None

    def _connected(self, refresh: bool) -> redis.Redis:
        if self._client is None:
            self._client = connect(
                host=self.host, port=self.port, token=self._token(refresh), ca_bundle=self._ca_bundle()
            )
        return self._client
