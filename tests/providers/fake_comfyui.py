"""Fake ComfyUI: HTTP and websocket on one port, a real queue, history and node catalog.

See :mod:`tests.providers.fakes` for the shared conventions and ``SELF_HOSTED.md`` for the wire
format. The executor lives in :mod:`tests.providers.fake_comfyui_exec`, the node catalog and
validation in :mod:`tests.providers.fake_comfyui_nodes`, the websocket framing in
:mod:`tests.providers.fake_comfyui_ws`.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from tests.providers.fake_base import Recorded, Reply, Step, _Handler, _Server
from tests.providers.fake_comfyui_exec import ComfyExecutor, Job
from tests.providers.fake_comfyui_nodes import node_catalog, validate_prompt
from tests.providers.fake_comfyui_ws import WsConnection

VERSION = "0.3.64"
"""The ComfyUI version ``/system_stats`` reports."""

_ROUTES = {
    ("POST", "/prompt"): "prompt",
    ("GET", "/prompt"): "prompt_info",
    ("GET", "/queue"): "queue",
    ("POST", "/queue"): "queue_edit",
    ("POST", "/interrupt"): "interrupt",
    ("GET", "/view"): "view",
    ("POST", "/upload/image"): "upload",
    ("GET", "/system_stats"): "system_stats",
    ("GET", "/ws"): "ws",
}


class _ComfyHandler(_Handler):
    """Serves a websocket upgrade on ``/ws``; every other request goes through the fake's routes."""

    def do_GET(self) -> None:
        upgrade = self.headers.get("Upgrade", "").lower() == "websocket"
        if urlsplit(self.path).path == "/ws" and upgrade:
            self.close_connection = True
            self.server.fake._serve_ws(self)  # type: ignore[attr-defined]  # the server carries its FakeComfyUI (fake_base._Server.fake)
            return
        self._serve()


class FakeComfyUI(ComfyExecutor):
    """Speaks ComfyUI's HTTP API and websocket on one free port.

    Routes (for ``count``/``received``): ``prompt`` (``POST /prompt``), ``prompt_info``, ``queue``,
    ``queue_edit`` (``POST /queue``), ``interrupt``, ``history`` (``GET|POST /history[/{id}]``),
    ``view``, ``upload``, ``object_info``, ``system_stats``, ``ws``.

    ``POST /prompt`` validates like ComfyUI (400 with ``error`` and ``node_errors``): no ``prompt``
    key → ``no_prompt``; a node without ``class_type`` (a UI-format graph's ``nodes``/``links``)
    or of an unknown class → ``missing_node_type``; no output node → ``prompt_no_outputs``; bad
    inputs (a string for a number, a value outside a range or list, a link to a missing node or
    of the wrong type, an unknown ``LoadImage`` file) → ``prompt_outputs_failed_validation`` with
    ``node_errors``. A client-chosen ``prompt_id`` is honoured and never de-duplicated.

    Steps (consumed by each *accepted* prompt, op ``render``): ``ok``; ``error:NodeType:message``
    (``execution_error`` at the first node of that type); ``slow:S`` (S seconds per image);
    ``hold`` (stops after the first sampler step until :meth:`release`, an interrupt or a
    restart); a bare status (``500``…) answers the submit with that status and queues nothing.

    Scripting beyond steps: :meth:`fail_next`, :meth:`restart` (forgets queue, history and the
    job in flight, drops websockets), :meth:`down` (``"refuse"``: the port is closed;
    ``"hang"``: connections are accepted and never answered) and :meth:`up`, :meth:`pause` /
    :meth:`resume` (jobs stay pending), ``seconds_per_image``, ``previews``.

    Attributes:
        events: Every websocket event sent, as ``(client_id or None for broadcast, type, data)``.
        restarts: How many times :meth:`restart` was called.
    """

    ops = ("render",)
    provider = "comfyui"

    def __init__(self, *, seconds_per_image: float = 0.02, previews: bool = True, key: str | None = None) -> None:
        super().__init__(key=key)
        self.seconds_per_image = seconds_per_image
        self.previews = previews
        self.restarts = 0
        self._submissions: Counter[str] = Counter()
        self._clients: dict[str, WsConnection] = {}
        self._port = 0
        self._mode = "up"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeComfyUI:
        """Bind a free port on 127.0.0.1, serve HTTP + websocket, start the executor."""
        self._stopping.clear()
        self._listen(0)
        self._start_executor()
        return self

    def stop(self) -> None:
        """Stop serving and executing; join every thread this fake started."""
        self._stopping.set()
        with self._cv:
            self._cv.notify_all()
        self._unlisten()
        self._join_executor()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; the port stays the same across :meth:`down`/:meth:`up`."""
        assert self._port, "fake not started"
        return f"http://127.0.0.1:{self._port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:<port>/ws`` (add ``?clientId=...``)."""
        return self.base_url.replace("http://", "ws://") + "/ws"

    def _listen(self, port: int) -> None:
        server = _Server(("127.0.0.1", port), _ComfyHandler)
        server.fake = self
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeComfyUI-server", daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread
        self._port = server.server_address[1]

    def _unlisten(self) -> None:
        self._drop_clients()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()  # joins handler threads (websockets included)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    # -- scripting -----------------------------------------------------------------------------
    def fail_next(self, node_type: str = "KSampler", message: str = "CUDA out of memory") -> None:
        """The next accepted prompt ends in ``execution_error`` at its first ``node_type`` node."""
        self.script([Step("error", f"{node_type}:{message}")])

    def restart(self) -> None:
        """Like a real restart: queue, history, cache and the job in flight are gone; websockets drop."""
        self._forget()
        self._drop_clients()
        self.restarts += 1

    def down(self, mode: str = "refuse") -> None:
        """``"refuse"``: close the port (connection refused); ``"hang"``: accept, never answer.

        The executor keeps going (a network cut); call :meth:`restart` too for a power cut.
        """
        if mode not in ("refuse", "hang"):
            raise ValueError(f"unknown mode {mode!r}")
        with self._cv:
            self._mode = mode
        if mode == "refuse":
            self._unlisten()
        else:
            self._drop_clients()

    def up(self) -> None:
        """Answer again, on the same port."""
        if self._mode == "refuse":
            self._listen(self._port)
        with self._cv:
            self._mode = "up"
            self._cv.notify_all()

    def submissions(self, prompt_id: str | None = None) -> int:
        """Accepted ``POST /prompt`` for ``prompt_id`` (all when None); restarts do not reset it."""
        with self._lock:
            return sum(self._submissions.values()) if prompt_id is None else self._submissions[prompt_id]

    # -- websocket -----------------------------------------------------------------------------
    def _serve_ws(self, handler: _ComfyHandler) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append(Recorded("GET", handler.path, "ws", headers, b""))
        if not self._wait_answering():
            return
        query = parse_qs(urlsplit(handler.path).query)
        client_id = query.get("clientId", [uuid.uuid4().hex])[0]
        conn = WsConnection.accept(handler, client_id, allowed=self.auth_ok(headers))
        if conn is None:
            return
        with self._cv:
            old, self._clients[client_id] = self._clients.get(client_id), conn
            remaining = self._queue_remaining()
        if old is not None:
            old.drop()
        conn.send_json(
            {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": remaining}}, "sid": client_id}}
        )
        conn.serve(self._stopping)
        with self._cv:
            if self._clients.get(client_id) is conn:
                del self._clients[client_id]

    def _drop_clients(self) -> None:
        with self._cv:
            clients, self._clients = list(self._clients.values()), {}
        for conn in clients:
            conn.drop()

    def _send(self, client_id: str | None, kind: str, data: dict[str, Any], binary: bytes | None = None) -> None:
        """Send an event to ``client_id`` only, or to everyone when None (a hung server sends nothing)."""
        with self._cv:
            if self._mode != "up":
                return
            targets = list(self._clients.values()) if client_id is None else [self._clients.get(client_id)]
            if binary is None:
                self.events.append((client_id, kind, data))
        for conn in targets:
            if conn is not None:
                _ = conn.send_binary(binary) if binary is not None else conn.send_json({"type": kind, "data": data})

    # -- HTTP ----------------------------------------------------------------------------------
    def route_name(self, method: str, path: str) -> str:
        if path == "/history" or path.startswith("/history/"):
            return "history"
        if path == "/object_info" or path.startswith("/object_info/"):
            return "object_info"
        return _ROUTES.get((method, path), "unknown")

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        if not self._wait_answering():
            return Reply(503, {"detail": "fake stopping"})
        return super()._dispatch(method, raw_path, headers, body)

    def _wait_answering(self) -> bool:
        """Block while the fake "hangs"; False when it stops meanwhile."""
        with self._cv:
            self._cv.wait_for(lambda: self._mode != "hang" or self._stopping.is_set())
        return not self._stopping.is_set()

    def route(self, method: str, path: str, recorded: Recorded) -> Reply:
        name = recorded.route
        query = {k: v[0] for k, v in parse_qs(urlsplit(recorded.path).query).items()}
        body = recorded.json if method == "POST" and name != "upload" else None
        if name == "prompt":
            return self._submit(recorded)
        if name == "history":
            return self._history_route(method, path, body, query)
        simple: dict[str, Callable[[], Reply]] = {
            "prompt_info": lambda: Reply(200, {"exec_info": {"queue_remaining": self._queue_remaining()}}),
            "queue": lambda: Reply(200, self.queue_snapshot()),
            "queue_edit": lambda: self._edit_queue(body),
            "interrupt": lambda: self._interrupt_route(body),
            "view": lambda: self._view(query),
            "upload": lambda: self._upload(recorded),
            "system_stats": self._system_stats,
            "object_info": lambda: self._object_info(path),
        }
        if name in simple:
            return simple[name]()
        return Reply(404, "404: Not Found")

    def _submit(self, recorded: Recorded) -> Reply:
        body = recorded.json
        if not isinstance(body, dict) or "prompt" not in body:
            no_prompt: dict[str, Any] = {
                "type": "no_prompt",
                "message": "No prompt provided",
                "details": "No prompt provided",
                "extra_info": {},
            }
            return Reply(400, {"error": no_prompt, "node_errors": {}})
        error, node_errors, outputs = validate_prompt(body["prompt"], self.input_files())
        if error is not None:
            return Reply(400, {"error": error, "node_errors": node_errors})
        step = self.next_step("render")
        recorded.step = step
        if step.status is not None:
            reply = self.error_reply(step, recorded)
            assert reply is not None
            return reply
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())
        extra = dict(body.get("extra_data") or {})
        if "client_id" in body:
            extra["client_id"] = body["client_id"]
        job = self._enqueue(
            prompt_id, body["prompt"], extra, outputs, step, body.get("number"), bool(body.get("front"))
        )
        with self._lock:
            self._submissions[prompt_id] += 1
        self._broadcast_status()
        return Reply(200, {"prompt_id": prompt_id, "number": job.number, "node_errors": {}})

    def _edit_queue(self, body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        if body.get("clear"):
            self._clear_pending()
        for prompt_id in body.get("delete") or []:
            self._delete_pending(str(prompt_id))
        self._broadcast_status()
        return Reply(200, b"")

    def _interrupt_route(self, body: Any) -> Reply:
        prompt_id = body.get("prompt_id") if isinstance(body, dict) else None
        self.interrupt(prompt_id)
        return Reply(200, b"")

    def _history_route(self, method: str, path: str, body: Any, query: dict[str, str]) -> Reply:
        if method == "POST":
            body = body if isinstance(body, dict) else {}
            self._edit_history(bool(body.get("clear")), [str(p) for p in body.get("delete") or []])
            return Reply(200, b"")
        prompt_id = path[len("/history/") :] if path.startswith("/history/") else None
        max_items = int(query["max_items"]) if "max_items" in query else None
        return Reply(200, self.history(prompt_id, max_items))

    def _view(self, query: dict[str, str]) -> Reply:
        key = (query.get("type", "output"), query.get("subfolder", ""), query.get("filename", ""))
        with self._cv:
            data = self._files.get(key)
        if data is None:
            return Reply(404, "404: Not Found")
        ctype = "image/png"
        if "preview" in query:  # "webp;90" / "jpeg;80": a re-encoded preview
            fmt, _, quality = query["preview"].partition(";")
            fmt = "webp" if fmt == "webp" else "jpeg"
            out = io.BytesIO()
            with Image.open(io.BytesIO(data)) as im:
                im.convert("RGB").save(out, format=fmt.upper(), quality=int(quality or 90))
            data, ctype = out.getvalue(), f"image/{fmt}"
        return Reply(200, data, content_type=ctype, headers={"Content-Disposition": f'filename="{key[2]}"'})

    def _upload(self, recorded: Recorded) -> Reply:
        ctype = recorded.headers.get("content-type", "")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + recorded.body
        )
        fields: dict[str, str] = {}
        image: tuple[str, bytes] | None = None
        for part in msg.iter_parts() if msg.is_multipart() else []:
            name = part.get_param("name", header="content-disposition")
            raw = part.get_payload(decode=True)
            payload = raw if isinstance(raw, bytes) else b""
            if name == "image":
                image = (part.get_filename() or "image.png", payload)
            elif isinstance(name, str):
                fields[name] = payload.decode()
        if image is None:
            return Reply(400, b"")
        kind, subfolder = fields.get("type") or "input", fields.get("subfolder", "")
        overwrite = fields.get("overwrite", "").lower() in ("true", "1")
        name = self._store_upload(kind, subfolder, image[0], image[1], overwrite=overwrite)
        return Reply(200, {"name": name, "subfolder": subfolder, "type": kind})

    def _object_info(self, path: str) -> Reply:
        catalog = node_catalog(self.input_files())
        if path.startswith("/object_info/"):
            name = path[len("/object_info/") :]
            return Reply(200, {name: catalog[name]} if name in catalog else {})
        return Reply(200, catalog)

    def _system_stats(self) -> Reply:
        return Reply(
            200,
            {
                "system": {
                    "os": "posix",
                    "ram_total": 16 * 2**30,
                    "ram_free": 8 * 2**30,
                    "comfyui_version": VERSION,
                    "python_version": "3.12.3",
                    "pytorch_version": "2.8.0+cpu",
                    "embedded_python": False,
                    "argv": ["main.py", "--cpu"],
                },
                "devices": [
                    {
                        "name": "cpu",
                        "type": "cpu",
                        "index": None,
                        "vram_total": 16 * 2**30,
                        "vram_free": 8 * 2**30,
                        "torch_vram_total": 16 * 2**30,
                        "torch_vram_free": 8 * 2**30,
                    }
                ],
            },
        )


__all__ = ["VERSION", "FakeComfyUI", "Job"]
