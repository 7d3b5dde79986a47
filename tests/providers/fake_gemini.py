"""Fake Gemini ``generateContent`` server (see :mod:`tests.providers.fakes`)."""

from __future__ import annotations

import base64
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

_ROUTE = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):generateContent$")


class FakeGemini(FakeServer):
    """Speaks ``POST /v1beta/models/{model}:generateContent`` (route ``"generate"``).

    Ops: ``"render"`` (image requests), ``"review"`` (requests with
    ``generationConfig.responseMimeType == "application/json"`` and an ``inlineData`` part) and
    ``"chat"`` (JSON requests with text parts only, e.g. storyboard drafting).

    Steps: ``ok``, ``<status>`` (``429:N`` carries ``RetryInfo.retryDelay "Ns"`` in the body
    and no ``Retry-After`` header, like Gemini), ``badkey`` (400 ``API_KEY_INVALID``),
    ``slow:S``, ``block[:REASON]`` (``promptFeedback.blockReason``, default SAFETY),
    ``finish:REASON`` (candidate ``finishReason``, no image), ``noimage`` (STOP, text only),
    ``badimage``; review and chat: ``badjson``; chat: ``truncated`` (the next answer, cut in
    half, with ``finishReason: "MAX_TOKENS"``).

    Attributes:
        review_answer: JSON object the reviewer gets for ``ok``.
        chat_answers: Texts the next ``ok`` text-only requests answer, first in first out.
        chat_answer: Text a text-only request answers when ``chat_answers`` is empty.
    """

    ops = ("render", "review", "chat")
    provider = "gemini"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.review_answer: dict[str, Any] = {"score": 0.82, "passed": True, "notes": "Matches the shot."}
        self.chat_answers: deque[str] = deque()
        self.chat_answer = '{"answer": "ok"}'

    def auth_value(self, headers: dict[str, str]) -> str:
        return headers.get("x-goog-api-key", "")

    def route_name(self, method: str, path: str) -> str:
        return "generate" if _ROUTE.match(path) else "unknown"

    def error_reply(self, step: Step, recorded: Recorded) -> Reply | None:
        status = step.status
        if step.name == "badkey":
            return Reply(
                400,
                {
                    "error": {
                        "code": 400,
                        "status": "INVALID_ARGUMENT",
                        "message": f"API key not valid: {self.auth_value(recorded.headers)}",
                        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
                    }
                },
            )
        if status is None:
            return None
        error: dict[str, Any] = {
            "code": status,
            "message": f"fake {status}",
            "status": "RESOURCE_EXHAUSTED" if status == 429 else "INTERNAL",
        }
        if status == 429:
            error["details"] = [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{step.arg or '22'}s"}
            ]
        return Reply(status, {"error": error})

    def route(self, method: str, path: str, recorded: Recorded) -> Reply:
        match = _ROUTE.match(path)
        if method != "POST" or not match:
            return Reply(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
        body = recorded.json or {}
        config = body.get("generationConfig") or {}
        op = "review" if config.get("responseMimeType") == "application/json" else "render"
        if op == "review" and not _has_inline_data(body):
            op = "chat"
        step = recorded.step = self.next_step(op)
        error = self.error_reply(step, recorded)
        if error:
            return error
        self.maybe_slow(step)
        model = match.group("model")
        if step.name == "block":
            return Reply(200, {"promptFeedback": {"blockReason": step.arg or "SAFETY"}, "modelVersion": model})
        if step.name == "finish":
            return Reply(
                200,
                {
                    "candidates": [
                        {"content": {"role": "model", "parts": []}, "finishReason": step.arg or "IMAGE_SAFETY"}
                    ],
                    "modelVersion": model,
                },
            )
        if op == "chat":
            return self._text_chat(model, step)
        if op == "review":
            text = "this is not json {" if step.name == "badjson" else json.dumps(self.review_answer)
            parts: list[dict[str, Any]] = [{"text": text}]
        elif step.name == "noimage":
            parts = [{"text": "I described it instead of drawing it."}]
        else:
            data = BAD_IMAGE if step.name == "badimage" else make_png(*self.image_size)
            parts = [
                {"text": "Here is the image."},
                {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(data).decode()}},
            ]
        return Reply(
            200,
            {
                "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
                "modelVersion": model,
                "usageMetadata": {"totalTokenCount": 1290},
            },
        )

    def _text_chat(self, model: str, step: Step) -> Reply:
        text = self.chat_answers.popleft() if self.chat_answers else self.chat_answer
        finish = "STOP"
        if step.name == "badjson":
            text = "Here is the storyboard you asked for {"
        elif step.name == "truncated":
            text, finish = text[: len(text) // 2], "MAX_TOKENS"
        return Reply(
            200,
            {
                "candidates": [
                    {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish, "index": 0}
                ],
                "modelVersion": model,
                "usageMetadata": {"totalTokenCount": 420},
            },
        )


def _has_inline_data(body: dict[str, Any]) -> bool:
    """Whether any content part carries ``inlineData`` (a review, not a text chat)."""
    contents = body.get("contents")
    for content in contents if isinstance(contents, list) else ():
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else ():
            if isinstance(part, dict) and ("inlineData" in part or "inline_data" in part):
                return True
    return False
