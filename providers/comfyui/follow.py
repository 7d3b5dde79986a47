"""Following one ComfyUI job to its end: websocket events, with the node's queue and history as backstop.

The websocket (``/ws?clientId=<prompt id>``) is opened before anything is submitted, so no event of
the job is missed; ComfyUI sends a prompt's events only to the client id that submitted it, and the
studio uses the prompt id as client id, so a waiter resumed in another process hears the same job.
Events give queue moves, sampler steps and the end at once; every few seconds (and whenever the
websocket is down) the queue and history are read too, which is also how a job lost in a node
restart is noticed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from providers.base import Progress, ProgressCallback, Unavailable
from providers.comfyui.node import PROVIDER, NodeClient, auth_headers

MAX_FRAME = 64 * 2**20
"""Largest websocket frame read (sampler previews of big images are large binary frames)."""
CLOSE_TIMEOUT = 1.0
"""Seconds to wait for the node's answer to our close frame. The job is over by then; a node busy
with the next prompt could otherwise hold the finished render for websockets' default of 10 s."""


class JobEvents:
    """The websocket of one job: opened before submitting, read with a timeout, reopened when dropped.

    Args:
        url: The node's API root (``http://…``; the websocket is ``ws://…/ws``).
        client_id: The job's prompt id (events go only to the client that submitted it).
        token: Bearer token for the upgrade request; empty for none.
        timeout: Seconds to open the connection.
    """

    def __init__(self, url: str, client_id: str, *, token: str = "", timeout: float = 60.0) -> None:
        scheme = "wss" if url.startswith("https://") else "ws"
        self._uri = f"{scheme}://{url.split('://', 1)[1].rstrip('/')}/ws?clientId={client_id}"
        self._headers = auth_headers(token)
        self._timeout = timeout
        self._conn: ClientConnection | None = None
        self._dropped = False

    def __repr__(self) -> str:  # keep the token out of reprs
        return "JobEvents()"

    @property
    def connected(self) -> bool:
        """Whether the websocket is open (otherwise the waiter polls only)."""
        return self._conn is not None

    async def open(self) -> bool:
        """Open the websocket; False when the node does not take one (the waiter then polls)."""
        try:
            self._conn = await connect(
                self._uri,
                additional_headers=self._headers,
                open_timeout=self._timeout,
                max_size=MAX_FRAME,
                compression=None,
                close_timeout=CLOSE_TIMEOUT,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI):
            # No websocket (refused, timed out, a proxy that does not upgrade, a 401): the
            # queue and history polls still see the job through, only less promptly.
            self._conn = None
        return self._conn is not None

    async def next(self, timeout: float) -> dict[str, Any] | None:
        """The next JSON event within ``timeout`` seconds; ``None`` on silence or a dropped socket.

        Binary frames (sampler previews) are skipped.
        """
        if self._conn is None:
            await asyncio.sleep(timeout)
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            try:
                # Not asyncio.wait_for: on Python 3.11 it drops a cancellation that lands as the
                # frame arrives, and a cancelled render must stop (and take its job off the node).
                async with asyncio.timeout(left):
                    raw = await self._conn.recv()
            except TimeoutError:
                return None
            except ConnectionClosed:
                self._conn, self._dropped = None, True
                return None
            if isinstance(raw, bytes):
                continue
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if isinstance(event, dict) and isinstance(event.get("data"), dict):
                return event
        return None

    async def reopen(self) -> None:
        """Open the websocket again if the node dropped it (a restart); a node that never took one
        is not asked again."""
        if self._dropped and self._conn is None:
            self._dropped = not await self.open()

    async def close(self) -> None:
        """Close the websocket, if open."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    async def __aenter__(self) -> JobEvents:
        await self.open()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()


def execution_failure(node: NodeClient, kind: str, data: dict[str, Any]) -> Unavailable:
    """The error for a job that ended badly (``execution_error`` or ``execution_interrupted``).

    A failed job is an outage of that node, not a bad request: a GPU out of memory passes, and the
    node's failure streak sets a broken node aside.
    """
    if kind == "execution_interrupted":
        message = f"{PROVIDER} node {node.name}: interrupted"
        return Unavailable(message, provider=PROVIDER, detail="interrupted")
    said = node.redact(
        f"execution_error in {data.get('node_type') or '?'}: {data.get('exception_message') or data.get('exception_type') or '?'}"
    )
    return Unavailable(f"{PROVIDER} node {node.name}: {said}", provider=PROVIDER, detail=said)


class JobWatch:
    """Follows one job on one node until it is done; reports progress as it changes.

    Args:
        node: The node's HTTP side.
        events: The job's websocket.
        prompt_id: The job.
        on_progress: Awaited with each new :class:`~providers.base.Progress`.
        on_lost: Awaited when the node no longer knows the job (it resubmits, or raises).
        poll_interval: Seconds between queue/history reads.
        max_wait: Seconds before giving up (the job keeps running; a later call can resume it).
        unreachable_grace: Seconds the node may stop answering before the job is given up on:
            a node back within them still has the job (a network blip), or has forgotten it
            (a restart) and gets it once more; either way no other node renders it twice.
    """

    def __init__(
        self,
        node: NodeClient,
        events: JobEvents,
        prompt_id: str,
        *,
        on_progress: ProgressCallback | None,
        on_lost: Callable[[], Awaitable[None]],
        poll_interval: float,
        max_wait: float,
        unreachable_grace: float = 30.0,
    ) -> None:
        self.node = node
        self.events = events
        self.prompt_id = prompt_id
        self._on_progress = on_progress
        self._on_lost = on_lost
        self.poll_interval = poll_interval
        self.max_wait = max_wait
        self.unreachable_grace = unreachable_grace
        self._last: Progress | None = None
        self._unreachable_since: float | None = None

    async def report(self, progress: Progress) -> None:
        """Tell ``on_progress`` about ``progress`` unless it is what it was last told."""
        if progress != self._last and self._on_progress is not None:
            self._last = progress
            await self._on_progress(progress)

    async def wait(self) -> dict[str, Any]:
        """Wait for the job; its history entry once it has succeeded.

        Raises:
            Unavailable: It failed or was interrupted, the node stopped answering, it was lost
                twice, or it did not finish within ``max_wait``.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        next_poll = loop.time()
        while True:
            now = loop.time()
            if now >= deadline:
                raise Unavailable(
                    f"{PROVIDER} job {self.prompt_id} on node {self.node.name} not finished after {self.max_wait:g}s",
                    provider=PROVIDER,
                    detail="job not finished in time",
                )
            if now >= next_poll:
                entry = await self.poll()
                if entry is not None:
                    return entry
                await self.events.reopen()  # the node may be back after a restart
                next_poll = loop.time() + self.poll_interval
                continue
            event = await self.events.next(min(next_poll, deadline) - now)
            if event is not None and await self.on_event(event["type"], event["data"]):
                next_poll = loop.time()

    async def poll(self) -> dict[str, Any] | None:
        """Read the queue and history: the entry when done; reports where the job is meanwhile.

        Raises:
            Unavailable: The node has not answered for ``unreachable_grace`` seconds, or the job
                ended badly.
        """
        now = asyncio.get_running_loop().time()
        try:
            where = await self.node.locate(self.prompt_id)
        except Unavailable:
            self._unreachable_since = self._unreachable_since or now
            if now - self._unreachable_since >= self.unreachable_grace:
                raise
            return None  # asked again at the next poll
        self._unreachable_since = None
        if where.state == "done":
            return self.finished(where.entry)
        if where.state == "pending":
            await self.report(Progress(self.node.name, "queued", queue_position=where.position))
        elif where.state == "running":
            if self._last is None or self._last.state != "running":
                await self.report(Progress(self.node.name, "running"))
        else:
            # Listen again before submitting again, so none of the new job's events is missed.
            await self.events.reopen()
            await self._on_lost()
            await self.report(Progress(self.node.name, "resubmitted"))
        return None

    async def on_event(self, kind: str, data: dict[str, Any]) -> bool:
        """Act on one websocket event; True when the queue and history should be read now."""
        mine = data.get("prompt_id") in (None, self.prompt_id)
        if kind == "status":
            # The queue moved: read the job's place now (while it is still waiting).
            return self._last is None or self._last.state != "running"
        if not mine:
            return False
        if kind == "progress" and isinstance(data.get("value"), int) and isinstance(data.get("max"), int):
            await self.report(Progress(self.node.name, "running", step=data["value"], steps=data["max"]))
        elif kind == "execution_start":
            await self.report(Progress(self.node.name, "running"))
        elif kind in ("execution_error", "execution_interrupted") and data.get("prompt_id") == self.prompt_id:
            raise execution_failure(self.node, kind, data)
        elif kind == "execution_success" or (kind == "executing" and data.get("node") is None):
            return data.get("prompt_id") == self.prompt_id
        return False

    def finished(self, entry: dict[str, Any]) -> dict[str, Any]:
        """``entry`` if the job succeeded; raise what ended it otherwise."""
        status = entry.get("status")
        if isinstance(status, dict) and status.get("status_str") == "error":
            for message in reversed(status.get("messages") or []):
                ended = isinstance(message, list) and len(message) == 2 and isinstance(message[1], dict)
                if ended and message[0] in ("execution_error", "execution_interrupted"):
                    raise execution_failure(self.node, message[0], message[1])
            raise Unavailable(
                f"{PROVIDER} node {self.node.name}: the job failed", provider=PROVIDER, detail="job failed"
            )
        return entry
