"""The Launch page's cost estimate, and the budget gate's numbers, as plain functions."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from pipelines.activities.provider_registry import build_providers
from studio.batches.preview import CallPlan, CostLine, call_plan, cost_words, estimate, sample_projects
from studio.project.loader import Project, parse_project
from studio.settings import Settings
from studio.spending.budget import Spend
from studio.views.batches import budget_panel

PROJECT = """
[project]
name = "Estimate"
seed = 1
[defaults]
size = "512x512"
variants = 4
upscale = 1
[budget]
usd = 0.50
[[shots]]
id = "plain"
prompt = "a lighthouse"
[[shots]]
id = "big"
prompt = "a harbour"
variants = 2
upscale = 2
[[shots]]
id = "fal-first"
prompt = "a boat"
variants = 1
chain = ["fal", "gemini"]
"""


def project(text: str = PROJECT) -> Project:
    return parse_project(text, source="project.toml", base_dir=Path("."))


def test_local_only_is_free() -> None:
    guess = estimate(project())
    assert (guess.shots, guess.takes, guess.cost_usd) == (3, 7, 0.0)
    assert guess.cost == "free with the local provider"
    assert guess.budget_usd == 0.50 and not guess.over_budget
    # Every call is counted, paid or not: 7 renders, 2 upscales, 7 reviews, all local.
    assert [(line.stage, line.provider, line.calls) for line in guess.lines] == [
        ("render", "local", 7),
        ("review", "local", 7),
        ("upscale", "local", 2),
    ]


def test_each_shot_renders_with_the_first_provider_of_its_resolved_chain() -> None:
    plan = CallPlan(available=("local", "mistral", "gemini"), reviewer="mistral")
    guess = estimate(project(), plan)
    renders = {line.provider: line.calls for line in guess.lines if line.stage == "render"}
    # The default chain starts at Mistral; "fal-first" has no fal key, so Gemini renders it.
    assert renders == {"mistral": 6, "gemini": 1}
    assert guess.cost_usd == pytest.approx(6 * 0.10 + 1 * 0.039 + 7 * 0.002)
    assert guess.cost == (
        "about $0.65 (6 × mistral render at $0.10 + 7 × mistral review at $0.002 + 1 × gemini render at $0.039)"
    )
    assert guess.over_budget


def test_upscales_and_model_prices_and_overrides() -> None:
    plan = CallPlan(
        available=("local", "replicate", "fal"),
        upscaler="replicate",
        models={"replicate": "black-forest-labs/flux-dev", "fal": "fal-ai/flux/schnell"},
    )
    lines = {(line.stage, line.provider): line for line in estimate(project(), plan).lines}
    assert lines["render", "replicate"].unit_usd == 0.025  # the model's price, not the provider's
    assert (lines["render", "fal"].calls, lines["render", "fal"].unit_usd) == (1, 0.003)
    assert (lines["upscale", "replicate"].calls, lines["upscale", "replicate"].unit_usd) == (2, 0.002)

    priced = CallPlan(prices={"local": 0.02})  # settings can price the local provider (as tests do)
    guess = estimate(project(), priced)
    assert guess.cost_usd == pytest.approx(7 * 0.02)
    assert guess.cost == "about $0.14 (7 × local render at $0.02)"


def test_cost_in_words() -> None:
    assert cost_words([CostLine("render", "gemini", 3, 0.0)]) == "free (every call is priced at $0)"
    assert cost_words([CostLine("review", "mistral", 1, 0.002)]) == "less than $0.01 (1 × mistral review at $0.002)"


def test_call_plan_reads_which_keys_are_set_like_the_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MISTRAL_API_KEY", "GEMINI_API_KEY", "REPLICATE_API_TOKEN", "FAL_KEY", "STUDIO_PRICES"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(home=tmp_path, _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    assert call_plan(settings) == CallPlan(models=call_plan(settings).models, prices={})
    keyed = settings.model_copy(
        update={
            "gemini_api_key": SecretStr("g"),
            "fal_key": SecretStr("f"),
            "prices": {"fal": 0.01},
            "upscale_chain": ["fal", "replicate", "local"],
        }
    )
    plan = call_plan(keyed)
    workers = build_providers(keyed)
    assert sorted(plan.available) == sorted(workers.available())
    assert plan.reviewer == workers.review_chain()[0] == "gemini"
    assert plan.upscaler == workers.upscale_chain()[0] == "fal"
    assert plan.models["fal"] == keyed.fal_model and plan.prices == {"fal": 0.01}


def test_the_launch_page_lists_the_repository_sample_projects() -> None:
    samples = sample_projects()
    assert {"short-film", "thumbnail-pack"} <= set(samples)
    assert all(
        path.parent.name == "sample_projects" and path.parent.parent.name != "studio" for path in samples.values()
    )


@pytest.mark.parametrize(
    ("committed", "budget", "floor", "suggested"),
    [
        (0.04, 0.05, 0.05, 0.10),
        (0.29, 0.30, 0.30, 0.60),
        (0.041, 0.05, 0.05, 0.10),
        (0.0, None, 0.01, 0.01),
        (1.5, 0.5, 1.51, 1.51),
    ],
)
def test_budget_panel_offers_a_budget_above_what_is_committed(
    committed: float, budget: float | None, floor: float, suggested: float
) -> None:
    panel = budget_panel(
        Spend(spent_usd=committed, committed_usd=committed, budget_usd=budget, stopped=False, waiting=["a"])
    )
    assert (panel.floor_usd, panel.suggested_usd) == (floor, suggested)
    assert panel.floor_usd > committed and panel.waiting == ("a",)
