"""`make bench` waits for its dev server to answer before it connects or starts a worker."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

from bench.run import temporal_ready
from pipelines.runtime.connection import ConnectionFailed, connect
from pipelines.runtime.devserver import free_port, start_dev_server, stop_process
from studio.settings import Settings


@contextmanager
def open_but_not_answering(port: int) -> Iterator[None]:
    """A listener that accepts and hangs up at once: a server whose port is open before it serves."""
    listener = socket.create_server(("127.0.0.1", port))
    listener.settimeout(0.1)
    stop = threading.Event()

    def hang_up() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.mark.temporal  # starts a dev server of its own, late on purpose
async def test_waits_until_the_server_answers(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(home=tmp_path / "home", temporal_address=f"127.0.0.1:{port}", _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    server: list[subprocess.Popen[bytes]] = []
    ready = asyncio.Event()

    async def serve_later() -> None:
        with open_but_not_answering(port):
            # What bench (c) met by connecting as soon as the port was open.
            with pytest.raises(ConnectionFailed, match="cannot reach Temporal"):
                await connect(settings)
            ready.set()
            await asyncio.sleep(1.0)
        server.append(
            await asyncio.to_thread(
                start_dev_server, port=port, ui_port=None, db_file=tmp_path / "t.db", log_file=tmp_path / "s.log"
            )
        )

    later = asyncio.create_task(serve_later())
    try:
        await ready.wait()
        client = await temporal_ready(
            settings, lambda: server[0].poll() if server else None, log=tmp_path / "s.log", timeout=60
        )
        answer = await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=client.namespace))
        assert answer.namespace_info.name == settings.temporal_namespace
    finally:
        await later
        for proc in server:
            stop_process(proc.pid)


async def test_a_server_that_exited_is_named_at_once(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", temporal_address=f"127.0.0.1:{free_port()}", _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    with pytest.raises(RuntimeError, match=r"exited with code 1; see .*s\.log"):
        await asyncio.wait_for(temporal_ready(settings, lambda: 1, log=tmp_path / "s.log"), timeout=5)
