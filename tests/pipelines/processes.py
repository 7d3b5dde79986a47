"""Worker and server processes for crash tests: started in their own process group, killed by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from pipelines.devserver import die_with_parent
from studio.settings import Settings
from tests.backends import backend_env


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a `studio worker` process needs to serve ``settings``' batches: this
    process's, less its studio settings, plus ``settings``' home, server, queue and storage."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "TEMPORAL_")) and k != "DATABASE_URL"}
    env.update(
        STUDIO_HOME=str(settings.home),
        TEMPORAL_ADDRESS=settings.address,
        STUDIO_TASK_QUEUE=settings.task_queue,
        STUDIO_WORKFLOW_SANDBOX="1" if settings.workflow_sandbox else "0",
        **backend_env(settings),
        **extra,
    )
    return env


def spawn_worker(settings: Settings, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """Start `python -m studio.cli worker` for ``settings`` in its own process group."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "studio.cli", "worker"],
            env=worker_env(settings, **extra),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


def kill_hard(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group (no clean shutdown: a real crash) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)
