"""The JSON Schema of project.toml (`studio schema`): generated from the checker's own field table.

The committed copy is what `studio schema` prints, every sample project is valid against it, the
schema flags the mistakes it can express (types, choices, bounds, unknown keys, required keys)
that the checker refuses, and it never refuses a project the checker accepts.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.cli import main
from studio.project.json_schema import DRAFT, SCHEMA_FILE, project_json_schema, schema_text
from studio.project.loader import KNOWN_PROVIDERS, ProjectError, parse_project
from tests.studio.project_files import toml_text

SAMPLES = Path(__file__).resolve().parents[2] / "sample_projects"
COMMITTED = SAMPLES / SCHEMA_FILE
VALIDATOR = jsonschema.Draft7Validator(project_json_schema())

HEAD = '[project]\nname = "Test"\n'
SHOT = '[[shots]]\nid = "s01"\nprompt = "a cat"\n'


@pytest.fixture
def studio_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A STUDIO_HOME of its own, and no stray .env: `studio schema` needs neither."""
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def checker_refuses(text: str) -> bool:
    try:
        parse_project(text, source="p/project.toml", base_dir=Path("/nowhere"), check_files=False)
    except ProjectError:
        return True
    return False


def schema_errors(data: dict[str, Any]) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(data)]


# --- the generated file ------------------------------------------------------------------------


def test_committed_copy_is_what_studio_schema_prints(studio_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == schema_text()
    assert COMMITTED.read_text(encoding="utf-8") == printed, (
        "run `studio schema -o sample_projects/project.schema.json`"
    )


def test_output_option_writes_the_same_text(studio_home: Path, tmp_path: Path) -> None:
    target = tmp_path / "editors" / SCHEMA_FILE
    assert main(["schema", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == schema_text()


def test_unwritable_output_is_one_line(studio_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["schema", "-o", str(tmp_path / "file" / "schema.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("studio: cannot write ") and err.count("\n") == 1


def test_schema_is_valid_draft_07_with_help_on_every_key() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert schema["$schema"] == DRAFT
    jsonschema.Draft7Validator.check_schema(schema)
    for table in schema["properties"].values():
        assert table["description"]
        keys = (table.get("items") or table)["properties"]
        assert keys and all(key["description"] for key in keys.values())


def test_provider_names_come_from_the_checker() -> None:
    chain = project_json_schema()["properties"]["project"]["properties"]["chain"]
    assert chain["items"]["enum"] == list(KNOWN_PROVIDERS)


# --- the samples -------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["short-film", "thumbnail-pack", "batch-200"])
def test_sample_names_the_schema_and_is_valid_against_it(sample: str) -> None:
    file = SAMPLES / sample / "project.toml"
    first = file.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("#:schema ")
    assert (file.parent / first.removeprefix("#:schema ")).resolve() == COMMITTED
    assert schema_errors(tomllib.loads(file.read_text(encoding="utf-8"))) == []


# --- mistakes both refuse ----------------------------------------------------------------------

BAD = {
    # types
    "name not a string": "[project]\nname = 5\n" + SHOT,
    "project not a table": 'project = "x"\n' + SHOT,
    "seed a string": HEAD + 'seed = "12"\n' + SHOT,
    "chain a string": HEAD + 'chain = "fal"\n' + SHOT,
    "variants a bool": HEAD + "[defaults]\nvariants = true\n" + SHOT,
    "required a number": HEAD + "[approval]\nrequired = 1\n" + SHOT,
    "usd a string": HEAD + '[budget]\nusd = "5"\n' + SHOT,
    "prompt a date": HEAD + '[[shots]]\nid = "s01"\nprompt = 2024-01-01\n',
    "shots a number": HEAD + "shots = 3\n",
    # choices
    "unknown aspect": HEAD + '[defaults]\naspect = "5:4"\n' + SHOT,
    "unknown provider": HEAD + 'chain = ["dalle"]\n' + SHOT,
    "unknown on_expiry": HEAD + '[approval]\non_expiry = "later"\n' + SHOT,
    "unknown target": HEAD + '[publish]\ntarget = "s3"\n' + SHOT,
    # bounds
    "variants too many": HEAD + SHOT + "variants = 40\n",
    "upscale zero": HEAD + "[defaults]\nupscale = 0\n" + SHOT,
    "seed negative": HEAD + "seed = -1\n" + SHOT,
    "seed past 32 bits": HEAD + SHOT + "seed = 4294967296\n",
    "usd zero": HEAD + "[budget]\nusd = 0\n" + SHOT,
    "usd too much": HEAD + "[budget]\nusd = 1e6\n" + SHOT,
    "strength above one": HEAD + "[defaults]\nreference_strength = 1.5\n" + SHOT,
    "name too long": f'[project]\nname = "{"n" * 201}"\n' + SHOT,
    "style too long": HEAD + f'[defaults]\nstyle = "{"s" * 1001}"\n' + SHOT,
    "empty chain": HEAD + "chain = []\n" + SHOT,
    "provider twice": HEAD + 'chain = ["fal", "fal"]\n' + SHOT,
    "no shots": HEAD + "shots = []\n",
    # text rules
    "empty name": '[project]\nname = ""\n' + SHOT,
    "blank prompt": HEAD + '[[shots]]\nid = "s01"\nprompt = "  \\t "\n',
    "escape in name": '[project]\nname = "a\\u001b[31mb"\n' + SHOT,
    "line break in id": HEAD + '[[shots]]\nid = "s\\n01"\nprompt = "a cat"\n',
    "NUL in prompt": HEAD + '[[shots]]\nid = "s01"\nprompt = "a\\u0000cat"\n',
    "bad shot id": HEAD + '[[shots]]\nid = "shot one"\nprompt = "a cat"\n',
    "bad duration": HEAD + '[approval]\ndeadline = "2w"\n' + SHOT,
    "bad size": HEAD + '[defaults]\nsize = "big"\n' + SHOT,
    "aspect and size": HEAD + SHOT + 'aspect = "1:1"\nsize = "512x512"\n',
    # unknown and missing keys
    "unknown top-level key": HEAD + "colour = 1\n" + SHOT,
    "unknown project key": HEAD + "sed = 1\n" + SHOT,
    "misplaced top-level key": HEAD + "shots = 1\n" + SHOT,
    "typo in a shot": HEAD + SHOT + "varients = 2\n",
    "typo in defaults": HEAD + "[defaults]\nvariant = 2\n" + SHOT,
    "typo in approval": HEAD + "[approval]\ndeadlines = 1\n" + SHOT,
    "no project": SHOT,
    "no name": "[project]\nseed = 1\n" + SHOT,
    "shot without id": HEAD + '[[shots]]\nprompt = "a cat"\n',
    "shot without prompt": HEAD + '[[shots]]\nid = "s01"\n',
}


@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
def test_mistakes_are_refused_by_the_checker_and_flagged_by_the_schema(text: str) -> None:
    assert checker_refuses(text)
    assert schema_errors(tomllib.loads(text)) != []


GOOD = {
    "minimal": HEAD + SHOT,
    "everything": HEAD
    + 'seed = 4294967295\nchain = ["pixtral", "gemini"]\n'
    + '[defaults]\nstyle = "ink\\tand\\nwash"\nnegative = ""\nsize = " 512x512 "\nvariants = 16\nupscale = 1\n'
    + "reference_strength = 1\n"
    + '[approval]\nrequired = true\ndeadline = " 48h "\non_expiry = "approve-best"\n'
    + '[publish]\ntarget = "folder"\npath = "out/ep42"\n'
    + "[budget]\nusd = 100000\n"
    + SHOT
    + 'aspect = "21:9"\nseed = 0\nchain = ["local"]\nreference = "sketches/s01.png"\n',
    "accented name": '[project]\nname = "Café Noir"\n' + SHOT,
}


@pytest.mark.parametrize("text", GOOD.values(), ids=GOOD.keys())
def test_good_projects_pass_both(text: str) -> None:
    assert not checker_refuses(text)
    assert schema_errors(tomllib.loads(text)) == []


# --- never stricter than the checker -----------------------------------------------------------

texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
anything = st.one_of(
    texts,
    st.sampled_from(["16:9", "5:4", "100x100", "0s", "", " "]),
    st.integers(-3, 20),
    st.sampled_from([2**32, 100_001]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-2, max_value=2),
    st.booleans(),
    st.lists(st.sampled_from([*KNOWN_PROVIDERS, "dalle"]), max_size=3),
)
words = st.text(st.characters(categories=("L", "N", "Zs", "P")), min_size=1, max_size=12)
prose = st.text(st.characters(categories=("L", "N", "Zs", "P"), include_characters="\t\n"), max_size=20)
multiple_of_8 = st.integers(8, 256).map(lambda n: n * 8)
# Mostly values the checker takes (so both sides of the comparison are exercised), some anything.
LIKELY = {
    "name": words,
    "seed": st.integers(0, 2**32 - 1),
    "chain": st.lists(st.sampled_from(KNOWN_PROVIDERS), min_size=1, max_size=3, unique=True),
    "style": prose,
    "negative": prose,
    "prompt": prose,
    "aspect": st.sampled_from(["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9"]),
    "size": st.builds(lambda w, h, pad: f"{pad}{w}x{h}{pad}", multiple_of_8, multiple_of_8, st.sampled_from(["", " "])),
    "variants": st.integers(1, 16),
    "upscale": st.integers(1, 4),
    "reference_strength": st.floats(min_value=0.01, max_value=1),
    "required": st.booleans(),
    "cache": st.booleans(),
    "priority": st.sampled_from(["rush", "normal", "low", "urgent"]),
    "client": words,
    "watermark": st.booleans(),
    "deadline": st.builds(lambda n, unit: f"{n}{unit}", st.integers(1, 300), st.sampled_from("smhd")),
    "on_expiry": st.sampled_from(["hold", "approve-best", "reject"]),
    "target": st.just("folder"),
    "path": words,
    "usd": st.floats(min_value=0.01, max_value=100_000),
    "id": st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True),
}
TABLE_KEYS = {
    "project": ["name", "seed", "chain", "cache", "priority", "client"],
    "defaults": ["style", "negative", "aspect", "size", "variants", "upscale", "reference_strength"],
    "approval": ["required", "deadline", "on_expiry", "watermark"],
    "publish": ["target", "path"],
    "budget": ["usd"],
    "shot": ["id", "prompt", "style", "aspect", "size", "variants", "upscale", "seed", "chain", "reference_strength"],
}
changes = st.lists(
    st.sampled_from([(table, key) for table, keys in TABLE_KEYS.items() for key in keys]).flatmap(
        # One value in five is anything at all.
        lambda where: st.tuples(
            st.just(where), st.integers(0, 4).flatmap(lambda n: LIKELY[where[1]] if n else anything)
        )
    ),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(changes)
def test_what_the_checker_accepts_the_schema_accepts(edits: list[tuple[tuple[str, str], Any]]) -> None:
    data: dict[str, Any] = {"project": {"name": "Test"}, "shots": [{"id": "s01", "prompt": "a cat"}]}
    for (table, key), value in edits:
        (data["shots"][0] if table == "shot" else data.setdefault(table, {}))[key] = value
    text = toml_text(data)
    if not checker_refuses(text):
        assert schema_errors(tomllib.loads(text)) == []
