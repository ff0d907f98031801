"""A throwaway PostgreSQL cluster on 127.0.0.1: made in a temp folder, started, and removed again.

Used by the test suite and by `scripts/scale-out` when no server URL is given. Debian's server refuses
to run as root, so as root the cluster belongs to the `postgres` account; its password is random, lives
only in the returned URL, and never reaches a log.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from trainer.deploy.local_net import free_port

DATABASE = "trainer"
USER = "trainer"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here (Debian: `apt-get install postgresql`)."""


def bin_dir() -> Path:
    """Where initdb and pg_ctl live: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not versions:
        raise PostgresUnavailable("PostgreSQL server not found: install it with `apt-get install postgresql`")
    return Path(versions[-1]).parent


def _as_owner(args: list[str]) -> list[str]:
    """The command as the cluster's owner: `postgres` when we are root (the server will not run as root)."""
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


@dataclass
class LocalPostgres:
    folder: Path
    port: int
    url: str = field(repr=False)  # postgresql://trainer:PASSWORD@127.0.0.1:PORT/trainer: never in a repr

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def stop(self) -> None:
        """Stop the server and delete the cluster; safe to call twice."""
        if self.data.exists():
            subprocess.run(
                _as_owner([str(bin_dir() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)


def start_local_postgres(port: int | None = None, max_connections: int = 200) -> LocalPostgres:
    """initdb + pg_ctl start in a new temp folder, then create the `trainer` database; returns its URL."""
    binaries = bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="trainer-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    folder.chmod(0o700)
    password = secrets.token_hex(16)
    pwfile = folder / "pw"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres", "postgres")
    port = port or free_port()
    db = LocalPostgres(folder, port, f"postgresql://{USER}:{password}@127.0.0.1:{port}/{DATABASE}")
    try:
        _run([str(binaries / "initdb"), "-D", str(db.data), "-U", USER, "--auth=scram-sha-256",
              f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"])  # fmt: skip
        pwfile.unlink()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={folder}"
            f" -c max_connections={max_connections}"
        )
        _run([str(binaries / "pg_ctl"), "-D", str(db.data), "-l", str(folder / "server.log"),
              "-o", options, "-w", "-t", "60", "start"])  # fmt: skip
        import psycopg

        with psycopg.connect(db.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
    except BaseException:
        db.stop()
        raise
    return db


def _run(args: list[str]) -> None:
    done = subprocess.run(_as_owner(args), capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PostgresUnavailable(f"{Path(args[0]).name} failed: {tail[0]}")
