"""Fixtures for Lambda handler tests: real database and Redis servers (session) and emulated AWS (per test)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lambdas.db_servers import LocalCA, Server, make_ca, start_mariadb, start_postgres, start_redis


@pytest.fixture(scope="session")
def server_root() -> Iterator[Path]:
    # Not pytest's tmp_path: its 0700 parents would keep the unprivileged server users out.
    root = Path(tempfile.mkdtemp(prefix="tap-db-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def test_ca(server_root: Path) -> LocalCA:
    return make_ca(server_root / "ca")


class Servers:
    """Starts each (engine, tls) server on first use and stops all at the end."""

    def __init__(self, root: Path, ca: LocalCA) -> None:
        self._root, self._ca, self._started = root, ca, dict[tuple[str, bool], Server]()

    def get(self, engine: str, tls: bool = True) -> Server:
        key = (engine, tls)
        if key not in self._started:
            root = self._root / f"{engine}-{'tls' if tls else 'plain'}"
            if engine == "redis":  # always TLS with AUTH
                self._started[key] = start_redis(root, self._ca)
            else:
                start = start_postgres if engine == "postgres" else start_mariadb
                self._started[key] = start(root, self._ca if tls else None)
        return self._started[key]

    def stop_all(self) -> None:
        for server in self._started.values():
            server.stop()


@pytest.fixture(scope="session")
def servers(server_root: Path, test_ca: LocalCA) -> Iterator[Servers]:
    started = Servers(server_root, test_ca)
    yield started
    started.stop_all()
