"""`studio up / down / server / worker / stack`: the embedded stack and its two halves."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from studio.errors import StudioError
from studio.settings import Settings, load_settings

STACK_FILE = "stack.json"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the stack subcommands."""
    p = sub.add_parser("up", help="start the embedded stack: Temporal dev server (+ Web UI), a worker, the dashboard")
    p.add_argument("--detach", action="store_true", help="run in the background and return once ready")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("down", help="stop the embedded stack started by `studio up`")
    p.set_defaults(func=cmd_down)
    p = sub.add_parser("stack", help="show what the embedded stack runs and where")
    p.set_defaults(func=cmd_stack)
    p = sub.add_parser("server", help="run only the Temporal dev server (persisted under STUDIO_HOME)")
    p.set_defaults(func=cmd_server)
    p = sub.add_parser("worker", help="run only a worker (more workers = more throughput)")
    p.set_defaults(func=cmd_worker)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_stack(settings: Settings) -> dict[str, Any] | None:
    """The running stack's description, or ``None`` when no `studio up` is alive."""
    path = settings.home / STACK_FILE
    try:
        state = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return state if _alive(state.get("up_pid")) else None


def _logs(settings: Settings) -> Path:
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return logs


def _spawn(args: list[str], log: Path, *, tied: bool = True) -> subprocess.Popen[bytes]:
    from pipelines.runtime.devserver import die_with_parent

    with open(log, "ab") as out:
        return subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent if tied else None,
        )


def _print_stack(state: dict[str, Any]) -> None:
    if state.get("dashboard_url"):
        print(f"dashboard  {state['dashboard_url']}")
    print(f"Temporal   {state['address']}  (Web UI {state['ui_url']})")
    print(f"worker     pid {state['worker_pid']}")
    print(f"home       {state['home']}")
    print("stop with  studio down")


def cmd_up(args: argparse.Namespace) -> int:
    """Start the stack in the foreground (Ctrl-C stops it) or, with --detach, in the background."""
    settings = load_settings()
    if not settings.embedded:
        raise StudioError("TEMPORAL_ADDRESS is set, so there is no embedded server to start: run `studio worker`")
    running = read_stack(settings)
    if running:
        print("the studio stack is already running")
        _print_stack(running)
        return 0
    if args.detach:
        return _up_detached(settings)
    return _up_foreground(settings)


def _up_detached(settings: Settings) -> int:
    log = _logs(settings) / "up.log"
    proc = _spawn([sys.executable, "-m", "studio.cli", "up"], log, tied=False)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        state = read_stack(settings)
        if state and state.get("ready"):
            _print_stack(state)
            return 0
        if proc.poll() is not None:
            raise StudioError(f"`studio up` exited early with code {proc.returncode}; see {log}")
        time.sleep(0.2)
    raise StudioError(f"the stack did not become ready in 90 s; see {log}")


def _up_foreground(settings: Settings) -> int:
    from pipelines.runtime.devserver import start_dev_server, stop_process

    logs = _logs(settings)
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server = start_dev_server(
        port=settings.temporal_port,
        ui_port=settings.temporal_ui_port,
        db_file=settings.home / "temporal.db",
        log_file=logs / "temporal.log",
    )
    worker = _spawn([sys.executable, "-m", "studio.cli", "worker"], logs / "worker.log")
    from studio.cli.dashboard import start_dashboard

    dashboard = start_dashboard(settings, logs / "dashboard.log")
    state = {
        "up_pid": os.getpid(),
        "server_pid": server.pid,
        "worker_pid": worker.pid,
        "dashboard_pid": dashboard.pid,
        "home": str(settings.home),
        "address": settings.address,
        "ui_url": f"http://127.0.0.1:{settings.temporal_ui_port}",
        "dashboard_url": settings.dashboard_url,
        "ready": True,
    }
    stack_file = settings.home / STACK_FILE
    stack_file.write_text(json.dumps(state, indent=2))
    _print_stack(state)
    try:
        while not stop["now"]:
            time.sleep(0.5)
            if server.poll() is not None:
                raise StudioError(
                    f"the Temporal dev server stopped (code {server.returncode}); see {logs / 'temporal.log'}"
                )
            if worker.poll() is not None and not stop["now"]:
                # A crashed worker costs only its in-flight calls; start another one.
                print(f"worker exited with code {worker.returncode}; restarting it", flush=True)
                worker = _spawn([sys.executable, "-m", "studio.cli", "worker"], logs / "worker.log")
                state["worker_pid"] = worker.pid
                stack_file.write_text(json.dumps(state, indent=2))
    finally:
        stop_process(dashboard.pid)
        stop_process(worker.pid)
        stop_process(server.pid)
        stack_file.unlink(missing_ok=True)
        print("studio stack stopped", flush=True)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    """Stop the stack `studio up` started (it stops its own children)."""
    settings = load_settings()
    state = read_stack(settings)
    if not state:
        print("the studio stack is not running")
        return 0
    os.kill(state["up_pid"], signal.SIGTERM)
    deadline = time.monotonic() + 30
    while _alive(state["up_pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(state["up_pid"]):
        raise StudioError(f"`studio up` (pid {state['up_pid']}) did not stop within 30 s")
    print("studio stack stopped")
    return 0


def cmd_stack(args: argparse.Namespace) -> int:
    """Show the running stack."""
    state = read_stack(load_settings())
    if not state:
        print("the studio stack is not running: start it with `studio up`")
        return 1
    _print_stack(state)
    return 0


def cmd_server(args: argparse.Namespace) -> int:
    """Run only the dev server in the foreground."""
    from pipelines.runtime.devserver import start_dev_server, stop_process

    settings = load_settings()
    server = start_dev_server(
        port=settings.temporal_port,
        ui_port=settings.temporal_ui_port,
        db_file=settings.home / "temporal.db",
        log_file=_logs(settings) / "temporal.log",
    )
    print(f"Temporal dev server on {settings.address}, Web UI http://127.0.0.1:{settings.temporal_ui_port}")
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_process(server.pid)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run a worker until SIGTERM or Ctrl-C."""
    from pipelines.runtime.memory import tune_malloc
    from pipelines.runtime.telemetry import setup_process
    from pipelines.runtime.worker import run_worker

    tune_malloc()  # before any image buffer exists
    settings = load_settings()
    # Before the worker connects, so its spans are named studio-worker rather than studio-cli.
    setup_process(settings, service="studio-worker")

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        started = f"worker on {settings.address}, task queue {settings.task_queue}"
        if settings.log_format == "json":  # the log stays one JSON object per line
            logging.getLogger("studio.worker").info(started)
        else:
            print(started, flush=True)
        await run_worker(settings, stop)

    asyncio.run(_main())
    return 0
