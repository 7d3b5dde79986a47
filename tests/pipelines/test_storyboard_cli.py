"""`studio storyboard` as a user runs it: a subprocess talking to the fake Mistral and Gemini."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from studio.project.loader import load_project
from tests.providers.fakes import FakeGemini, FakeMistral

MISTRAL_KEY = "mistral-secret-key-0001"
GEMINI_KEY = "gemini-secret-key-0002"
BRIEF = "# The Lighthouse\nAn old keeper, a girl from the village, a storm, a ship in trouble, and dawn.\n"


def storyboard(count: int, name: str = "The Lighthouse") -> str:
    """A valid answer in the shape the studio asks for."""
    return json.dumps(
        {
            "project": {"name": name},
            "defaults": {"style": "cinematic film still", "negative": "text", "aspect": "16:9", "variants": 2},
            "shots": [{"id": f"s{n:02d}", "prompt": f"the lighthouse, moment {n}"} for n in range(1, count + 1)],
        }
    )


@pytest.fixture
def brief(tmp_path: Path) -> Path:
    path = tmp_path / "brief.md"
    path.write_text(BRIEF)
    return path


def studio(
    tmp_path: Path, *args: str, mistral: FakeMistral | None = None, gemini: FakeGemini | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m studio.cli ARGS` with keys only for the fakes given, from a clean env."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STUDIO_", "TEMPORAL_", "MISTRAL_", "GEMINI_", "REPLICATE_", "FAL_"))
    }
    clean["STUDIO_HOME"] = str(tmp_path / "home")
    if mistral is not None:
        clean.update(MISTRAL_API_KEY=MISTRAL_KEY, MISTRAL_BASE_URL=mistral.base_url)
    if gemini is not None:
        clean.update(GEMINI_API_KEY=GEMINI_KEY, GEMINI_BASE_URL=gemini.base_url)
    clean.update(env)
    # cwd: a folder without a .env, so only this environment counts.
    return subprocess.run(
        [sys.executable, "-m", "studio.cli", *args],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_no_secrets(result: subprocess.CompletedProcess[str], *files: Path) -> None:
    seen = result.stdout + result.stderr + "".join(f.read_text() for f in files if f.exists())
    assert MISTRAL_KEY not in seen and GEMINI_KEY not in seen
    assert "Traceback" not in result.stderr


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("studio: ") and "Traceback" not in result.stderr
    for needle in needles:
        assert needle in last, last


def test_success_via_mistral_is_a_runnable_project(
    tmp_path: Path, brief: Path, mistral: FakeMistral, gemini: FakeGemini
) -> None:
    mistral.chat_answer = storyboard(4)
    out = tmp_path / "film"
    result = studio(tmp_path, "storyboard", str(brief), "--shots", "4", "-o", str(out), mistral=mistral, gemini=gemini)
    assert result.returncode == 0, result.stderr
    written = out / "project.toml"
    text = written.read_text()
    assert text.startswith(
        f"# Drafted by mistral (mistral-large-latest) with `studio storyboard` from the brief: {brief}\n"
    )
    assert f"wrote {written}" in result.stdout and f"next: studio run {out} --wait" in result.stdout
    project = load_project(out)
    assert [s.id for s in project.shots] == ["s01", "s02", "s03", "s04"] and project.total_takes == 8
    assert gemini.count() == 0 and mistral.count("chat") == 1
    body = mistral.last("chat").json
    assert body["response_format"] == {"type": "json_object"} and "exactly 4 shots" in body["messages"][0]["content"]
    assert "An old keeper" in body["messages"][1]["content"]
    check = studio(tmp_path, "run", str(out), "--check")
    assert check.returncode == 0 and "ok — 4 shots, 8 takes" in check.stdout, check.stderr
    assert_no_secrets(result, written)
    assert not list(out.glob(".tmp-*")), "the atomic write must leave no temp file"


@pytest.mark.parametrize("failure", ["500", "429:2", "503"])
def test_mistral_failure_falls_back_to_gemini(
    tmp_path: Path, brief: Path, mistral: FakeMistral, gemini: FakeGemini, failure: str
) -> None:
    mistral.script([failure], op="chat")
    gemini.chat_answer = storyboard(3, "Storm")
    out = tmp_path / "film"
    result = studio(tmp_path, "storyboard", str(brief), "--shots", "3", "-o", str(out), mistral=mistral, gemini=gemini)
    assert result.returncode == 0, result.stderr
    assert "asking gemini instead" in result.stderr and f"HTTP {failure[:3]}" in result.stderr
    assert (out / "project.toml").read_text().startswith("# Drafted by gemini (gemini-2.5-flash)")
    assert mistral.count("chat") == 1 and gemini.count("generate") == 1
    config = gemini.last("generate").json["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert load_project(out).name == "Storm"
    assert_no_secrets(result, out / "project.toml")


def test_bad_mistral_key_falls_back_and_is_never_printed(tmp_path: Path, brief: Path, gemini: FakeGemini) -> None:
    gemini.chat_answer = storyboard(2)
    with FakeMistral(key="the-real-key") as mistral:  # answers 401, echoing the key it was sent
        result = studio(
            tmp_path,
            "storyboard",
            str(brief),
            "--shots",
            "2",
            "-o",
            str(tmp_path / "p"),
            mistral=mistral,
            gemini=gemini,
        )
    assert result.returncode == 0, result.stderr
    assert "authentication failed (HTTP 401)" in result.stderr
    assert_no_secrets(result, tmp_path / "p" / "project.toml")


def test_only_gemini_key_goes_straight_to_gemini(tmp_path: Path, brief: Path, gemini: FakeGemini) -> None:
    gemini.chat_answer = storyboard(1)
    result = studio(tmp_path, "storyboard", str(brief), "--shots", "1", "-o", str(tmp_path / "p"), gemini=gemini)
    assert result.returncode == 0, result.stderr
    assert "gemini" in (tmp_path / "p" / "project.toml").read_text().splitlines()[0]


def test_invalid_answer_then_valid_on_retry(tmp_path: Path, brief: Path, mistral: FakeMistral) -> None:
    bad: dict[str, Any] = json.loads(storyboard(3))
    bad["defaults"]["aspect"] = "5:4"
    mistral.chat_answers.extend([json.dumps(bad), storyboard(3)])
    out = tmp_path / "film"
    result = studio(tmp_path, "storyboard", str(brief), "--shots", "3", "-o", str(out), mistral=mistral)
    assert result.returncode == 0, result.stderr
    assert "unusable answer" in result.stderr and "unknown aspect '5:4'" in result.stderr
    retry = mistral.received("chat")[1].json["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert retry[2]["content"] == json.dumps(bad) and "field 'defaults.aspect'" in retry[3]["content"]
    assert load_project(out).shots[0].width == 1344


def test_not_json_then_valid_on_retry(tmp_path: Path, brief: Path, mistral: FakeMistral) -> None:
    mistral.script(["badjson", "ok"], op="chat")
    mistral.chat_answer = storyboard(2)
    result = studio(tmp_path, "storyboard", str(brief), "--shots", "2", "-o", str(tmp_path / "p"), mistral=mistral)
    assert result.returncode == 0, result.stderr
    assert "not valid JSON" in mistral.received("chat")[1].json["messages"][3]["content"]


def test_two_invalid_answers_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, brief: Path, mistral: FakeMistral, gemini: FakeGemini
) -> None:
    mistral.chat_answers.extend([storyboard(5), storyboard(4)])
    out = tmp_path / "film"
    result = studio(tmp_path, "storyboard", str(brief), "--shots", "3", "-o", str(out), mistral=mistral, gemini=gemini)
    assert_one_line_error(
        result,
        "mistral (mistral-large-latest) gave no usable storyboard in 2 tries",
        "exactly 3 entries (got 4)",
        "nothing was written",
    )
    assert not out.exists() and gemini.count() == 0
    assert_no_secrets(result)


def test_every_provider_failing_writes_nothing(
    tmp_path: Path, brief: Path, mistral: FakeMistral, gemini: FakeGemini
) -> None:
    mistral.script(["500"], op="chat")
    gemini.script(["429:9"], op="chat")
    out = tmp_path / "film"
    result = studio(tmp_path, "storyboard", str(brief), "-o", str(out), mistral=mistral, gemini=gemini)
    assert_one_line_error(result, "no provider could draft the storyboard", "HTTP 500", "HTTP 429")
    assert not out.exists()


def test_no_keys_says_which_are_needed(tmp_path: Path, brief: Path) -> None:
    out = tmp_path / "film"
    result = studio(tmp_path, "storyboard", str(brief), "-o", str(out), MISTRAL_API_KEY="", GEMINI_API_KEY=" ")
    assert_one_line_error(result, "MISTRAL_API_KEY or GEMINI_API_KEY")
    assert not out.exists()


def test_existing_project_is_refused_without_force(tmp_path: Path, brief: Path, mistral: FakeMistral) -> None:
    out = tmp_path / "film"
    out.mkdir()
    (out / "project.toml").write_text("# mine\n")
    mistral.chat_answer = storyboard(2)
    refused = studio(tmp_path, "storyboard", str(brief), "--shots", "2", "-o", str(out), mistral=mistral)
    assert_one_line_error(refused, "project.toml already exists", "--force")
    assert (out / "project.toml").read_text() == "# mine\n" and mistral.count() == 0
    forced = studio(tmp_path, "storyboard", str(brief), "--shots", "2", "-o", str(out), "--force", mistral=mistral)
    assert forced.returncode == 0, forced.stderr
    assert len(load_project(out).shots) == 2


def test_missing_or_empty_brief(tmp_path: Path, mistral: FakeMistral) -> None:
    missing = studio(tmp_path, "storyboard", "nope.md", "-o", "film", mistral=mistral)
    assert_one_line_error(missing, "nope.md: brief not found")
    (tmp_path / "empty.md").write_text("\n  \n")
    empty = studio(tmp_path, "storyboard", "empty.md", "-o", "film", mistral=mistral)
    assert_one_line_error(empty, "empty.md: the brief is empty")
    assert mistral.count() == 0 and not (tmp_path / "film").exists()


@pytest.mark.parametrize("shots", ["0", "201", "lots"])
def test_shot_count_is_bounded(tmp_path: Path, brief: Path, shots: str) -> None:
    result = studio(tmp_path, "storyboard", str(brief), "--shots", shots, "-o", "film")
    assert result.returncode == 2 and "--shots" in result.stderr and "Traceback" not in result.stderr


def test_output_that_is_a_file_or_unwritable_is_one_line(tmp_path: Path, brief: Path, mistral: FakeMistral) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    result = studio(tmp_path, "storyboard", str(brief), "-o", "taken", mistral=mistral)
    assert_one_line_error(result, "taken: not a folder")
    assert mistral.count() == 0
    # A folder that cannot be made (its parent is a file) fails only at write time, after the call.
    mistral.chat_answer = storyboard(1)
    result = studio(tmp_path, "storyboard", str(brief), "--shots", "1", "-o", "taken/sub", mistral=mistral)
    assert_one_line_error(result, "taken/sub/project.toml: cannot write", "nothing was written")
    assert (tmp_path / "taken").read_text() == "a file, not a folder"
