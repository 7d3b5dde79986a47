"""Tests for studio.project.loader: the sample projects, defaults and overrides, and one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from studio.errors import StudioError
from studio.project.loader import (
    ASPECT_SIZES,
    KNOWN_PROVIDERS,
    ApprovalSpec,
    Project,
    ProjectError,
    PublishSpec,
    load_project,
    parse_project,
)

SAMPLES = Path(__file__).resolve().parents[2] / "sample_projects"
SRC = "proj/project.toml"  # source name used in messages for parse_project tests

HEAD = '[project]\nname = "Test"\n'
ONE_SHOT = '[[shots]]\nid = "s01"\nprompt = "a cat"\n'


def parse(text: str, base_dir: Path | None = None) -> Project:
    return parse_project(text, source=SRC, base_dir=base_dir or Path("/nowhere"))


def error_of(text: str, base_dir: Path | None = None) -> ProjectError:
    with pytest.raises(ProjectError) as info:
        parse(text, base_dir)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message
    return info.value


# --- sample projects ---------------------------------------------------------------------------


def test_short_film_sample() -> None:
    project = load_project(SAMPLES / "short-film")
    assert project.name == "The Lighthouse Keeper"
    assert project.slug == "the-lighthouse-keeper"
    assert len(project.shots) == 12
    assert project.total_takes == 24
    assert project.seed is not None
    assert project.approval == ApprovalSpec(required=False)
    assert project.source == os.path.join(str(SAMPLES / "short-film"), "project.toml")
    for shot in project.shots:
        assert (shot.width, shot.height) == ASPECT_SIZES["16:9"]
        assert shot.variants == 2 and shot.upscale == 2
        assert shot.style and shot.full_prompt == f"{shot.prompt}, {shot.style}"
        assert shot.negative


def test_thumbnail_pack_sample() -> None:
    project = load_project(SAMPLES / "thumbnail-pack")
    assert len(project.shots) == 2
    assert project.total_takes == 16
    assert project.approval.required is True
    assert all(shot.upscale == 1 and shot.variants == 8 for shot in project.shots)
    assert all((shot.width, shot.height) == (1344, 768) for shot in project.shots)


def test_batch_200_sample() -> None:
    project = load_project(SAMPLES / "batch-200")
    assert len(project.shots) == 200
    assert project.total_takes == 200
    assert all((s.width, s.height, s.variants, s.upscale) == (512, 512, 1, 1) for s in project.shots)
    assert len({shot.prompt for shot in project.shots}) == 200


def test_load_accepts_the_toml_file_itself() -> None:
    file = SAMPLES / "thumbnail-pack" / "project.toml"
    project = load_project(str(file))
    assert project.source == str(file)
    assert project.approval.required and project.publish.path is None


# --- defaults, overrides, style, size ----------------------------------------------------------


def test_defaults_when_nothing_is_given() -> None:
    project = parse(HEAD + ONE_SHOT)
    (shot,) = project.shots
    assert (shot.width, shot.height) == (1024, 1024)
    assert (shot.variants, shot.upscale) == (1, 2)
    assert (shot.style, shot.negative, shot.seed, shot.chain, shot.reference) == ("", "", None, None, None)
    assert shot.full_prompt == "a cat"
    assert project.seed is None and project.chain is None and project.budget_usd is None
    assert project.approval == ApprovalSpec() and project.publish == PublishSpec()


def test_shot_overrides_defaults() -> None:
    text = (
        '[project]\nname = "Test"\nchain = ["mistral", "gemini"]\n'
        '[defaults]\nstyle = "oil painting"\nnegative = "text"\nsize = "1024x576"\nvariants = 3\nupscale = 2\n'
        '[[shots]]\nid = "a"\nprompt = "a cat"\n'
        '[[shots]]\nid = "b"\nprompt = "a dog"\nnegative = "blur"\naspect = "9:16"\nvariants = 5\n'
        'upscale = 4\nstyle = "pencil sketch"\nchain = ["pixtral", "fal"]\nseed = 7\n'
    )
    project = parse(text)
    a, b = project.shots
    assert (a.width, a.height, a.variants, a.upscale, a.negative) == (1024, 576, 3, 2, "text")
    assert a.chain == ("mistral", "gemini") and a.seed is None
    assert (b.width, b.height, b.variants, b.upscale, b.negative) == (768, 1344, 5, 4, "blur")
    assert b.chain == ("pixtral", "fal") and b.seed == 7  # pixtral kept as given
    assert b.full_prompt == "a dog, pencil sketch"
    assert project.total_takes == 8


def test_style_appended_and_can_be_switched_off_per_shot() -> None:
    text = (
        HEAD + '[defaults]\nstyle = "film still"\n' + ONE_SHOT + '[[shots]]\nid = "s02"\nprompt = "a dog"\nstyle = ""\n'
    )
    first, second = parse(text).shots
    assert first.full_prompt == "a cat, film still"
    assert second.full_prompt == "a dog"


def test_size_and_aspect() -> None:
    text = (
        HEAD + '[defaults]\naspect = "21:9"\n' + ONE_SHOT + '[[shots]]\nid = "s02"\nprompt = "x"\nsize = "640x2048"\n'
    )
    first, second = parse(text).shots
    assert (first.width, first.height) == (1536, 640)
    assert (second.width, second.height) == (640, 2048)


def test_approval_publish_budget_and_reference(tmp_path: Path) -> None:
    (tmp_path / "sketches").mkdir()
    Image.new("L", (32, 32), 200).save(tmp_path / "sketches" / "s01.png")
    (tmp_path / "project.toml").write_text(
        '[project]\nname = "Café Noir!"\nseed = 0\n'
        '[approval]\nrequired = true\ndeadline = "30m"\non_expiry = "reject"\n'
        '[publish]\npath = "out"\n[budget]\nusd = 5\n'
        '[[shots]]\nid = "s01"\nprompt = "a cat"\nreference = "sketches/s01.png"\n'
    )
    project = load_project(tmp_path)
    assert project.slug == "cafe-noir" and project.seed == 0
    assert project.approval == ApprovalSpec(required=True, deadline_seconds=1800, on_expiry="reject")
    assert project.publish == PublishSpec(target="folder", path=str(tmp_path / "out"))
    assert project.budget_usd == 5.0
    assert project.shots[0].reference == str(tmp_path / "sketches" / "s01.png")
    assert project.shots[0].reference_strength == 0.75


def test_reference_must_be_an_image_and_strength_a_fraction(tmp_path: Path) -> None:
    (tmp_path / "sketches").mkdir()
    (tmp_path / "sketches" / "s01.png").write_bytes(b"\x89PNG not really")
    err = error_of(HEAD + ONE_SHOT + 'reference = "sketches/s01.png"\n', base_dir=tmp_path)
    assert "field 'reference': not an image Pillow can read" in str(err)
    err = error_of(HEAD + ONE_SHOT + "reference_strength = 1.5\n", base_dir=tmp_path)
    assert str(err) == f"{SRC}: shot 's01': field 'reference_strength': must be greater than 0 and at most 1 (got 1.5)"


def test_errors_are_studio_errors() -> None:
    assert issubclass(ProjectError, StudioError)
    assert "pixtral" in KNOWN_PROVIDERS


# --- one-line errors -----------------------------------------------------------------------------


def test_bad_toml() -> None:
    err = error_of(HEAD + ONE_SHOT + "variants 3\n")
    assert str(err) == f"{SRC}: line 6: invalid TOML: Expected '=' after a key in a key/value pair"
    assert err.line == 6 and err.shot is None and err.field is None


def test_unknown_top_level_key() -> None:
    err = error_of(HEAD + ONE_SHOT + '[defualts]\nstyle = "x"\n')
    assert str(err) == f"{SRC}: field 'defualts': unknown field (did you mean 'defaults'?)"
    assert err.field == "defualts"


def test_unknown_key_in_section() -> None:
    err = error_of(HEAD + '[defaults]\ncolour = "red"\n' + ONE_SHOT)
    assert str(err) == f"{SRC}: field 'defaults.colour': unknown field"


def test_unknown_key_in_shot() -> None:
    err = error_of(HEAD + ONE_SHOT + '[[shots]]\nid = "s03"\nprompt = "x"\nvarients = 2\n')
    assert str(err) == f"{SRC}: shot 's03': field 'varients': unknown field (did you mean 'variants'?)"
    assert (err.file, err.shot, err.field) == (SRC, "s03", "varients")


def test_shot_without_id_is_named_by_position() -> None:
    err = error_of(HEAD + ONE_SHOT + '[[shots]]\nprompt = "x"\n')
    assert str(err) == f"{SRC}: field 'shots[2].id': is required"


def test_wrong_type() -> None:
    err = error_of(HEAD + ONE_SHOT + 'variants = "2"\n')
    assert str(err) == f"{SRC}: shot 's01': field 'variants': expected an integer, got a string ('2')"
    err = error_of(HEAD + '[approval]\nrequired = "yes"\n' + ONE_SHOT)
    assert str(err) == f"{SRC}: field 'approval.required': expected true or false, got a string ('yes')"


def test_variants_out_of_range() -> None:
    err = error_of(HEAD + ONE_SHOT + "variants = 40\n")
    assert str(err) == f"{SRC}: shot 's01': field 'variants': must be between 1 and 16 (got 40)"


def test_unknown_aspect() -> None:
    err = error_of(HEAD + '[defaults]\naspect = "5:4"\n' + ONE_SHOT)
    expected = ", ".join(ASPECT_SIZES)
    assert str(err) == f"{SRC}: field 'defaults.aspect': unknown aspect '5:4' (use one of {expected})"


def test_size_not_multiple_of_8() -> None:
    err = error_of(HEAD + ONE_SHOT + 'size = "1020x512"\n')
    assert str(err) == f"{SRC}: shot 's01': field 'size': width must be a multiple of 8 (got 1020)"
    err = error_of(HEAD + ONE_SHOT + 'size = "512 by 512"\n')
    assert str(err) == f"{SRC}: shot 's01': field 'size': expected WIDTHxHEIGHT such as '1024x576' (got '512 by 512')"


def test_size_and_aspect_together() -> None:
    err = error_of(HEAD + '[defaults]\naspect = "1:1"\nsize = "512x512"\n' + ONE_SHOT)
    assert str(err) == f"{SRC}: field 'defaults.size': set either 'aspect' or 'size', not both"


def test_duplicate_shot_ids() -> None:
    err = error_of(HEAD + ONE_SHOT + '[[shots]]\nid = "s02"\nprompt = "x"\n' + ONE_SHOT)
    assert str(err) == f"{SRC}: shot 's01': field 'id': duplicate shot id (already used by shots[1])"


def test_missing_prompt() -> None:
    err = error_of(HEAD + '[[shots]]\nid = "s01"\n')
    assert str(err) == f"{SRC}: shot 's01': field 'prompt': is required"


def test_missing_shots() -> None:
    err = error_of(HEAD)
    assert str(err) == f"{SRC}: field 'shots': at least one [[shots]] entry is required"


def test_missing_reference_file(tmp_path: Path) -> None:
    err = error_of(HEAD + ONE_SHOT + 'reference = "sketches/s01.png"\n', base_dir=tmp_path)
    missing = tmp_path / "sketches" / "s01.png"
    assert str(err) == f"{SRC}: shot 's01': field 'reference': file not found: {missing}"


def test_unknown_provider_in_chain() -> None:
    err = error_of('[project]\nname = "T"\nchain = ["mistral", "dalle"]\n' + ONE_SHOT)
    providers = ", ".join(KNOWN_PROVIDERS)
    assert str(err) == f"{SRC}: field 'project.chain': unknown provider 'dalle' (use one of {providers})"
    err = error_of(HEAD + ONE_SHOT + 'chain = ["openai"]\n')
    assert str(err).startswith(f"{SRC}: shot 's01': field 'chain': unknown provider 'openai'")


def test_bad_deadline() -> None:
    err = error_of(HEAD + '[approval]\nrequired = true\ndeadline = "2 days"\n' + ONE_SHOT)
    assert str(err) == (
        f"{SRC}: field 'approval.deadline': invalid duration '2 days' (use a number and s, m, h or d: 90s, 30m, 48h, 7d)"
    )


def test_missing_project_toml(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as info:
        load_project("nope/")
    assert str(info.value) == "nope/: no project.toml in this folder"
    with pytest.raises(ProjectError) as info:
        load_project(tmp_path)
    assert str(info.value) == f"{tmp_path}: no project.toml in this folder"


def test_load_reports_the_file_path(tmp_path: Path) -> None:
    (tmp_path / "project.toml").write_text(HEAD + ONE_SHOT + "upscale = 9\n")
    with pytest.raises(ProjectError) as info:
        load_project(str(tmp_path))
    assert str(info.value) == f"{tmp_path}/project.toml: shot 's01': field 'upscale': must be between 1 and 4 (got 9)"


def test_newlines_in_values_never_break_the_line() -> None:
    err = error_of(HEAD + ONE_SHOT + 'aspect = """5:4\nwide"""\n')
    assert "\n" not in str(err) and "'5:4\\nwide'" in str(err)


def test_top_level_key_under_a_table_gets_a_hint() -> None:
    err = error_of(HEAD + "shots = []\n")
    assert str(err) == (
        f"{SRC}: field 'project.shots': unknown field ('shots' belongs at the top level, not under a [table] header)"
    )


def test_only_folder_publish_target() -> None:
    err = error_of(HEAD + '[publish]\ntarget = "s3"\n' + ONE_SHOT)
    assert str(err) == f"{SRC}: field 'publish.target': only 'folder' is supported for now (got 's3')"
