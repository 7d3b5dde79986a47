"""`studio dashboard`: run the Streamlit dashboard (ui/streamlit_app.py) as a child process."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from studio.review.access import check_listen_safe
from studio.settings import Settings, load_settings

APP = Path(__file__).resolve().parents[2] / "ui" / "streamlit_app.py"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the dashboard subcommand."""
    p = sub.add_parser("dashboard", help="run the web dashboard (STUDIO_DASHBOARD_PORT, STUDIO_DASHBOARD_HOST)")
    p.set_defaults(func=cmd_dashboard)


def dashboard_command(settings: Settings) -> list[str]:
    """The `streamlit run` command line for the dashboard under ``settings``."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(settings.dashboard_port),
        "--server.address",
        settings.dashboard_host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # Client pages must not show tracebacks or the developer menu to whoever holds a link.
        "--client.showErrorDetails",
        "none",
        "--client.toolbarMode",
        "minimal",
        # Teal rather than Streamlit's red: the primary button here means "approve", not "danger".
        "--theme.primaryColor",
        "#0f766e",
        # Streamlit runs a full gc.collect() after every script run by default: on the script thread
        # after every page draw and live refresh, with the GIL held, so the server can neither send
        # the page nor its thumbnails meanwhile. Python's own generational collector still runs.
        # With the two flags below, pages drew faster (bench/scale/dashboard_first_render.py).
        "--runner.postScriptGC",
        "false",
        # Watching the source for edits is for developing the app, not for serving it.
        "--server.fileWatcherType",
        "none",
        # No page writes a bare expression: skip rewriting every page's syntax tree for "magic".
        "--runner.magicEnabled",
        "false",
    ]


def dashboard_env(settings: Settings) -> dict[str, str]:
    """The child's environment: ours, plus the settings that were given as overrides, not env.

    The dashboard re-reads settings from its environment, so anything this process was told
    (a home, a server, a queue) must be passed down explicitly.
    """
    env = dict(os.environ)
    env["STUDIO_HOME"] = str(settings.home)
    env["STUDIO_TASK_QUEUE"] = settings.task_queue
    env["STUDIO_DASHBOARD_PORT"] = str(settings.dashboard_port)
    env["STUDIO_DASHBOARD_HOST"] = settings.dashboard_host
    env["TEMPORAL_NAMESPACE"] = settings.temporal_namespace
    env["STUDIO_TEMPORAL_PORT"] = str(settings.temporal_port)
    env["STUDIO_TEMPORAL_UI_PORT"] = str(settings.temporal_ui_port)
    optional = {
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "DATABASE_URL": settings.database_url,
        "STUDIO_ASSETS": settings.assets,
        "STUDIO_S3_ENDPOINT_URL": settings.s3_endpoint_url,
        "STUDIO_S3_REGION": settings.s3_region,
        "STUDIO_PUBLIC_URL": settings.public_url,
        "STUDIO_TEMPORAL_UI": settings.temporal_ui,
        "STUDIO_DASHBOARD_TOKEN": settings.dashboard_token.get_secret_value() if settings.dashboard_token else None,
        "STUDIO_SHARE_SECRET": settings.share_secret.get_secret_value() if settings.share_secret else None,
    }
    env.update({name: value for name, value in optional.items() if value is not None})
    env["STUDIO_OWNER_NAME"] = settings.owner_name
    return env


def die_with_parent() -> None:
    """The dashboard stops when `studio up` dies, even by SIGKILL (see pipelines.runtime.devserver)."""
    from pipelines.runtime.devserver import die_with_parent as _die

    _die()


def start_dashboard(settings: Settings, log_file: Path) -> subprocess.Popen[bytes]:
    """Start the dashboard in the background, in its own process group, logging to ``log_file``.

    Raises:
        DashboardUnsafe: It would listen beyond localhost without STUDIO_DASHBOARD_TOKEN.
    """
    check_listen_safe(settings)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as out:
        return subprocess.Popen(
            dashboard_command(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dashboard_env(settings),
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Run the dashboard in the foreground until Ctrl-C or SIGTERM (which stop Streamlit too)."""
    settings = load_settings()
    check_listen_safe(settings)
    print(f"dashboard on {settings.dashboard_url} (Ctrl-C stops it)", flush=True)
    child = subprocess.Popen(dashboard_command(settings), env=dashboard_env(settings))

    def _stop(*_: object) -> None:
        # Pass the stop on: without this a SIGTERM would leave Streamlit running on its own.
        child.terminate()

    signal.signal(signal.SIGTERM, _stop)
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        child.wait(timeout=10)
        return 130
