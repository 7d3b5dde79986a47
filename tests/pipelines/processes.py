"""Worker and server processes for crash tests: started in their own process group, killed by PID."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from pipelines.runtime.devserver import die_with_parent
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
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def pid_of(identity: str) -> int:
    """The process id in a worker identity (``<pid>@<host>``)."""
    return int(identity.split("@", 1)[0])


async def polling_pids(client: Client, task_queue: str) -> set[int]:
    """The worker processes polling ``task_queue`` for workflow tasks."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return {pid_of(p.identity) for p in response.pollers}


async def wait_polling(
    client: Client, task_queue: str, workers: list[subprocess.Popen[bytes]], timeout: float = 60.0
) -> None:
    """Wait until every one of ``workers`` polls ``task_queue`` (a worker takes a second or two to
    import and connect): work started before that all goes to whichever came up first."""
    deadline = time.monotonic() + timeout
    while not {p.pid for p in workers} <= await polling_pids(client, task_queue):
        if time.monotonic() > deadline:
            raise AssertionError(f"workers {[p.pid for p in workers]} did not all poll {task_queue} in {timeout:.0f} s")
        await asyncio.sleep(0.05)
