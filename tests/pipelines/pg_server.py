"""A throwaway PostgreSQL server a test may stop and start again (an outage of the catalog).

Same recipe as .ci/postgres.sh: Debian's binaries, a cluster in a temp dir, loopback and a free
port, run as the ``postgres`` user when the tests run as root (Postgres refuses root).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from pipelines.runtime.devserver import free_port


def pg_bindir() -> Path | None:
    """Where initdb and pg_ctl live, or ``None`` when PostgreSQL is not installed."""
    found = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1:]), None)
    return Path(os.path.realpath(found)).parent if found else None


class PgServer:
    """One PostgreSQL cluster on 127.0.0.1, made in a temp dir and removed by :meth:`remove`."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.work = Path(tempfile.mkdtemp(prefix="studio-pg-", dir="/tmp"))
        self.data = self.work / "data"
        self.port = free_port()
        self.root = os.getuid() == 0
        if self.root:
            shutil.chown(self.work, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "studio", "--auth=trust", "--encoding=UTF8", "--no-locale")

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self.root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its ``studio`` database."""
        return f"postgresql+psycopg://studio@127.0.0.1:{self.port}/studio"

    def start(self) -> None:
        """Start (or start again) and wait until it accepts connections."""
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.work} -c fsync=off -c max_connections=200"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.work / "server.log"), "-w", "-t", "60", "start", "-o", opts
        )

    def create_database(self) -> None:
        """Make the ``studio`` database (once, after the first start)."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "studio", "studio")

    def stop(self) -> None:
        """A fast shutdown, as an operator restarting the server does: connections are cut."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """Stop it if it runs and delete its files."""
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.work, ignore_errors=True)
