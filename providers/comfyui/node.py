"""One ComfyUI node's HTTP API: submit, find a job in the queue or history, fetch, upload, cancel.

Every failure becomes a :class:`~providers.base.ProviderError` naming the node: connection refused,
timeouts and 5xx are :class:`~providers.base.Unavailable` (the studio fails over), a workflow the node
refuses (``node_errors``) is :class:`~providers.base.InvalidRequest`. The optional token travels
only in the ``Authorization`` header and is blanked out of every message kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from providers._http.errors import error_for_status, json_body, redact, response_detail
from providers.base import BadImage, InvalidRequest, ProviderError, Unavailable

PROVIDER = "comfyui"


def public_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, fit for messages, params and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


def auth_headers(token: str) -> dict[str, str]:
    """The header a node behind a proxy (``COMFYUI_TOKEN``) needs, or none."""
    return {"Authorization": f"Bearer {token}"} if token else {}


@dataclass(frozen=True)
class Whereabouts:
    """Where a node has a job: ``pending`` (``position`` jobs ahead), ``running``, ``done`` (its
    history ``entry``) or ``unknown`` (never submitted, or lost in a restart)."""

    state: Literal["pending", "running", "done", "unknown"]
    position: int | None = None
    entry: dict[str, Any] = field(default_factory=dict)


class NodeClient:
    """The HTTP side of one node.

    Args:
        url: The node's API root (``http://gpu-box:8188``).
        http: The client to send with (the renderer makes one per call).
        token: Bearer token for every request; empty for none.
        timeout: Seconds per request.
    """

    def __init__(self, url: str, *, http: httpx.AsyncClient, token: str = "", timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.name = public_url(self.url)
        self._http = http
        self._token = token
        self.timeout = timeout

    def __repr__(self) -> str:  # keep the token out of reprs and tracebacks
        return f"NodeClient({self.name!r})"

    def redact(self, text: str) -> str:
        """``text`` with the token (and anything shaped like a credential) blanked out."""
        return redact(text, (self._token,))

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request; transport failures (refused, reset, timeout) raise Unavailable."""
        try:
            return await self._http.request(
                method, self.url + path, headers=auth_headers(self._token), timeout=self.timeout, **kwargs
            )
        except httpx.HTTPError as exc:
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "unreachable"
            raise Unavailable(
                f"{PROVIDER} node {self.name} {kind} ({type(exc).__name__})",
                provider=PROVIDER,
                detail=f"node {self.name} {kind}",
            ) from None

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request; transport failures and non-2xx answers raise a ProviderError."""
        response = await self._request(method, path, **kwargs)
        if not response.is_success:
            raise self._status_error(response)
        return response

    def _status_error(self, response: httpx.Response) -> ProviderError:
        """The error for a non-2xx answer (5xx: Unavailable, 401/403: AuthFailed, …), naming the node."""
        detail = response_detail(response, (self._token,))
        return error_for_status(
            response.status_code, provider=PROVIDER, detail=f"node {self.name}" + (f": {detail}" if detail else "")
        )

    async def get_json(self, path: str, **kwargs: Any) -> Any:
        """``GET path`` decoded (a garbled answer is :class:`Unavailable`)."""
        return json_body(await self.send("GET", path, **kwargs), PROVIDER)

    async def submit(self, graph: dict[str, Any], prompt_id: str) -> None:
        """``POST /prompt`` with the job's own id (its websocket client id is the same id).

        Raises:
            InvalidRequest: The node refused the workflow: the message names the node, and each
                node error's node id, class and input.
        """
        body = {"prompt": graph, "client_id": prompt_id, "prompt_id": prompt_id}
        response = await self._request("POST", "/prompt", json=body)
        if response.status_code == 400:
            try:
                said = describe_refusal(response.json())
            except (ValueError, UnicodeDecodeError):
                said = response_detail(response, (self._token,)) or "refused the workflow"
            message = self.redact(f"{PROVIDER} node {self.name} refused the workflow: {said}")
            raise InvalidRequest(message, provider=PROVIDER, status_code=400, detail=message)
        if not response.is_success:
            raise self._status_error(response)

    async def locate(self, prompt_id: str) -> Whereabouts:
        """Where the node has ``prompt_id``: the queue first, then the history.

        ComfyUI writes a job's history before taking it off the queue, so a job missing from both
        (asked in this order) was never there or was lost in a restart.
        """
        queue = await self.get_json("/queue")
        running = queue.get("queue_running") if isinstance(queue, dict) else None
        pending = queue.get("queue_pending") if isinstance(queue, dict) else None
        if any(_item_id(item) == prompt_id for item in running or []):
            return Whereabouts("running")
        numbers = sorted(item[0] for item in pending or [] if _item_id(item) is not None)
        mine = [item[0] for item in pending or [] if _item_id(item) == prompt_id]
        if mine:
            return Whereabouts("pending", position=numbers.index(min(mine)))
        history = await self.get_json(f"/history/{prompt_id}")
        entry = history.get(prompt_id) if isinstance(history, dict) else None
        if isinstance(entry, dict):
            return Whereabouts("done", entry=entry)
        return Whereabouts("unknown")

    async def image(self, entry: dict[str, Any]) -> bytes:
        """The bytes of the first output image a finished job's history entry names."""
        for image in _output_images(entry):
            params = {"filename": image["filename"], "subfolder": image.get("subfolder", ""), "type": "output"}
            return (await self.send("GET", "/view", params=params)).content
        raise BadImage(
            f"{PROVIDER} node {self.name} finished the job without an output image",
            provider=PROVIDER,
            detail="no output image in history",
        )

    async def upload(self, data: bytes, name: str, mime: str) -> str:
        """``POST /upload/image`` into the node's input folder; the name a ``LoadImage`` gives."""
        files = {"image": (name, data, mime)}
        reply = json_body(
            await self.send("POST", "/upload/image", files=files, data={"type": "input", "overwrite": "true"}),
            PROVIDER,
        )
        stored = reply.get("name") if isinstance(reply, dict) else None
        if not isinstance(stored, str) or not stored:
            raise Unavailable(f"{PROVIDER} node {self.name} did not take the upload", provider=PROVIDER)
        subfolder = reply.get("subfolder") or ""
        return f"{subfolder}/{stored}" if subfolder else stored

    async def cancel(self, prompt_id: str) -> None:
        """Remove a job: delete it from the pending queue, then interrupt it if it is running.

        Deleting first closes the race of a job that starts between a look at the queue and the
        delete: by the time the queue is read again it is either gone or running.
        """
        await self.send("POST", "/queue", json={"delete": [prompt_id]})
        where = await self.locate(prompt_id)
        if where.state == "running":
            await self.send("POST", "/interrupt", json={"prompt_id": prompt_id})


def describe_refusal(body: Any) -> str:
    """One line from a 400 body of ``POST /prompt``: each node error's node, class, input and message."""
    parts: list[str] = []
    node_errors = body.get("node_errors") if isinstance(body, dict) else None
    for node_id, entry in node_errors.items() if isinstance(node_errors, dict) else ():
        if not isinstance(entry, dict):
            continue
        where = f"node {node_id} ({entry.get('class_type', '?')})"
        for error in entry.get("errors") or []:
            if not isinstance(error, dict):
                continue
            extra = error.get("extra_info")
            said = error.get("details") or error.get("message") or error.get("type") or "invalid"
            input_name = extra.get("input_name") if isinstance(extra, dict) else None
            parts.append(f"{where} input {input_name!r}: {said}" if input_name else f"{where}: {said}")
    summary = body.get("error") if isinstance(body, dict) else None
    if not parts and isinstance(summary, dict):
        said = str(summary.get("message") or summary.get("type") or "")
        details = summary.get("details")
        parts.append(f"{said}: {details}" if details and details != said else said)
    return "; ".join(p for p in parts if p) or "refused the workflow"


def _output_images(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The saved (``type: output``) images of a history entry, in its outputs' order."""
    found: list[dict[str, Any]] = []
    outputs = entry.get("outputs")
    for output in outputs.values() if isinstance(outputs, dict) else ():
        images = output.get("images") if isinstance(output, dict) else None
        for image in images if isinstance(images, list) else ():
            if isinstance(image, dict) and image.get("type", "output") == "output" and image.get("filename"):
                found.append(image)
    return found


def _item_id(item: Any) -> str | None:
    """The prompt id of a queue item ``[number, prompt_id, prompt, extra_data, outputs]``."""
    return str(item[1]) if isinstance(item, list) and len(item) > 1 else None
