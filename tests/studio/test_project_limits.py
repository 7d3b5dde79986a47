"""Values that used to pass the project check and then wedge a batch: each is now one line.

One test per way a batch got stuck: a deadline timedelta cannot hold, a seed SQLite cannot
store, a NUL in a path or a prompt, numbers and images too large to read, digits no vendor
reads, one provider listed twice, and error lines that printed values raw.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pytest

from studio.project.loader import Project, ProjectError, load_project, parse_project
from tests.studio.project_files import write_sketches

SRC = "proj/project.toml"
HEAD = '[project]\nname = "Test"\n'
ONE_SHOT = '[[shots]]\nid = "s01"\nprompt = "a cat"\n'


def parse(text: str, base_dir: Path = Path("/nowhere")) -> Project:
    return parse_project(text, source=SRC, base_dir=base_dir)


def refusal(text: str, base_dir: Path = Path("/nowhere")) -> str:
    """The one line a bad project gets, checked to be one printable line."""
    with pytest.raises(ProjectError) as info:
        parse(text, base_dir)
    message = str(info.value)
    assert message.isprintable() and len(message) < 500, message
    return message


# --- 3. deadlines ------------------------------------------------------------------------------


def test_a_deadline_beyond_a_year_is_refused() -> None:
    message = refusal(HEAD + '[approval]\nrequired = true\ndeadline = "999999999999999999d"\n' + ONE_SHOT)
    assert message == f"{SRC}: field 'approval.deadline': must be at most 365d (got '999999999999999999d')"
    assert "366d" in refusal(HEAD + '[approval]\ndeadline = "366d"\n' + ONE_SHOT)
    year = parse(HEAD + '[approval]\ndeadline = "365d"\n' + ONE_SHOT).approval.deadline_seconds
    assert year == 365 * 86400
    assert dt.datetime(2026, 1, 1) + dt.timedelta(seconds=year) == dt.datetime(2027, 1, 1)


# --- 4. seeds ------------------------------------------------------------------------------------


def test_seeds_fit_in_32_bits() -> None:
    message = refusal('[project]\nname = "T"\nseed = 18446744073709551616\n' + ONE_SHOT)
    assert message == f"{SRC}: field 'project.seed': must be between 0 and 4294967295 (got 18446744073709551616)"
    message = refusal(HEAD + ONE_SHOT + "seed = 4294967296\n")
    assert message == f"{SRC}: shot 's01': field 'seed': must be between 0 and 4294967295 (got 4294967296)"
    project = parse('[project]\nname = "T"\nseed = 4294967295\n' + ONE_SHOT + "seed = 0\n")
    assert (project.seed, project.shots[0].seed) == (2**32 - 1, 0)


# --- 5. control characters -----------------------------------------------------------------------


def test_a_nul_in_the_publish_path_is_refused() -> None:
    message = refusal(HEAD + '[publish]\npath = "out\\u0000x"\n' + ONE_SHOT)
    assert message == f"{SRC}: field 'publish.path': must not contain control characters (found '\\x00' at position 4)"


def test_a_nul_in_a_prompt_is_refused_but_line_breaks_and_tabs_are_prose() -> None:
    message = refusal(HEAD + '[[shots]]\nid = "s01"\nprompt = "a\\u0000cat"\n')
    assert message == (
        f"{SRC}: shot 's01': field 'prompt': must not contain control characters other than "
        "tabs and line breaks (found '\\x00' at position 2)"
    )
    assert "field 'negative'" in refusal(HEAD + ONE_SHOT + 'negative = "blur\\u001b[2J"\n')
    assert "field 'defaults.style'" in refusal(HEAD + '[defaults]\nstyle = "x\\u0007"\n' + ONE_SHOT)
    shot = parse(HEAD + '[[shots]]\nid = "s01"\nprompt = """a cat\n\ton a mat"""\n').shots[0]
    assert shot.prompt == "a cat\n\ton a mat"


def test_names_ids_and_paths_are_single_clean_lines() -> None:
    assert "field 'project.name'" in refusal('[project]\nname = "Lighthouse\\nKeeper"\n' + ONE_SHOT)
    assert "field 'project.name'" in refusal('[project]\nname = "a\\u2028b"\n' + ONE_SHOT)
    assert "field 'shots[1].id'" in refusal(HEAD + '[[shots]]\nid = "s\\u0000"\nprompt = "x"\n')
    assert "field 'reference'" in refusal(HEAD + ONE_SHOT + 'reference = "sketches/\\u001b[31m.png"\n')
    assert "field 'publish.path'" in refusal(HEAD + '[publish]\npath = "out\\u2029"\n' + ONE_SHOT)


def test_a_path_the_file_system_cannot_create_is_refused() -> None:
    message = refusal(HEAD + '[publish]\npath = "out/' + "x" * 300 + '"\n' + ONE_SHOT)
    assert message.startswith(f"{SRC}: field 'publish.path': a file or folder name in it is longer than 255 bytes")
    assert "at most 1024 characters" in refusal(HEAD + '[publish]\npath = "' + "a/" * 600 + '"\n' + ONE_SHOT)


# --- 6. numbers and images too large to read -------------------------------------------------------


def test_thousands_of_digits_are_one_line() -> None:
    message = refusal(HEAD + ONE_SHOT + f'size = "{"9" * 5000}x64"\n')
    assert message.startswith(f"{SRC}: shot 's01': field 'size': width must be between 64 and 2048 (got 999")
    message = refusal(HEAD + f'[approval]\ndeadline = "{"9" * 5000}s"\n' + ONE_SHOT)
    assert message.startswith(f"{SRC}: field 'approval.deadline': must be at most 365d (got '999")
    assert refusal(HEAD + ONE_SHOT + f"variants = {'9' * 5000}\n") == (
        f"{SRC}: invalid TOML: a number has thousands of digits"
    )
    # Hexadecimal escapes Python's digit limit when parsed, not when printed.
    message = refusal(HEAD + ONE_SHOT + f"variants = 0x{'f' * 5000}\n")
    assert (
        message
        == f"{SRC}: shot 's01': field 'variants': must be between 1 and 16 (got a number with about 6021 digits)"
    )
    assert refusal(HEAD + ONE_SHOT + "variants = " + "[" * 5000 + "]" * 5000 + "\n") == (
        f"{SRC}: invalid TOML: arrays or tables nested too deeply"
    )
    assert "at most 100000 (got " in refusal(HEAD + "[budget]\nusd = " + "9" * 400 + "\n" + ONE_SHOT)


def test_reference_images_are_capped_at_50_megapixels(tmp_path: Path) -> None:
    write_sketches(tmp_path)
    message = refusal(HEAD + ONE_SHOT + 'reference = "sketches/bomb.png"\n', tmp_path)
    assert message == (
        f"{SRC}: shot 's01': field 'reference': image is larger than Pillow will open; "
        "a reference may have at most 50 MP"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's warning would be a second line on stderr
        message = refusal(HEAD + ONE_SHOT + 'reference = "sketches/big.png"\n', tmp_path)
    assert message == (
        f"{SRC}: shot 's01': field 'reference': image is 10000x10000 pixels (100 MP); "
        "a reference may have at most 50 MP"
    )
    assert parse(HEAD + ONE_SHOT + 'reference = "sketches/ok.png"\n', tmp_path).shots[0].reference


# --- 7. ASCII digits, one name per provider, capped text -------------------------------------------


def test_only_ascii_digits_count() -> None:
    message = refusal(HEAD + '[approval]\ndeadline = "٤٨h"\n' + ONE_SHOT)
    assert message == (
        f"{SRC}: field 'approval.deadline': invalid duration '٤٨h' (digits must be ASCII 0-9; "
        "use a number and s, m, h or d: 90s, 30m, 48h, 7d)"
    )
    message = refusal(HEAD + ONE_SHOT + 'size = "１０２４x１０２４"\n')
    assert message == (
        f"{SRC}: shot 's01': field 'size': expected WIDTHxHEIGHT such as '1024x576' "
        "(digits must be ASCII 0-9; got '１０２４x１０２４')"
    )


def test_a_provider_listed_under_two_names_is_refused() -> None:
    message = refusal('[project]\nname = "T"\nchain = ["pixtral", "mistral"]\n' + ONE_SHOT)
    assert message == (
        f"{SRC}: field 'project.chain': lists provider 'mistral' twice ('pixtral' and 'mistral' are the same provider)"
    )
    assert "field 'chain'" in refusal(HEAD + ONE_SHOT + 'chain = ["mistral", "fal", "pixtral"]\n')


@pytest.mark.parametrize(
    ("where", "field", "most"),
    [
        ("project", "name", 200),
        ("defaults", "style", 1000),
        ("defaults", "negative", 2000),
        ("approval", "on_expiry", 200),
        ("publish", "path", 1024),
    ],
)
def test_every_text_field_is_capped(where: str, field: str, most: int) -> None:
    text = f'[project]\nname = "T"\n[{where}]\n{field} = "{"a" * (most + 1)}"\n' + ONE_SHOT
    if where == "project":
        text = f'[project]\n{field} = "{"a" * (most + 1)}"\n' + ONE_SHOT
    assert refusal(text) == f"{SRC}: field '{where}.{field}': must be at most {most} characters (got {most + 1})"


def test_the_budget_is_bounded() -> None:
    assert refusal(HEAD + "[budget]\nusd = 1e300\n" + ONE_SHOT) == (
        f"{SRC}: field 'budget.usd': must be greater than 0 and at most 100000 (got 1e+300)"
    )
    assert parse(HEAD + "[budget]\nusd = 100000\n" + ONE_SHOT).budget_usd == 100_000.0


# --- 8. values shown in errors -------------------------------------------------------------------


def test_error_lines_escape_and_shorten_what_they_show(tmp_path: Path) -> None:
    # A right-to-left override is allowed in a path but must not reach the terminal as is.
    message = refusal(HEAD + ONE_SHOT + 'reference = "sketches/\\u202egnp.png"\n', tmp_path)
    assert message == f"{SRC}: shot 's01': field 'reference': file not found: {tmp_path}/sketches/\\u202egnp.png"
    deep = "/".join(f"folder{n:03}" for n in range(100))  # 1,000 characters, every name short
    message = refusal(HEAD + ONE_SHOT + f'reference = "{deep}/s01.png"\n', tmp_path)
    assert message.endswith("/s01.png") and "..." in message and len(message) < 250
    key = "\\u001b[31m" + "k" * 5000  # an escape sequence in a key, as TOML spells it
    message = refusal(HEAD + ONE_SHOT + f'"{key}" = 1\n')
    assert message.startswith(f"{SRC}: shot 's01': field '\\x1b[31mkkk") and len(message) < 200


def test_the_file_name_in_an_error_line_is_escaped(tmp_path: Path) -> None:
    folder = tmp_path / ("\u001b]0;pwned\u0007" + "p" * 3000)[:200]
    folder.mkdir()
    with pytest.raises(ProjectError) as info:
        load_project(folder)
    message = str(info.value)
    assert message.isprintable() and message.startswith(f"{tmp_path}/\\x1b]0;pwned\\x07ppp")
    assert message.endswith(": no project.toml in this folder") and len(message) < 300
    with pytest.raises(ProjectError) as info:
        load_project(tmp_path / ("x" * 5000))  # too long a name for the file system: no OSError traceback
    assert str(info.value).isprintable() and len(str(info.value)) < 300
