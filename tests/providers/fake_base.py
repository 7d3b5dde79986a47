"""Base for the fake vendor servers: threaded stdlib HTTP server, behaviour queues, recording.

See :mod:`tests.providers.fakes` for the user-facing documentation.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageDraw

BAD_IMAGE = b"\x89PNG\r\n\x1a\n" + b"this is not really a png" * 4
"""Bytes that start like a PNG but do not decode."""


def make_png(width: int = 64, height: int = 48, *, seed: int = 0) -> bytes:
    """A small real PNG with some structure (not flat, so blank-image heuristics pass)."""
    im = Image.new("RGB", (width, height), (20 + seed % 200, 60, 120))
    draw = ImageDraw.Draw(im)
    draw.rectangle([width // 8, height // 8, width // 2, height // 2], fill=(230, 200, 40))
    draw.ellipse([width // 2, height // 3, width - 2, height - 2], fill=(200, 40, 90))
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    """Decoded (width, height) of ``data``."""
    with Image.open(io.BytesIO(data)) as im:
        return im.size


@dataclass(frozen=True)
class Step:
    """One scripted behaviour: ``name`` plus optional ``arg`` (from ``"name:arg"``)."""

    name: str
    arg: str | None = None

    @classmethod
    def parse(cls, spec: str | Step) -> Step:
        if isinstance(spec, Step):
            return spec
        name, _, arg = spec.partition(":")
        return cls(name.strip(), arg.strip() or None)

    @property
    def status(self) -> int | None:
        """HTTP status for steps that are a bare status code ("429", "500:..."), else None."""
        return int(self.name) if self.name.isdigit() and len(self.name) == 3 else None


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    route: str
    headers: dict[str, str]
    body: bytes
    step: Step | None = None

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


@dataclass
class Reply:
    """What the fake answers."""

    status: int = 200
    body: Any = None  # dict/list → JSON; bytes → raw
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    timeout = 5  # bounds a connection that never sends a request
    server: _Server

    def _serve(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = fake._dispatch(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        if isinstance(reply.body, (dict, list)):
            payload, ctype = json.dumps(reply.body).encode(), "application/json"
        elif isinstance(reply.body, str):
            payload, ctype = reply.body.encode(), "text/plain"
        else:
            payload, ctype = reply.body or b"", "application/octet-stream"
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type or ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client gave up (timeout tests): nothing to do

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() joins handler threads: a clean stop
    block_on_close = True
    fake: FakeServer


class FakeServer:
    """Base class: subclasses set ``ops`` and implement :meth:`route`.

    Attributes:
        requests: Every request received, in order.
        image_size: (width, height) of rendered images unless the request fixes the size.
        key: When set, requests whose auth does not carry it get a 401 (echoing what was sent,
            so tests can check that adapters redact it).
    """

    ops: tuple[str, ...] = ("render",)
    provider = "fake"

    def __init__(self, *, image_size: tuple[int, int] = (64, 48), key: str | None = None) -> None:
        self.image_size = image_size
        self.key = key
        self.requests: list[Recorded] = []
        self.crashes: list[str] = []
        self._queues: dict[str, deque[Step]] = {op: deque() for op in self.ops}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ids = 0
        self._down_until = 0.0
        self._down_step = Step("500")

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeServer:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake slow handlers, stop serving, join every thread."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        assert self._server is not None, "fake not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- scripting and inspection ------------------------------------------------------------
    def script(self, steps: Iterable[str | Step], op: str | None = None) -> None:
        """Queue behaviours for the next requests of ``op`` (default: the first of ``ops``)."""
        op = op or self.ops[0]
        if op not in self._queues:
            raise ValueError(f"unknown op {op!r}; this fake has {self.ops}")
        with self._lock:
            self._queues[op].extend(Step.parse(s) for s in steps)

    def pending(self, op: str | None = None) -> int:
        """Steps not consumed yet."""
        with self._lock:
            return len(self._queues[op or self.ops[0]])

    def count(self, route: str | None = None) -> int:
        """Requests received on ``route`` (all routes when ``None``)."""
        with self._lock:
            return sum(1 for r in self.requests if route is None or r.route == route)

    def received(self, route: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if route is None or r.route == route]

    def last(self, route: str | None = None) -> Recorded:
        found = self.received(route)
        assert found, f"no request on route {route!r}"
        return found[-1]

    def down_for(self, seconds: float, status: int = 500, retry_after: str | None = None) -> None:
        """Answer every request with ``status`` (429: with ``Retry-After``) for the next ``seconds``:
        a vendor-wide outage, whatever the scripted steps say."""
        with self._lock:
            self._down_until = time.monotonic() + seconds
            self._down_step = Step(str(status), retry_after)

    def reset(self) -> None:
        """Forget recorded requests and queued steps."""
        with self._lock:
            self.requests.clear()
            for q in self._queues.values():
                q.clear()

    # -- helpers for subclasses --------------------------------------------------------------
    def next_step(self, op: str) -> Step:
        with self._lock:
            queue = self._queues[op]
            return queue.popleft() if queue else Step("ok")

    def new_id(self, prefix: str) -> str:
        with self._lock:
            self._ids += 1
            return f"{prefix}{self._ids:04d}"

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the server stops."""
        self._stopping.wait(seconds)

    def maybe_slow(self, step: Step) -> None:
        if step.name == "slow":
            self.sleep(float(step.arg or 1.0))

    def error_reply(self, step: Step, recorded: Recorded) -> Reply | None:
        """Reply for a bare-status step; subclasses may override the body shape."""
        status = step.status
        if status is None:
            return None
        headers = {"Retry-After": step.arg} if status == 429 and step.arg else {}
        return Reply(status, {"detail": f"fake {status}"}, headers=headers)

    def auth_ok(self, headers: dict[str, str]) -> bool:
        """Whether the request carries :attr:`key` (always true when no key is required)."""
        return self.key is None or self.key in self.auth_value(headers)

    def auth_value(self, headers: dict[str, str]) -> str:
        return headers.get("authorization", "")

    def route(self, method: str, path: str, recorded: Recorded) -> Reply:  # pragma: no cover
        raise NotImplementedError

    def route_name(self, method: str, path: str) -> str:  # pragma: no cover
        raise NotImplementedError

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        path = urlsplit(raw_path).path
        recorded = Recorded(method, raw_path, self.route_name(method, path), headers, body)
        with self._lock:
            self.requests.append(recorded)
        if not self.auth_ok(headers):
            return Reply(
                401,
                {
                    "message": f"invalid credentials: {self.auth_value(headers)}",
                    "detail": f"invalid key {self.auth_value(headers)}",
                },
            )
        with self._lock:
            down = time.monotonic() < self._down_until
        if down:
            reply = self.error_reply(self._down_step, recorded)
            assert reply is not None
            return reply
        try:
            return self.route(method, path, recorded)
        except Exception as exc:  # a bug in the fake: visible in .crashes and as a 599
            self.crashes.append(f"{type(exc).__name__}: {exc}")
            return Reply(599, {"detail": f"fake crashed: {type(exc).__name__}: {exc}"})
