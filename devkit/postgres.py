"""A throwaway PostgreSQL that accepts TLS connections only, for the tests and ``./dev test``.

It listens on 127.0.0.1 (a free port), with a certificate for ``localhost`` from a throwaway CA
(:mod:`devkit.tls`), and ``pg_hba.conf`` rejects every TCP connection without TLS. Role
``dialguard`` (password ``dialguard``) owns database ``dialguard_test``. Run as root it runs the
server as ``postgres`` (initdb refuses root).

``python -m devkit.postgres start DIR`` prints the suite's ``DIALGUARD_TEST_PG_URL``;
``python -m devkit.postgres stop DIR`` stops it (DIR is left for the caller to remove).
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .net import free_port
from .tls import Pki, write_pki

PORT_FILE = "port"
HBA = """\
local all all trust
hostssl all all 127.0.0.1/32 scram-sha-256
hostnossl all all 0.0.0.0/0 reject
"""


def _bin(name: str) -> str:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise FileNotFoundError(
            "no PostgreSQL server in /usr/lib/postgresql (apt install postgresql)"
        )
    return str(versions[-1] / name)


def _as_server_user(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def _run(*command: str) -> None:
    subprocess.run(_as_server_user(*command), check=True, capture_output=True, timeout=120)


@dataclass(frozen=True)
class TlsPostgres:
    directory: Path
    port: int
    pki: Pki

    def url(
        self, *, mode: str = "verify-full", host: str = "localhost", ca_file: Path | None = None
    ) -> str:
        """The URL of ``dialguard_test`` with ``ssl=mode`` (``""``: no TLS parameter at all)."""
        base = f"postgresql+asyncpg://dialguard:dialguard@{host}:{self.port}/dialguard_test"
        if not mode:
            return base
        if mode not in ("verify-ca", "verify-full"):
            return f"{base}?ssl={mode}"
        return f"{base}?ssl={mode}&sslrootcert={ca_file or self.pki.ca_file}"


def start(directory: Path) -> TlsPostgres:
    """Initialise a cluster in ``directory`` (which must be empty) and start it."""
    data = directory / "data"
    pki = write_pki(directory / "pki", ("localhost",))
    if os.geteuid() == 0:
        server = pwd.getpwnam("postgres")
        for path in (directory, directory / "pki", pki.key_file, pki.cert_file, pki.ca_file):
            os.chown(path, server.pw_uid, server.pw_gid)
    _run(_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    (data / "pg_hba.conf").write_text(HBA)
    port = free_port()
    # A throwaway cluster: no test survives a crash of this host, so PostgreSQL need not flush
    # to disk. Without fsync every commit, CREATE DATABASE and DROP DATABASE of the suite is
    # several times cheaper; what commits mean to other sessions is unchanged.
    options = (
        f"-h 127.0.0.1 -p {port} -k {directory} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c autovacuum=off -c ssl=on "
        f"-c ssl_cert_file={pki.cert_file} -c ssl_key_file={pki.key_file}"
    )
    log = directory / "log"
    _run(_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start")
    _run(
        _bin("psql"), "-h", str(directory), "-p", str(port), "-U", "postgres", "-q",
        "-c", "CREATE ROLE dialguard LOGIN PASSWORD 'dialguard' CREATEDB",
        "-c", "CREATE DATABASE dialguard_test OWNER dialguard",
    )  # fmt: skip
    (directory / PORT_FILE).write_text(str(port))
    return TlsPostgres(directory, port, pki)


def stop(directory: Path) -> None:
    """Stop the server started in ``directory`` (fast shutdown); nothing if none runs."""
    if (directory / "data" / "postmaster.pid").exists():
        _run(_bin("pg_ctl"), "-D", str(directory / "data"), "-m", "fast", "-w", "stop")


if __name__ == "__main__":
    action, where = sys.argv[1], Path(sys.argv[2])
    if action == "start":
        print(start(where).url())
    else:
        stop(where)
