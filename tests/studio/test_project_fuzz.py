"""Fuzzing `studio run --check` with hostile project files made from the samples.

Every file is either refused the way a user can act on (exit 2, one printable line on stderr,
no traceback) or accepted with every value inside the limits that keep a batch from wedging.
Either way nothing is written: no catalog, no batch, no file in STUDIO_HOME.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import subprocess
import sys
import tomllib
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.cli import main
from studio.project.loader import (
    KNOWN_PROVIDERS,
    MAX_BUDGET_USD,
    MAX_NAME,
    MAX_PROMPT,
    SEED_LIMIT,
    Project,
    load_project,
)
from studio.project.paths import MAX_REFERENCE_MEGAPIXELS, PATH_MAX
from studio.project.schema import MAX_DEADLINE_DAYS, NEGATIVE_MAX, SIZE_MAX, SIZE_MIN, STYLE_MAX
from studio.rendering.chain import canonical
from tests.studio.project_files import Raw, toml_text, write_sketches

SAMPLES = Path(__file__).resolve().parents[2] / "sample_projects"
BASES = {
    name: tomllib.loads((SAMPLES / name / "project.toml").read_text()) for name in ("short-film", "thumbnail-pack")
}
EXAMPLES = 1200
MAX_LINE = 1000  # a refusal line longer than this buries the message

# --- hostile values --------------------------------------------------------------------------------

UNICODE_DIGITS = "٠١٢٣٤٥٦٧٨٩０１２３４５６７８９०१२३४५६७८९"
NASTY = [chr(c) for c in range(32)] + ["\x7f", "\x85", "\x9b", "\u2028", "\u2029", "\u202e", "\x1b[31m", "\ufeff"]

any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
nasty_text = st.builds(lambda a, c, b: a + c + b, any_text, st.sampled_from(NASTY), any_text)
long_text = st.integers(100, 20_000).map(lambda n: "ab c" * (n // 4))
ascii_digits = st.integers(1, 6000).map(lambda n: "9" * n) | st.integers(0, 10**12).map(str)
unicode_digits = st.text(st.sampled_from(UNICODE_DIGITS), min_size=1, max_size=6)
digits = ascii_digits | unicode_digits | st.just("") | st.just("-5") | st.just("0")
durations = st.builds(lambda d, u: d + u, digits, st.sampled_from(["s", "m", "h", "d", "", "w", " d"]))
sizes = st.builds(lambda w, h: f"{w}x{h}", digits, digits)
paths = (
    st.sampled_from(
        [
            "../../etc/passwd",
            "/etc/passwd",
            "~/x.png",
            "sketches/ok.png",
            "sketches/corrupt.png",
            "sketches/bomb.png",
            "sketches/big.png",
            "sketches",
            "/dev/zero",
            ".",
            "out",
            "x" * 300 + "/y",
            "a/" * 600,
            " ",
            "",
        ]
    )
    | nasty_text
    | st.builds(lambda p, c: p + c, st.just("sketches/ok.png"), st.sampled_from(NASTY))
)
huge_numbers = (
    st.integers(4400, 6000).map(lambda n: Raw("1" * n))  # past Python's 4300-digit limit, inside tomllib
    | st.integers(1100, 3000).map(lambda n: Raw("0x" + "f" * n))  # parsed, but too long to print
    | st.sampled_from([Raw("inf"), Raw("-inf"), Raw("nan"), Raw("1e999")])
)
numbers = (
    st.integers()
    | st.integers(2**31, 2**70)
    | st.integers(-(2**70), 0)
    | st.floats()
    | huge_numbers
    | st.integers(300, 1000).map(lambda n: 10**n)
)
deep = st.integers(500, 3000).map(lambda n: Raw("[" * n + "]" * n))
chains = st.lists(st.sampled_from([*KNOWN_PROVIDERS, "dalle", "Mistral"]), max_size=5) | st.lists(any_text, max_size=3)
scalars = any_text | nasty_text | long_text | numbers | st.booleans() | st.datetimes() | st.dates() | st.times()
hostile = (
    scalars
    | durations
    | sizes
    | paths
    | chains
    | deep
    | st.lists(scalars, max_size=3)
    | st.dictionaries(any_text, scalars, max_size=2)
)

FIELDS = {
    "project": ["name", "seed", "chain", "cache", "bogus"],
    "defaults": ["style", "negative", "aspect", "size", "variants", "upscale", "reference_strength"],
    "approval": ["required", "deadline", "on_expiry", "watermark"],
    "publish": ["target", "path"],
    "budget": ["usd"],
    "shot": ["id", "prompt", "negative", "style", "size", "variants", "chain", "seed", "reference", "upscale"],
}
VALUES_FOR = {  # the likeliest trouble for each field, mixed with anything at all
    "seed": numbers,
    "deadline": durations,
    "size": sizes,
    "path": paths,
    "reference": paths,
    "chain": chains,
    "usd": numbers,
    "variants": numbers,
    "upscale": numbers,
    "name": nasty_text | long_text,
    "prompt": nasty_text | long_text,
    "style": nasty_text | long_text,
    "negative": nasty_text | long_text,
}


@st.composite
def project_texts(draw: st.DrawFn) -> str:
    """A sample project with one to three fields replaced, a table replaced, or its text cut up."""
    data = copy.deepcopy(BASES[draw(st.sampled_from(sorted(BASES)))])
    for _ in range(draw(st.integers(1, 3))):
        table = draw(st.sampled_from([*FIELDS, "whole"]))
        if table == "whole":
            data[draw(st.sampled_from(["project", "defaults", "approval", "shots", "budget"]))] = draw(hostile)
            continue
        key = draw(st.sampled_from(FIELDS[table]))
        value = draw(VALUES_FOR.get(key, hostile) | hostile)
        if table == "shot":
            shots = data["shots"] if isinstance(data.get("shots"), list) else []
            if shots and all(isinstance(shot, dict) for shot in shots):
                shots[draw(st.integers(0, len(shots) - 1))][key] = value
        else:
            section = data.setdefault(table, {})
            if isinstance(section, dict):
                section[key] = value
    text = toml_text(data)
    if draw(st.integers(0, 9)) == 0:  # now and then, break the TOML itself
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["=", "[", '"', "\n[[shots]]\n", "\x00", "]]", "x = 1\n"])) + text[at:]
    return text


# --- what a wedge-free project looks like ----------------------------------------------------------


def _clean(text: str, prose: bool = False) -> bool:
    allowed = "\t\n\r" if prose else ""
    return not any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def assert_within_limits(project: Project) -> None:
    """Every value an accepted project carries is one the workflows, vendors and catalog take."""
    assert project.seed is None or 0 <= project.seed < SEED_LIMIT
    assert len(project.name) <= MAX_NAME and _clean(project.name) and "\u2028" not in project.name
    deadline = project.approval.deadline_seconds
    assert deadline is None or 0 < deadline <= MAX_DEADLINE_DAYS * 86400
    if deadline is not None:
        assert dt.datetime(2026, 1, 1) + dt.timedelta(seconds=deadline)  # the workflow's timer, no overflow
    assert project.budget_usd is None or 0 < project.budget_usd <= MAX_BUDGET_USD
    for path in filter(None, [project.publish.path, *(shot.reference for shot in project.shots)]):
        assert len(path) <= PATH_MAX + 4096 and _clean(path) and "\x00" not in path
    for shot in project.shots:
        assert shot.seed is None or 0 <= shot.seed < SEED_LIMIT
        assert SIZE_MIN <= shot.width <= SIZE_MAX and SIZE_MIN <= shot.height <= SIZE_MAX
        assert len(shot.prompt) <= MAX_PROMPT and len(shot.style) <= STYLE_MAX and len(shot.negative) <= NEGATIVE_MAX
        assert all(_clean(text, prose=True) for text in (shot.prompt, shot.style, shot.negative))
        if shot.chain is not None:
            assert len({canonical(name) for name in shot.chain}) == len(shot.chain)
        if shot.reference is not None:
            from PIL import Image

            with Image.open(shot.reference) as im:
                assert im.size[0] * im.size[1] <= MAX_REFERENCE_MEGAPIXELS * 1_000_000


def assert_refusal(code: int, out: str, err: str) -> None:
    """Refused as the CLI promises: exit 2, one printable line on stderr, nothing on stdout."""
    assert code == 2, (code, out, err)
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    line = err[:-1]
    assert line.startswith("studio: ") and "Traceback" not in line
    assert len(line) <= MAX_LINE, len(line)
    assert line.isprintable(), line  # no escape sequence, NUL or line separator reaches the terminal


def run_check(folder: Path) -> tuple[int, str, str]:
    """`studio run --check FOLDER` in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["run", "--check", str(folder)])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def studio_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty STUDIO_HOME that nothing may write to."""
    home = tmp_path / "home"
    monkeypatch.setenv("STUDIO_HOME", str(home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return home


def test_hostile_project_files_are_refused_in_one_line(tmp_path: Path, studio_home: Path) -> None:
    folder = tmp_path / "project"
    write_sketches(folder)
    before = sorted(folder.rglob("*"))
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(project_texts())
    def check(text: str) -> None:
        (folder / "project.toml").write_text(text, encoding="utf-8")
        code, out, err = run_check(folder)
        if code == 0:
            # Accepted: stderr may only carry notices (no key for a provider), never a traceback.
            assert "ok" in out and all(line.startswith("studio: ") for line in err.splitlines())
            assert_within_limits(load_project(folder))
            outcomes["accepted"] += 1
        else:
            assert_refusal(code, out, err)
            outcomes["refused"] += 1

    check()
    assert sum(outcomes.values()) >= 1000, outcomes
    assert outcomes["refused"] >= 700, outcomes  # the files are hostile: most must be refused
    assert not studio_home.exists()  # no catalog, no assets, no batch
    assert sorted(p for p in folder.rglob("*") if p.name != "project.toml") == before


def test_the_installed_command_refuses_in_one_line(tmp_path: Path, studio_home: Path) -> None:
    folder = tmp_path / "project"
    write_sketches(folder)
    data = copy.deepcopy(BASES["thumbnail-pack"])
    data["approval"]["deadline"] = "999999999999999999d"
    data["shots"][0]["reference"] = "sketches/bomb.png"
    data["project"]["seed"] = 2**64
    (folder / "project.toml").write_text(toml_text(data), encoding="utf-8")
    done = subprocess.run(
        [Path(sys.executable).parent / "studio", "run", "--check", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**_env(), "STUDIO_HOME": str(studio_home)},
    )
    assert_refusal(done.returncode, done.stdout, done.stderr)
    assert done.stderr == (
        f"studio: {folder}/project.toml: field 'project.seed': must be between 0 and 4294967295 "
        "(got 18446744073709551616)\n"
    )
    assert not studio_home.exists()


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "DATABASE_URL"))}
