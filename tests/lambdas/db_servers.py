"""Real PostgreSQL, MariaDB and Redis servers on loopback for the Lambda tests.

Each server gets an ephemeral port and data directory under the test session's temp dir, and
(unless told otherwise) TLS with a certificate from a CA made here, so the rotation code's
certificate and hostname verification runs for real. Servers run as an unprivileged user when
the tests run as root (PostgreSQL refuses root). `.ci/run` installs the packages.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

STARTUP_SECONDS = 60
ADMIN_USER = "tap_admin"
DATABASE = "payments"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


@dataclass(frozen=True)
class LocalCA:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def make_ca(directory: Path) -> LocalCA:
    """A CA and a server certificate for localhost / 127.0.0.1, made with openssl."""
    directory.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=TAP test CA",
    )
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"
    )
    (directory / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    )
    return LocalCA(directory / "ca.pem", directory / "server.pem", directory / "server.key")


def service_user(name: str) -> pwd.struct_passwd | None:
    """The unprivileged account servers run as when the tests run as root; None otherwise."""
    return pwd.getpwnam(name) if os.geteuid() == 0 else None


def own(paths: Sequence[Path], user: pwd.struct_passwd | None) -> None:
    for path in paths:
        if user is not None:
            shutil.chown(path, user.pw_uid, user.pw_gid)


def as_user(user: pwd.struct_passwd | None, command: list[str]) -> list[str]:
    return ["runuser", "-u", user.pw_name, "--", *command] if user is not None else command


@dataclass
class Server:
    engine: str
    port: int
    admin_password: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def postgres_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found; install the postgresql package")
    return str(found[-1])


def start_postgres(root: Path, ca: LocalCA | None) -> Server:
    user = service_user("postgres")
    data, run = root / "data", root / "run"
    root.mkdir(parents=True)
    run.mkdir()
    password = secrets.token_hex(16)
    pwfile = root / "pw"
    pwfile.write_text(password)
    own([root, run, pwfile], user)
    subprocess.run(
        as_user(
            user,
            [
                postgres_bin("initdb"),
                "-D",
                str(data),
                "-U",
                ADMIN_USER,
                "--pwfile",
                str(pwfile),
                "-A",
                "scram-sha-256",
                "--no-sync",
            ],
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    settings = [
        f"port = {port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{run}'",
        "password_encryption = 'scram-sha-256'",
    ]
    if ca is not None:
        for name in ("server.pem", "server.key"):
            shutil.copy(ca.server_cert.parent / name, data / name)
        (data / "server.key").chmod(0o600)
        own([data / "server.pem", data / "server.key"], user)
        settings += [
            "ssl = on",
            "ssl_cert_file = 'server.pem'",
            "ssl_key_file = 'server.key'",
            "ssl_min_protocol_version = 'TLSv1.2'",
        ]
        hba = "hostssl all all 127.0.0.1/32 scram-sha-256\n"
    else:
        hba = "host all all 127.0.0.1/32 scram-sha-256\n"
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\n".join(settings) + "\n")
    (data / "pg_hba.conf").write_text(f"local all all scram-sha-256\n{hba}")
    log = root / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            as_user(user, [postgres_bin("postgres"), "-D", str(data)]), stdout=out, stderr=subprocess.STDOUT
        )
    wait_for_port(port, process, log)
    env = {**os.environ, "PGPASSWORD": password}
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            ADMIN_USER,
            "-d",
            "postgres",
            "-c",
            f"CREATE DATABASE {DATABASE}",
        ],
        check=True,
        capture_output=True,
        env={**env, "PGSSLMODE": "require" if ca else "disable"},
    )
    return Server("postgres", port, password, process)


def start_mariadb(root: Path, ca: LocalCA | None) -> Server:
    user = service_user("mysql")
    data = root / "data"
    root.mkdir(parents=True)
    own([root], user)
    user_args = [f"--user={user.pw_name}"] if user is not None else []
    subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={data}",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
            *user_args,
        ],
        check=True,
        capture_output=True,
    )
    port, sock = free_port(), root / "mysqld.sock"
    args = [
        "mariadbd",
        "--no-defaults",
        f"--datadir={data}",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        f"--socket={sock}",
        f"--pid-file={root / 'mysqld.pid'}",
        "--skip-name-resolve",
        *user_args,
    ]
    if ca is not None:
        for path in (ca.ca_cert, ca.server_cert, ca.server_key):
            shutil.copy(path, root / path.name)
        own([root / p.name for p in (ca.ca_cert, ca.server_cert, ca.server_key)], user)
        args += [
            f"--ssl-ca={root / 'ca.pem'}",
            f"--ssl-cert={root / 'server.pem'}",
            f"--ssl-key={root / 'server.key'}",
            "--require-secure-transport=ON",
            "--tls-version=TLSv1.2,TLSv1.3",
        ]
    else:
        args += ["--skip-ssl"]
    log = root / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    wait_for_port(port, process, log)
    password = secrets.token_hex(16)
    admin_sql = (
        f"CREATE USER '{ADMIN_USER}'@'%' IDENTIFIED BY '{password}';"
        f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'%' WITH GRANT OPTION;"
        f"CREATE DATABASE {DATABASE};"
    )
    subprocess.run(
        ["mariadb", "--no-defaults", f"--socket={sock}", "-u", "root", "-e", admin_sql], check=True, capture_output=True
    )
    return Server("mysql", port, password, process)


def start_redis(root: Path, ca: LocalCA) -> Server:
    """Redis with TLS only (the test CA's certificate) and AUTH, as ElastiCache runs it for TAP."""
    root.mkdir(parents=True)
    port, password = free_port(), secrets.token_hex(16)
    log = root / "server.log"
    args = [
        "redis-server",
        "--bind",
        "127.0.0.1",
        "--port",
        "0",  # no plaintext port
        "--tls-port",
        str(port),
        "--tls-cert-file",
        str(ca.server_cert),
        "--tls-key-file",
        str(ca.server_key),
        "--tls-ca-cert-file",
        str(ca.ca_cert),
        "--tls-auth-clients",
        "no",
        "--tls-protocols",
        "TLSv1.2 TLSv1.3",
        "--requirepass",
        password,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(root),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    wait_for_port(port, process, log)
    return Server("redis", port, password, process)
