"""Self-hosted providers in a project file: [providers.comfyui] / [providers.a1111] options, and the
ComfyUI workflow each comfyui shot renders, read and checked when the project is checked."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from studio.project.json_schema import SCHEMA_FILE, project_json_schema
from studio.project.loader import Project, ProjectError, load_project, parse_project
from studio.project.paths import UploadRules
from tests.support.gpu_projects import WORKFLOW
from tests.support.projects import SAMPLES

HEAD = '[project]\nname = "Film"\nchain = ["comfyui", "gemini"]\n'
SHOT = '[[shots]]\nid = "s01"\nprompt = "a ferry at night"\n'
COMFY = '[providers.comfyui]\nworkflow = "workflows/sdxl.json"\n'


def folder_with(tmp_path: Path, workflow: Any = WORKFLOW, name: str = "sdxl.json") -> Path:
    """A project folder holding ``workflows/<name>`` (JSON of ``workflow``, or the text given)."""
    (tmp_path / "workflows").mkdir(parents=True, exist_ok=True)
    text = workflow if isinstance(workflow, str) else json.dumps(workflow)
    (tmp_path / "workflows" / name).write_text(text)
    return tmp_path


def parse(text: str, base_dir: Path, **options: Any) -> Project:
    return parse_project(text, source="film/project.toml", base_dir=base_dir, **options)


def refusal(text: str, base_dir: Path, **options: Any) -> str:
    with pytest.raises(ProjectError) as info:
        parse(text, base_dir, **options)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- what a project says -----------------------------------------------------------------------


def test_options_and_the_workflow_are_read_and_kept(tmp_path: Path) -> None:
    folder = folder_with(tmp_path)
    text = (
        HEAD
        + COMFY
        + 'steps = 30\ncfg = 6.5\nsampler = " dpmpp_2m "\nscheduler = "karras"\ncheckpoint = "sd_xl_base_1.0.safetensors"\n'
        + "[providers.a1111]\nsteps = 20\ncfg = 7\n"
        + SHOT
    )
    project = parse(text, folder)
    path = str(folder / "workflows" / "sdxl.json")
    assert project.options == {
        "comfyui": {
            "steps": 30,
            "cfg": 6.5,
            "sampler": "dpmpp_2m",
            "scheduler": "karras",
            "checkpoint": "sd_xl_base_1.0.safetensors",
        },
        "a1111": {"steps": 20, "cfg": 7.0},
    }
    assert project.shots[0].workflow == path
    assert project.workflows == {path: WORKFLOW}


def test_a_shot_may_name_its_own_workflow(tmp_path: Path) -> None:
    folder = folder_with(folder_with(tmp_path), name="portrait.json")
    text = HEAD + COMFY + SHOT + '[[shots]]\nid = "s02"\nprompt = "a face"\nworkflow = "workflows/portrait.json"\n'
    project = parse(text, folder)
    assert [Path(shot.workflow or "").name for shot in project.shots] == ["sdxl.json", "portrait.json"]
    assert len(project.workflows) == 2


def test_projects_without_self_hosted_providers_have_no_options(tmp_path: Path) -> None:
    project = parse('[project]\nname = "Film"\nchain = ["gemini"]\n' + SHOT, tmp_path)
    assert (project.options, project.workflows, project.shots[0].workflow) == ({}, {}, None)


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [HEAD + SHOT, '[project]\nname = "Film"\n' + SHOT + 'chain = ["comfyui"]\n'],
    ids=["project chain", "shot chain"],
)
def test_a_comfyui_chain_without_a_workflow_is_refused(tmp_path: Path, text: str) -> None:
    message = refusal(text, tmp_path)
    assert message.startswith("film/project.toml: shot 's01': field 'workflow': the chain holds comfyui")
    assert "[providers.comfyui]" in message
    # Not even a batch re-reading the project it launched takes it without one.
    assert refusal(text, tmp_path, check_files=False) == message


def test_a_workflow_in_ui_format_is_refused_naming_the_file(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"nodes": [{"id": 3, "type": "KSampler"}], "links": [], "version": 0.4})
    message = refusal(HEAD + COMFY + SHOT, folder)
    assert message.startswith("film/project.toml: field 'providers.comfyui.workflow': workflows/sdxl.json: ")
    assert "UI format" in message and "Export (API)" in message


def test_a_placeholder_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    wrong = copy.deepcopy(WORKFLOW)
    wrong["3"]["inputs"]["seed"] = "$prompt"
    message = refusal(HEAD + COMFY + SHOT, folder_with(tmp_path, wrong))
    assert message.startswith("film/project.toml: field 'providers.comfyui.workflow': workflows/sdxl.json: ")
    assert "'seed'" in message and "$prompt" in message


def test_a_shots_own_bad_workflow_is_refused_on_that_shot(tmp_path: Path) -> None:
    folder = folder_with(folder_with(tmp_path), "{not json", name="broken.json")
    message = refusal(HEAD + COMFY + SHOT + 'workflow = "workflows/broken.json"\n', folder)
    assert message.startswith("film/project.toml: shot 's01': field 'workflow': workflows/broken.json: is not JSON")


def test_a_missing_workflow_file_is_refused(tmp_path: Path) -> None:
    message = refusal(HEAD + COMFY + SHOT, tmp_path)
    missing = tmp_path / "workflows" / "sdxl.json"
    assert message == f"film/project.toml: field 'providers.comfyui.workflow': file not found: {missing}"


def test_a_batch_re_reading_its_project_does_not_read_the_workflow(tmp_path: Path) -> None:
    project = parse(HEAD + COMFY + SHOT, tmp_path, check_files=False)  # no file there: stored at launch
    assert project.shots[0].workflow == str(tmp_path / "workflows" / "sdxl.json")
    assert project.workflows == {}


BAD_OPTIONS = {
    "steps zero": ("[providers.comfyui]\nsteps = 0\n", "'providers.comfyui.steps': must be between 1 and 500 (got 0)"),
    "steps too many": ("[providers.a1111]\nsteps = 501\n", "'providers.a1111.steps': must be between 1 and 500"),
    "steps a string": ('[providers.a1111]\nsteps = "30"\n', "'providers.a1111.steps': expected an integer"),
    "cfg zero": ("[providers.comfyui]\ncfg = 0\n", "'providers.comfyui.cfg': must be greater than 0 and at most 30"),
    "cfg too high": ("[providers.a1111]\ncfg = 31\n", "'providers.a1111.cfg': must be greater than 0 and at most 30"),
    "blank sampler": ('[providers.comfyui]\nsampler = " "\n', "'providers.comfyui.sampler': must not be empty"),
    "typo": ("[providers.comfyui]\nstpes = 30\n", "'providers.comfyui.stpes': unknown field (did you mean 'steps'?)"),
    "workflow for a1111": ('[providers.a1111]\nworkflow = "x.json"\n', "'providers.a1111.workflow': unknown field"),
    "provider without options": ("[providers.gemini]\nsteps = 3\n", "'providers.gemini': unknown field"),
    "empty workflow path": ('[providers.comfyui]\nworkflow = ""\n', "'providers.comfyui.workflow': must not be empty"),
}


@pytest.mark.parametrize(("table", "expected"), BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_options_are_checked(tmp_path: Path, table: str, expected: str) -> None:
    text = '[project]\nname = "Film"\nchain = ["gemini"]\n' + table + SHOT
    assert refusal(text, tmp_path).startswith(f"film/project.toml: field {expected}")


def test_an_uploaded_project_reads_no_workflow_outside_its_folder(tmp_path: Path) -> None:
    folder = folder_with(tmp_path / "elsewhere")
    upload = tmp_path / "uploads" / "u1"
    upload.mkdir(parents=True)
    rules = UploadRules(folder=upload, published=tmp_path / "published", publish_roots=(tmp_path / "published",))
    text = HEAD + f'[providers.comfyui]\nworkflow = "{folder / "workflows" / "sdxl.json"}"\n' + SHOT
    message = refusal(text, upload, uploads=rules)
    assert "field 'providers.comfyui.workflow': must be inside the uploaded project's folder" in message


# --- the samples and the schema -----------------------------------------------------------------


def test_the_comfyui_sample_holds_an_sdxl_workflow_with_placeholders() -> None:
    project = load_project(SAMPLES / "comfyui-film")
    assert project.chain == ("comfyui", "gemini") and 3 <= len(project.shots) <= 4
    assert project.options == {"comfyui": {"steps": 30, "cfg": 7.0}}
    (graph,) = project.workflows.values()
    classes = {node["class_type"] for node in graph.values()}
    assert {"CheckpointLoaderSimple", "EmptyLatentImage", "CLIPTextEncode", "KSampler", "VAEDecode", "SaveImage"} <= (
        classes
    )
    values = json.dumps(graph)
    assert all(f'"${name}"' in values for name in ("prompt", "negative", "seed", "steps", "cfg", "width", "height"))
    assert all(shot.workflow == next(iter(project.workflows)) for shot in project.shots)


@pytest.mark.parametrize("sample", sorted(p.parent.name for p in SAMPLES.glob("*/project.toml")))
def test_every_sample_project_checks_and_fits_the_schema(sample: str) -> None:
    file = SAMPLES / sample / "project.toml"
    load_project(file)
    assert file.read_text(encoding="utf-8").startswith(f"#:schema ../{SCHEMA_FILE}\n")
    validator = jsonschema.Draft7Validator(project_json_schema())
    assert [error.message for error in validator.iter_errors(tomllib.loads(file.read_text(encoding="utf-8")))] == []


def test_the_schema_documents_the_options_and_refuses_what_the_checker_refuses(tmp_path: Path) -> None:
    schema = project_json_schema()
    tables = schema["properties"]["providers"]["properties"]
    assert set(tables["comfyui"]["properties"]) == {"workflow", "steps", "cfg", "sampler", "scheduler", "checkpoint"}
    assert set(tables["a1111"]["properties"]) == {"steps", "cfg", "sampler", "scheduler", "checkpoint"}
    assert "workflow" in schema["properties"]["shots"]["items"]["properties"]
    validator = jsonschema.Draft7Validator(schema)
    for table, _ in BAD_OPTIONS.values():
        data = tomllib.loads('[project]\nname = "Film"\n' + table + SHOT)
        assert list(validator.iter_errors(data)), table
