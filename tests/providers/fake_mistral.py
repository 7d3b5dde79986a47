"""Fake Mistral server: Conversations + image_generation, Files download, chat completions."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.providers.fake_base import BAD_IMAGE, FakeServer, Recorded, Reply, Step, make_png

_FILE = re.compile(r"^/v1/files/(?P<id>[^/]+)/content$")


class FakeMistral(FakeServer):
    """Speaks Mistral's REST API.

    Routes: ``"conversations"`` (``POST /v1/conversations``), ``"files"``
    (``GET /v1/files/{id}/content``), ``"chat"`` (``POST /v1/chat/completions``).
    Ops: ``"render"`` (conversations) and ``"review"`` (chat).

    Steps: ``ok``, ``<status>[:retry_after]``, ``slow:S``, ``badimage`` (the file is garbage),
    ``notool`` (the model answers with text only); review: ``badjson``.

    Attributes:
        tool_arguments: The ``arguments`` string of the ``tool.execution`` entry; ``None``
            means ``{"prompt": "<revised> " + inputs}`` as JSON.
        review_answer: JSON object the reviewer gets for ``ok``.
    """

    ops = ("render", "review")
    provider = "mistral"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tool_arguments: str | None = None
        self.review_answer: dict[str, Any] = {"score": 0.9, "passed": True, "notes": "Good match."}
        self.files: dict[str, bytes] = {}

    def route_name(self, method: str, path: str) -> str:
        if path == "/v1/conversations":
            return "conversations"
        if path == "/v1/chat/completions":
            return "chat"
        return "files" if _FILE.match(path) else "unknown"

    def error_reply(self, step: Step, recorded: Recorded) -> Reply | None:
        status = step.status
        if status is None:
            return None
        headers = {"Retry-After": step.arg} if status == 429 and step.arg else {}
        return Reply(status, {"object": "error", "message": f"fake {status}", "type": "fake_error",
                              "code": str(status)}, headers=headers)

    def route(self, method: str, path: str, recorded: Recorded) -> Reply:
        name = recorded.route
        if name == "files" and method == "GET":
            data = self.files.get(_FILE.match(path).group("id"))  # type: ignore[union-attr]
            return Reply(200, data, "image/png") if data is not None else Reply(404, {"message": "no file"})
        if name not in ("conversations", "chat") or method != "POST":
            return Reply(404, {"message": "not found"})
        op = "render" if name == "conversations" else "review"
        step = recorded.step = self.next_step(op)
        error = self.error_reply(step, recorded)
        if error:
            return error
        self.maybe_slow(step)
        body = recorded.json or {}
        return self._conversation(body, step) if op == "render" else self._chat(body, step)

    def _conversation(self, body: dict[str, Any], step: Step) -> Reply:
        inputs = body.get("inputs")
        outputs: list[dict[str, Any]] = []
        content: list[dict[str, Any]] = [{"type": "text", "text": "Here is your image."}]
        if step.name == "notool":
            content = [{"type": "text", "text": "I cannot draw that, but here is a poem."}]
        else:
            file_id = self.new_id("file_")
            self.files[file_id] = BAD_IMAGE if step.name == "badimage" else make_png(*self.image_size)
            arguments = self.tool_arguments
            if arguments is None:
                arguments = json.dumps({"prompt": f"<revised> {inputs}"})
            outputs.append({"object": "entry", "type": "tool.execution", "name": "image_generation",
                            "arguments": arguments, "id": self.new_id("tool_exec_")})
            content.append({"type": "tool_file", "tool": "image_generation", "file_id": file_id,
                            "file_name": "image_generated_0", "file_type": "png"})
        outputs.append({"object": "entry", "type": "message.output", "role": "assistant",
                        "model": body.get("model"), "content": content, "id": self.new_id("msg_")})
        return Reply(200, {"object": "conversation.response", "conversation_id": self.new_id("conv_"),
                           "outputs": outputs,
                           "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30,
                                     "connectors": {"image_generation": 0 if step.name == "notool" else 1}}})

    def _chat(self, body: dict[str, Any], step: Step) -> Reply:
        text = "score: high, I think?" if step.name == "badjson" else json.dumps(self.review_answer)
        return Reply(200, {"id": self.new_id("chat_"), "object": "chat.completion",
                           "model": body.get("model"),
                           "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": text}}]})
