"""Fake Mistral server: Conversations + image_generation, Files download, chat completions."""

from __future__ import annotations

import json
import re
from collections import deque
from typing import Any

from tests.providers.fake_base import (
    BAD_IMAGE,
    FakeServer,
    Recorded,
    Reply,
    Step,
    make_png,
)

_FILE = re.compile(r"^/v1/files/(?P<id>[^/]+)/content$")


class FakeMistral(FakeServer):
    """Speaks Mistral's REST API.

    Routes: ``"conversations"`` (``POST /v1/conversations``), ``"files"``
    (``GET /v1/files/{id}/content``; answers 406 unless ``Accept`` asks for
    ``application/octet-stream``, as the official SDK does), ``"chat"``
    (``POST /v1/chat/completions``).
    Ops: ``"render"`` (conversations), ``"review"`` (chat carrying an image) and ``"chat"``
    (text-only chat, e.g. storyboard drafting; only requests without an ``image_url`` chunk
    land here, so review traffic is unchanged).

    Steps: ``ok``, ``<status>[:retry_after]``, ``slow:S``, ``badimage`` (the file is garbage),
    ``notool`` (the model answers with text only); review and chat: ``badjson``; chat:
    ``truncated`` (the next answer, cut in half, with ``finish_reason: "length"``).

    Attributes:
        tool_arguments: The ``arguments`` string of the ``tool.execution`` entry; ``None``
            means ``{"prompt": "<revised> " + inputs}`` as JSON.
        review_answer: JSON object the reviewer gets for ``ok``.
        chat_answers: Texts the next ``ok`` text-only chats answer, first in first out.
        chat_answer: Text a text-only chat answers when ``chat_answers`` is empty.
    """

    ops = ("render", "review", "chat")
    provider = "mistral"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tool_arguments: str | None = None
        self.review_answer: dict[str, Any] = {"score": 0.9, "passed": True, "notes": "Good match."}
        self.files: dict[str, bytes] = {}
        self.chat_answers: deque[str] = deque()
        self.chat_answer = '{"answer": "ok"}'

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
        return Reply(
            status,
            {"object": "error", "message": f"fake {status}", "type": "fake_error", "code": str(status)},
            headers=headers,
        )

    def route(self, method: str, path: str, recorded: Recorded) -> Reply:
        name = recorded.route
        if name == "files" and method == "GET":
            accept = recorded.headers.get("accept", "")
            if "application/octet-stream" not in accept:
                # The endpoint serves raw bytes and the official SDK asks for exactly that;
                # an adapter asking for JSON is wrong even where the real server is lenient.
                return Reply(
                    406,
                    {
                        "object": "error",
                        "message": f"cannot serve {accept or 'no Accept'}; "
                        "this endpoint serves application/octet-stream",
                        "type": "invalid_request_error",
                        "code": "406",
                    },
                )
            data = self.files.get(_FILE.match(path).group("id"))  # type: ignore[union-attr]  # the route only matches paths _FILE matches
            return Reply(200, data, "image/png") if data is not None else Reply(404, {"message": "no file"})
        if name not in ("conversations", "chat") or method != "POST":
            return Reply(404, {"message": "not found"})
        body = recorded.json or {}
        op = "render" if name == "conversations" else ("review" if _has_image(body) else "chat")
        step = recorded.step = self.next_step(op)
        error = self.error_reply(step, recorded)
        if error:
            return error
        self.maybe_slow(step)
        if op == "chat":
            return self._text_chat(body, step)
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
            outputs.append(
                {
                    "object": "entry",
                    "type": "tool.execution",
                    "name": "image_generation",
                    "arguments": arguments,
                    "id": self.new_id("tool_exec_"),
                }
            )
            content.append(
                {
                    "type": "tool_file",
                    "tool": "image_generation",
                    "file_id": file_id,
                    "file_name": "image_generated_0",
                    "file_type": "png",
                }
            )
        outputs.append(
            {
                "object": "entry",
                "type": "message.output",
                "role": "assistant",
                "model": body.get("model"),
                "content": content,
                "id": self.new_id("msg_"),
            }
        )
        return Reply(
            200,
            {
                "object": "conversation.response",
                "conversation_id": self.new_id("conv_"),
                "outputs": outputs,
                "usage": {
                    "prompt_tokens": 10,
                    "completion_tokens": 20,
                    "total_tokens": 30,
                    "connectors": {"image_generation": 0 if step.name == "notool" else 1},
                },
            },
        )

    def _chat(self, body: dict[str, Any], step: Step) -> Reply:
        text = "score: high, I think?" if step.name == "badjson" else json.dumps(self.review_answer)
        return Reply(
            200,
            {
                "id": self.new_id("chat_"),
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            },
        )

    def _text_chat(self, body: dict[str, Any], step: Step) -> Reply:
        text = self.chat_answers.popleft() if self.chat_answers else self.chat_answer
        finish = "stop"
        if step.name == "badjson":
            text = "Sure! Here is your storyboard: {shots: twelve"
        elif step.name == "truncated":
            text, finish = text[: len(text) // 2], "length"
        return Reply(
            200,
            {
                "id": self.new_id("chat_"),
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 50, "completion_tokens": 100, "total_tokens": 150},
            },
        )


def _has_image(body: dict[str, Any]) -> bool:
    """Whether any chat message carries an ``image_url`` chunk (a review, not a text chat)."""
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(isinstance(c, dict) and c.get("type") == "image_url" for c in content):
            return True
    return False
