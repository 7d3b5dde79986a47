"""Server side of the fake ComfyUI's websocket (see :mod:`tests.providers.fake_comfyui`).

The stdlib HTTP handler has already read the upgrade request; the ``websockets`` library's
sans-I/O protocol does the handshake and the framing, this module only moves bytes.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

PREVIEW_IMAGE = 1
"""Binary event type of a sampler preview (big-endian uint32 first in the frame)."""
JPEG, PNG = 1, 2
"""Preview formats (the second big-endian uint32 of a type-1 frame)."""


def preview_frame(data: bytes, fmt: int = JPEG) -> bytes:
    """A binary preview frame as ComfyUI sends it: ``>I`` event type 1, ``>I`` format, the bytes."""
    return struct.pack(">II", PREVIEW_IMAGE, fmt) + data


class WsConnection:
    """One accepted websocket: thread-safe sends, a read loop that answers pings and closes."""

    def __init__(self, sock: socket.socket, protocol: ServerProtocol, client_id: str) -> None:
        self.client_id = client_id
        self._sock = sock
        self._protocol = protocol
        self._lock = threading.Lock()
        self._dropped = threading.Event()

    @classmethod
    def accept(cls, handler: BaseHTTPRequestHandler, client_id: str, *, allowed: bool) -> WsConnection | None:
        """Finish the handshake of the upgrade request ``handler`` has parsed; None if refused."""
        protocol = ServerProtocol()
        head = f"{handler.requestline}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in handler.headers.items())
        protocol.receive_data((head + "\r\n").encode("latin-1"))
        events = protocol.events_received()
        if not events:
            return None
        request = events[0]
        # A refused handshake (wrong token) is answered with a plain 401, as a proxy in front would.
        response = protocol.accept(request) if allowed else protocol.reject(401, "invalid credentials\n")  # type: ignore[arg-type]  # events_received() is typed as any event; the first one is the request
        protocol.send_response(response)
        conn = cls(handler.connection, protocol, client_id)
        conn._flush()
        return conn if protocol.state is State.OPEN else None

    def send_json(self, payload: dict[str, Any]) -> bool:
        """Send one text frame; False when the connection is gone."""
        return self._send(lambda: self._protocol.send_text(json.dumps(payload).encode()))

    def send_binary(self, data: bytes) -> bool:
        """Send one binary frame; False when the connection is gone."""
        return self._send(lambda: self._protocol.send_binary(data))

    def drop(self) -> None:
        """Cut the connection without a close frame (a server that died or went off the network)."""
        self._dropped.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the peer

    def serve(self, stopping: threading.Event) -> None:
        """Read until the client closes, the server stops, or :meth:`drop`."""
        self._sock.settimeout(0.05)
        while not self._dropped.is_set():
            if stopping.is_set():
                with self._lock:
                    if self._protocol.state is State.OPEN:
                        self._protocol.send_close(1001, "server stopping")
                    self._flush()
                return
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                if data:
                    self._protocol.receive_data(data)
                else:
                    self._protocol.receive_eof()
                closing = any(
                    isinstance(e, Frame) and e.opcode is Opcode.CLOSE for e in self._protocol.events_received()
                )
                self._flush()
            if not data or closing or self._protocol.state is State.CLOSED:
                return

    def _send(self, action: Any) -> bool:
        with self._lock:
            if self._dropped.is_set() or self._protocol.state is not State.OPEN:
                return False
            action()
            return self._flush()

    def _flush(self) -> bool:
        """Write what the protocol has queued (caller holds the lock, or owns the connection)."""
        try:
            for chunk in self._protocol.data_to_send():
                if chunk:
                    self._sock.sendall(chunk)
                else:  # sans-I/O's "end of data": after the close handshake the server closes TCP first
                    self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._dropped.set()
            return False
        return True
