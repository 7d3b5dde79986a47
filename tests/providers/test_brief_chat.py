"""MistralJSONChat / GeminiJSONChat against the fake servers' text-chat modes."""

from __future__ import annotations

import pytest

from providers.base import AuthFailed, ChatTurn, JSONChat, RateLimited, Rejected, Unavailable
from providers.brief_chat import GeminiJSONChat, MistralJSONChat
from tests.providers.fakes import FakeGemini, FakeMistral

KEY = "test-key-brief-123"
TURNS = [ChatTurn("user", "plan 2 shots"), ChatTurn("assistant", "{}"), ChatTurn("user", "try again")]


async def test_mistral_sends_json_mode_chat(mistral: FakeMistral) -> None:
    mistral.chat_answer = '{"shots": []}'
    chat = MistralJSONChat(KEY, base_url=mistral.base_url)
    assert isinstance(chat, JSONChat)
    answer = await chat.ask("answer in JSON", TURNS)
    request = mistral.last("chat")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.step is not None and mistral.pending("chat") == 0
    body = request.json
    assert body["model"] == "mistral-large-latest"
    assert body["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][0]["content"] == "answer in JSON"
    assert (answer.text, answer.provider, answer.model, answer.truncated) == (
        '{"shots": []}',
        "mistral",
        "mistral-large-latest",
        False,
    )


async def test_mistral_text_chat_does_not_disturb_review_queue(mistral: FakeMistral) -> None:
    mistral.script(["badjson"], op="review")
    answer = await MistralJSONChat(KEY, base_url=mistral.base_url).ask("s", TURNS)
    assert answer.text == '{"answer": "ok"}'
    assert mistral.pending("review") == 1


async def test_mistral_answers_in_order_and_reports_truncation(mistral: FakeMistral) -> None:
    long = '{"b": 2, "long": "xxxxxxxxxxxxxxxx"}'
    mistral.chat_answers.extend(['{"a": 1}', long])
    mistral.script(["ok", "truncated"], op="chat")
    chat = MistralJSONChat(KEY, base_url=mistral.base_url, model="mistral-small-latest")
    first = await chat.ask("s", TURNS)
    second = await chat.ask("s", TURNS)
    assert first.text == '{"a": 1}' and first.model == "mistral-small-latest"
    assert second.truncated and second.text == long[: len(long) // 2]


@pytest.mark.parametrize(("step", "error"), [("429:3", RateLimited), ("500", Unavailable), ("401", AuthFailed)])
async def test_mistral_errors_are_provider_errors(mistral: FakeMistral, step: str, error: type) -> None:
    mistral.script([step], op="chat")
    with pytest.raises(error) as info:
        await MistralJSONChat(KEY, base_url=mistral.base_url).ask("s", TURNS)
    assert info.value.provider == "mistral"
    if step.startswith("429"):
        assert info.value.retry_after == 3


async def test_mistral_bad_key_is_redacted() -> None:
    with FakeMistral(key="the-right-key") as fake, pytest.raises(AuthFailed) as info:
        await MistralJSONChat(KEY, base_url=fake.base_url).ask("s", TURNS)
    assert KEY not in str(info.value) and KEY not in (info.value.detail or "")


async def test_mistral_timeout_is_unavailable(mistral: FakeMistral) -> None:
    mistral.script(["slow:5"], op="chat")
    with pytest.raises(Unavailable):
        await MistralJSONChat(KEY, base_url=mistral.base_url, timeout=0.2).ask("s", TURNS)


async def test_gemini_sends_json_generate_content(gemini: FakeGemini) -> None:
    gemini.chat_answer = '{"shots": [1]}'
    chat = GeminiJSONChat(KEY, base_url=gemini.base_url)
    answer = await chat.ask("answer in JSON", TURNS)
    request = gemini.last("generate")
    assert request.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert request.headers["x-goog-api-key"] == KEY and KEY not in request.path
    body = request.json
    assert body["systemInstruction"] == {"parts": [{"text": "answer in JSON"}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][2]["parts"] == [{"text": "try again"}]
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert (answer.text, answer.provider, answer.model) == ('{"shots": [1]}', "gemini", "gemini-2.5-flash")


async def test_gemini_text_chat_does_not_disturb_review_queue(gemini: FakeGemini) -> None:
    gemini.script(["badjson"], op="review")
    gemini.script(["truncated"], op="chat")
    answer = await GeminiJSONChat(KEY, base_url=gemini.base_url).ask("s", TURNS)
    assert answer.truncated and gemini.pending("review") == 1


@pytest.mark.parametrize(
    ("step", "error"), [("429:7", RateLimited), ("503", Unavailable), ("badkey", AuthFailed), ("block", Rejected)]
)
async def test_gemini_errors_are_provider_errors(gemini: FakeGemini, step: str, error: type) -> None:
    gemini.script([step], op="chat")
    with pytest.raises(error) as info:
        await GeminiJSONChat(KEY, base_url=gemini.base_url).ask("s", TURNS)
    assert info.value.provider == "gemini"
    assert KEY not in str(info.value) and KEY not in (info.value.detail or "")
    if step.startswith("429"):
        assert info.value.retry_after == 7


def test_reprs_hide_the_key() -> None:
    for chat in (MistralJSONChat(KEY), GeminiJSONChat(KEY)):
        assert KEY not in repr(chat) and KEY not in repr(vars(chat))
