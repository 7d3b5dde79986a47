"""studio.project.brief: JSON answer → project TOML, validation, and the retry/fallback policy (no HTTP)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from providers.base import AuthFailed, ChatAnswer, ChatTurn, RateLimited, Unavailable
from studio.project.brief import (
    MAX_BRIEF_CHARS,
    BadAnswer,
    BriefError,
    NoChatKeys,
    NoUsableAnswer,
    ProvidersFailed,
    answer_to_toml,
    chat_timeout,
    check_answer,
    draft_storyboard,
    header_comment,
    read_brief,
    system_prompt,
)
from studio.project.loader import parse_project

TARGET = Path("/tmp/brief-test/project.toml")


def storyboard(count: int = 3, **top: Any) -> dict[str, Any]:
    """A valid answer in the shape the studio asks for."""
    data: dict[str, Any] = {
        "project": {"name": "The Lighthouse"},
        "defaults": {"style": "cinematic 35mm", "negative": "text, watermark", "aspect": "16:9", "variants": 2},
        "shots": [{"id": f"s{n:02d}", "prompt": f"shot number {n}"} for n in range(1, count + 1)],
    }
    data.update(top)
    return data


def answer(data: Any, *, provider: str = "mistral", model: str = "m-1", truncated: bool = False) -> ChatAnswer:
    text = data if isinstance(data, str) else json.dumps(data)
    return ChatAnswer(text=text, provider=provider, model=model, truncated=truncated)


class StubChat:
    """A JSONChat that replays scripted answers or errors and records every conversation."""

    def __init__(self, name: str, script: Sequence[Any], model: str = "stub-model") -> None:
        self.name, self.model = name, model
        self.script = list(script)
        self.calls: list[tuple[str, list[ChatTurn]]] = []

    async def ask(self, system: str, turns: Sequence[ChatTurn]) -> ChatAnswer:
        self.calls.append((system, list(turns)))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return answer(step, provider=self.name, model=self.model)


# -- conversion ----------------------------------------------------------------------------------
def test_answer_becomes_a_valid_project() -> None:
    text, project = check_answer(answer(storyboard(3)), shots=3, brief_name="brief.md", project_file=TARGET)
    assert project.name == "The Lighthouse" and [s.id for s in project.shots] == ["s01", "s02", "s03"]
    assert project.total_takes == 6 and project.shots[0].width == 1344
    assert project.shots[0].full_prompt == "shot number 1, cinematic 35mm"
    assert text.startswith("# Drafted by mistral (m-1) with `studio storyboard` from the brief: brief.md\n")
    assert parse_project(text, source=str(TARGET), base_dir=TARGET.parent) == project


def test_tricky_strings_round_trip() -> None:
    nasty = 'a "quoted" back\\slash, tab\there,\nnew line, bell\x07, émoji 🌊, [[shots]] = 1 # not a comment'
    data = storyboard(1)
    data["shots"][0]["prompt"] = nasty
    data["project"]["name"] = 'Café "Noir"'
    toml = answer_to_toml(json.dumps(data), shots=1)
    parsed = tomllib.loads(toml)
    assert parsed["shots"][0]["prompt"] == nasty and parsed["project"]["name"] == 'Café "Noir"'


def test_overrides_equal_to_defaults_are_dropped_nulls_and_extras_ignored() -> None:
    data = storyboard(2)
    data["shots"][0].update(aspect="16:9", variants=4, negative=None, camera="dolly", seed=3)
    data["defaults"]["negative"] = None
    data["mood"] = "gloomy"
    parsed = tomllib.loads(answer_to_toml(json.dumps(data), shots=2))
    assert parsed["shots"][0] == {"id": "s01", "prompt": "shot number 1", "variants": 4}
    assert "negative" not in parsed["defaults"] and set(parsed) == {"project", "defaults", "shots"}


def test_markdown_fence_is_tolerated() -> None:
    text = "```json\n" + json.dumps(storyboard(1)) + "\n```"
    assert "[[shots]]" in answer_to_toml(text, shots=1)


def test_header_cannot_be_broken_by_a_path() -> None:
    header = header_comment("gemini", "g-2", "evil\n[project]\nname = 'x'.md")
    assert all(line.startswith("#") for line in header.splitlines())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Sure! Here it is: {", "not valid JSON"),
        ("   ", "the answer is empty"),
        ("[1, 2]", "one JSON object"),
        (json.dumps(storyboard(1, shots="three")), "'shots' must be an array of objects"),
        (json.dumps(storyboard(1, project=["x"])), "'project' must be an object"),
        (json.dumps(storyboard(2)), "exactly 3 entries (got 2)"),
    ],
)
def test_wrong_shape_is_a_bad_answer(text: str, reason: str) -> None:
    with pytest.raises(BadAnswer) as info:
        answer_to_toml(text, shots=3)
    assert reason in info.value.reason and "\n" not in info.value.reason


def test_truncated_answer_says_so() -> None:
    with pytest.raises(BadAnswer, match="cut off"):
        answer_to_toml(json.dumps(storyboard(3))[:40], shots=3, truncated=True)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["defaults"].update(aspect="5:4"), "field 'defaults.aspect': unknown aspect '5:4'"),
        (lambda d: d["shots"][1].update(variants=40), "shot 's02': field 'variants': must be between 1 and 16"),
        (lambda d: d["shots"][1].update(variants="2"), "shot 's02': field 'variants': expected an integer"),
        (lambda d: d["shots"][2].update(id="s01"), "shot 's01': field 'id': duplicate shot id"),
        (lambda d: d["shots"][0].update(id="bad id!"), "field 'shots[1].id': must be 1 to 40"),
        (lambda d: d["shots"][0].update(prompt=" "), "field 'prompt': must not be empty"),
        (lambda d: d["project"].pop("name"), "field 'project.name': is required"),
        (lambda d: d["shots"][0].update(prompt=["a", None]), "null is only allowed"),
    ],
)
def test_invalid_project_is_a_bad_answer_without_the_file_name(change: Any, reason: str) -> None:
    data = storyboard(3)
    change(data)
    with pytest.raises(BadAnswer) as info:
        check_answer(answer(data), shots=3, brief_name="b.md", project_file=TARGET)
    assert reason in info.value.reason
    assert str(TARGET) not in info.value.reason  # the model never saw our file system


def test_system_prompt_names_count_shape_and_aspects() -> None:
    prompt = system_prompt(7)
    assert "exactly 7 shots" in prompt and '"defaults"' in prompt and "21:9" in prompt and "JSON" in prompt


def test_timeout_grows_with_shots() -> None:
    assert chat_timeout(12, 120) == 120 and chat_timeout(200, 120) == 660


# -- the brief file ------------------------------------------------------------------------------
def test_read_brief_errors(tmp_path: Path) -> None:
    with pytest.raises(BriefError, match=r"brief\.md: brief not found"):
        read_brief(tmp_path / "brief.md", "brief.md")
    (tmp_path / "empty.md").write_text(" \n\n")
    with pytest.raises(BriefError, match="the brief is empty"):
        read_brief(tmp_path / "empty.md")
    with pytest.raises(BriefError, match="not a file"):
        read_brief(tmp_path)
    (tmp_path / "latin1.md").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(BriefError, match="not UTF-8"):
        read_brief(tmp_path / "latin1.md")
    (tmp_path / "long.md").write_text("x" * (MAX_BRIEF_CHARS + 1))
    with pytest.raises(BriefError, match="too long"):
        read_brief(tmp_path / "long.md")
    (tmp_path / "ok.md").write_text("\ufeff  A film about a lighthouse.\n")
    assert read_brief(tmp_path / "ok.md") == "A film about a lighthouse."


# -- retry and fallback --------------------------------------------------------------------------
async def draft(*chats: StubChat, shots: int = 3) -> Any:
    notes: list[str] = []
    result = await draft_storyboard(
        "A lighthouse film.", shots=shots, chats=chats, brief_name="brief.md", project_file=TARGET, on_note=notes.append
    )
    return result, notes


async def test_first_valid_answer_wins() -> None:
    mistral = StubChat("mistral", [storyboard(3)])
    result, notes = await draft(mistral, StubChat("gemini", []))
    assert (result.provider, result.model, result.tries) == ("mistral", "stub-model", 1) and notes == []
    system, turns = mistral.calls[0]
    assert "exactly 3 shots" in system and "A lighthouse film." in turns[0].text


async def test_bad_answer_is_retried_with_the_reason() -> None:
    bad = storyboard(3)
    bad["shots"][1]["variants"] = 40
    mistral = StubChat("mistral", [bad, storyboard(3)])
    result, notes = await draft(mistral)
    assert result.tries == 2 and len(notes) == 1 and "variants" in notes[0]
    turns = mistral.calls[1][1]
    assert [t.role for t in turns] == ["user", "assistant", "user"]
    assert turns[1].text == json.dumps(bad)
    assert "shot 's02': field 'variants': must be between 1 and 16 (got 40)" in turns[2].text


async def test_two_bad_answers_end_the_run_without_asking_the_next_provider() -> None:
    gemini = StubChat("gemini", [storyboard(3)])
    with pytest.raises(NoUsableAnswer) as info:
        await draft(StubChat("mistral", ["nope", storyboard(2)]), gemini)
    assert "exactly 3 entries (got 2)" in str(info.value) and "nothing was written" in str(info.value)
    assert "\n" not in str(info.value) and gemini.calls == []


@pytest.mark.parametrize(
    "error",
    [
        RateLimited("mistral rate limited (HTTP 429)", provider="mistral", retry_after=3),
        Unavailable("mistral unavailable (HTTP 500)", provider="mistral", status_code=500),
        AuthFailed("mistral authentication failed (HTTP 401)", provider="mistral", status_code=401),
    ],
)
async def test_provider_failure_falls_back(error: Exception) -> None:
    result, notes = await draft(StubChat("mistral", [error]), StubChat("gemini", [storyboard(3)]))
    assert result.provider == "gemini" and result.text.startswith("# Drafted by gemini (stub-model)")
    assert notes == [f"{error}; asking gemini instead"]


async def test_failure_on_the_retry_also_falls_back() -> None:
    failing = StubChat("mistral", ["{}", Unavailable("mistral timed out", provider="mistral")])
    result, _ = await draft(failing, StubChat("gemini", [storyboard(3)]))
    assert result.provider == "gemini"


async def test_every_provider_failing_is_one_line() -> None:
    with pytest.raises(ProvidersFailed) as info:
        await draft(
            StubChat("mistral", [Unavailable("mistral unavailable (HTTP 503)", provider="mistral")]),
            StubChat("gemini", [RateLimited("gemini rate limited (HTTP 429)", provider="gemini")]),
        )
    message = str(info.value)
    assert "mistral unavailable (HTTP 503)" in message and "gemini rate limited (HTTP 429)" in message
    assert "\n" not in message


async def test_no_chats_means_no_keys() -> None:
    with pytest.raises(NoChatKeys, match="MISTRAL_API_KEY or GEMINI_API_KEY"):
        await draft()
