"""Text chat that answers in JSON: Mistral chat completions and Gemini ``generateContent``.

Used to draft a storyboard from a written brief. Both adapters take a system instruction and a
list of turns (the user's request, and on a retry the model's earlier answer and our
correction) and return the model's raw text; judging that text is the caller's job.

* Mistral: ``POST {base}/v1/chat/completions`` with ``response_format: {"type": "json_object"}``
  (JSON mode needs the instruction to ask for JSON too); the answer is
  ``choices[0].message.content``.
* Gemini: ``POST {base}/v1beta/models/{model}:generateContent`` with ``systemInstruction`` and
  ``generationConfig.responseMimeType = "application/json"``; roles are ``user`` / ``model``.

The HTTP plumbing (auth headers, error mapping, key redaction, Gemini's safety blocks) is the
one the image adapters use, so a 429 or a bad key means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from providers._http.errors import json_body
from providers.base import ChatAnswer, ChatTurn, Unavailable
from providers.gemini.adapter import _first_candidate, _GeminiHTTP, _parts
from providers.mistral.adapter import _MistralHTTP

DEFAULT_MISTRAL_MODEL = "mistral-large-latest"
DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"
DEFAULT_TEMPERATURE = 0.5
"""Some invention is wanted (shots the brief only implies), but not free association."""


def _content_text(content: Any) -> str:
    """Mistral content is a string, or a list of chunks when the model mixes kinds."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(c.get("text", "") for c in content if isinstance(c, dict) and c.get("type", "text") == "text")
    return ""


class MistralJSONChat:
    """Mistral chat completions in JSON mode.

    Args:
        api_key: Mistral API key (sent as ``Authorization: Bearer``).
        base_url: API root; tests point it at a fake.
        http: Shared client for connection reuse; a short-lived one per call when ``None``.
        model: Chat model.
        temperature: Sampling temperature.
        timeout: Seconds for the whole (non-streamed) answer.
    """

    name = "mistral"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.mistral.ai",
        http: httpx.AsyncClient | None = None,
        model: str = DEFAULT_MISTRAL_MODEL,
        temperature: float = DEFAULT_TEMPERATURE,
        timeout: float = 120,
    ) -> None:
        self._api = _MistralHTTP(api_key, base_url, http, timeout)
        self.model = model
        self.temperature = temperature

    def __repr__(self) -> str:
        return f"MistralJSONChat(model={self.model!r}, base_url={self._api.base_url!r})"

    async def ask(self, system: str, turns: Sequence[ChatTurn]) -> ChatAnswer:
        """Ask once; see :class:`JSONChat`.

        Raises:
            Unavailable: Vendor down, timeout, or a 2xx body without a message.
            ProviderError: Other vendor failures, mapped by :mod:`providers._http.errors`.
        """
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}]
            + [{"role": turn.role, "content": turn.text} for turn in turns],
            "response_format": {"type": "json_object"},
            "temperature": self.temperature,
        }
        response = await self._api.request("POST", "/v1/chat/completions", json_payload=body)
        data = json_body(response, self.name)
        try:
            choice = data["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise Unavailable(
                f"{self.name} answered without a message",
                provider=self.name,
                status_code=response.status_code,
                detail="no choices[0].message",
            ) from None
        return ChatAnswer(
            text=_content_text(content),
            provider=self.name,
            model=str(data.get("model") or self.model),
            truncated=choice.get("finish_reason") == "length",
        )


class GeminiJSONChat:
    """Gemini ``generateContent`` with a JSON response MIME type.

    Args:
        api_key: Gemini API key (``x-goog-api-key`` header).
        base_url: API root; tests point it at a fake.
        http: Shared client for connection reuse; a short-lived one per call when ``None``.
        model: Text model.
        temperature: Sampling temperature.
        timeout: Seconds for the whole answer.
    """

    name = "gemini"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://generativelanguage.googleapis.com",
        http: httpx.AsyncClient | None = None,
        model: str = DEFAULT_GEMINI_MODEL,
        temperature: float = DEFAULT_TEMPERATURE,
        timeout: float = 120,
    ) -> None:
        self._api = _GeminiHTTP(api_key, base_url, http, timeout)
        self.model = model
        self.temperature = temperature

    def __repr__(self) -> str:
        return f"GeminiJSONChat(model={self.model!r}, base_url={self._api.base_url!r})"

    async def ask(self, system: str, turns: Sequence[ChatTurn]) -> ChatAnswer:
        """Ask once; see :class:`JSONChat`.

        Raises:
            Rejected: Gemini blocked the prompt or the answer (safety).
            ProviderError: Other vendor failures, mapped by :mod:`providers._http.errors`.
        """
        body = {
            "systemInstruction": {"parts": [{"text": system}]},
            "contents": [
                {"role": "model" if turn.role == "assistant" else "user", "parts": [{"text": turn.text}]}
                for turn in turns
            ],
            "generationConfig": {"responseMimeType": "application/json", "temperature": self.temperature},
        }
        data = await self._api.generate(self.model, body)
        candidate = _first_candidate(data)
        # Thinking models may return thought summaries as parts; only the answer counts.
        text = "".join(p["text"] for p in _parts(candidate) if isinstance(p.get("text"), str) and not p.get("thought"))
        finish = candidate.get("finishReason") if candidate else None
        return ChatAnswer(
            text=text,
            provider=self.name,
            model=str(data.get("modelVersion") or self.model),
            truncated=finish == "MAX_TOKENS",
        )
