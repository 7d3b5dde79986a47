"""What the Launch page needs before anything starts: the samples, uploads, and an estimate."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from providers import table
from studio.project.loader import (
    PROJECT_FILE,
    Project,
    ProjectError,
    UploadRules,
    load_project,
    parse_project,
)
from studio.rendering.chain import chain_notices, resolve_chain
from studio.settings import Settings
from studio.spending.prices import price_of

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "sample_projects"  # studio/batches/ -> the repository
UPLOADS_DIR = "uploads"
MAX_UPLOAD_BYTES = 1_000_000

# The vendors with an upscaler and the order reviewers are tried in, from the provider table.
UPSCALE_VENDORS = tuple(spec.name for spec in table.PROVIDERS if spec.upscale and not spec.in_process)
REVIEW_ORDER = table.REVIEW_ORDER


@dataclass(frozen=True)
class CallPlan:
    """Which provider a worker configured like these settings calls first, at each stage.

    Attributes:
        available: Renderers with a key (``local`` always).
        upscaler: The first upscaler tried when a shot upscales.
        reviewer: The first reviewer tried for every take.
        models: The render model per provider, where settings choose it (it can change the price).
        prices: Price overrides (settings' ``prices``).
    """

    available: tuple[str, ...] = (table.FALLBACK,)
    upscaler: str = table.FALLBACK
    reviewer: str = table.FALLBACK
    models: Mapping[str, str] = field(default_factory=dict)
    prices: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CostLine:
    """Calls of one kind in an estimate: ``calls`` × ``stage`` on ``provider`` at ``unit_usd`` each."""

    stage: str
    provider: str
    calls: int
    unit_usd: float

    @property
    def usd(self) -> float:
        """What these calls cost together."""
        return self.calls * self.unit_usd


@dataclass(frozen=True)
class Estimate:
    """What launching a project will do.

    Attributes:
        shots: Shots in the storyboard.
        takes: Images to render (shots × variants).
        approval_required: Whether shots stop at a gate for a human.
        cost: What it will cost, in words.
        cost_usd: What it will cost, if every call succeeds with the first provider tried.
        budget_usd: The project's budget, or ``None``.
        lines: The calls counted, paid or not, in the order shots first need them.
    """

    shots: int
    takes: int
    approval_required: bool
    cost: str
    cost_usd: float = 0.0
    budget_usd: float | None = None
    lines: tuple[CostLine, ...] = ()

    @property
    def over_budget(self) -> bool:
        """Whether the estimate is above the project's budget (the batch will pause at it)."""
        return self.budget_usd is not None and self.cost_usd > self.budget_usd


def call_plan(settings: Settings) -> CallPlan:
    """The providers a worker with these settings would call first, read from which keys are set."""
    # Only whether a key is set is read here: the keys stay with the worker
    # (pipelines.activities.provider_registry), which builds an adapter for each key set.
    ready = [spec.name for spec in table.PROVIDERS if settings.provider_configured(spec.name)]
    upscalers = [name for name in settings.upscale_chain if name in UPSCALE_VENDORS and name in ready]
    models = {spec.name: settings.provider_model(spec.name) for spec in table.PROVIDERS}
    return CallPlan(
        available=tuple(name for name in ready if table.BY_NAME[name].render),
        upscaler=(upscalers or [table.FALLBACK])[0],
        reviewer=next(name for name in REVIEW_ORDER if name in ready),
        models={name: model for name, model in models.items() if model is not None},
        prices=dict(settings.prices),
    )


def key_variables() -> dict[str, str]:
    """The environment variable holding each vendor's key (``gemini`` → ``GEMINI_API_KEY``)."""
    return table.key_variables()


def render_notices(project: Project, settings: Settings) -> list[str]:
    """What to tell the user at launch when shots will not render on the providers they ask for
    (no key set for some of them): who renders instead, and which key is missing. Nothing when
    every shot gets its chain. Read from this process's keys, as :func:`call_plan` is."""
    shots = [(shot.id, shot.chain) for shot in project.shots]
    return chain_notices(shots, call_plan(settings).available, key_variables())


def sample_projects(root: Path = SAMPLES_DIR) -> dict[str, Path]:
    """The sample projects by folder name (those holding a project.toml), sorted."""
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / PROJECT_FILE).is_file()}


def cost_lines(project: Project, plan: CallPlan) -> list[CostLine]:
    """Every call a batch of ``project`` makes when each goes to the first provider tried.

    Per take: one render on the first provider of its shot's resolved chain, one upscale when
    the shot upscales, one review. Failovers, retries and rounds of changes come on top.
    """
    calls: dict[tuple[str, str, float], int] = {}
    for shot in project.shots:
        renderer = resolve_chain(shot.chain, plan.available)[0][0]
        stages = [("render", renderer, plan.models.get(renderer))]
        if shot.upscale > 1:
            stages.append(("upscale", plan.upscaler, None))
        stages.append(("review", plan.reviewer, None))
        for stage, provider, model in stages:
            key = (stage, provider, price_of(stage, provider, model, plan.prices))
            calls[key] = calls.get(key, 0) + shot.variants
    return [CostLine(stage, provider, n, unit) for (stage, provider, unit), n in calls.items()]


def _unit(usd: float) -> str:
    # Per-call prices go down to tenths of a cent ($0.002 a review): keep them, drop trailing zeros.
    digits = f"{usd:.4f}".rstrip("0")
    return f"${usd:.2f}" if len(digits.split(".")[1]) < 2 else f"${digits}"


def cost_words(lines: list[CostLine]) -> str:
    """An estimate in words: ``free with the local provider``, or ``about $X.XX (N × provider …)``."""
    total = sum(line.usd for line in lines)
    if total <= 0:
        renderers = {line.provider for line in lines if line.stage == "render"}
        free_words = f"free with the {table.FALLBACK} provider"
        return free_words if renderers <= {table.FALLBACK} else "free (every call is priced at $0)"
    paid = [f"{line.calls} × {line.provider} {line.stage} at {_unit(line.unit_usd)}" for line in lines if line.usd > 0]
    about = f"about ${total:,.2f}" if total >= 0.005 else "less than $0.01"
    return f"{about} ({' + '.join(paid)})"


def estimate(project: Project, plan: CallPlan | None = None) -> Estimate:
    """Shots, takes and cost of launching ``project``.

    Args:
        project: The validated project.
        plan: Who a worker would call (:func:`call_plan` of the dashboard's settings); by default
            the local provider alone, at the default prices.
    """
    lines = cost_lines(project, plan or CallPlan())
    return Estimate(
        shots=len(project.shots),
        takes=project.total_takes,
        approval_required=project.approval.required,
        cost=cost_words(lines),
        cost_usd=round(sum(line.usd for line in lines), 6),
        budget_usd=project.budget_usd,
        lines=tuple(lines),
    )


def upload_folder(settings: Settings, data: bytes) -> Path:
    """Where an uploaded project file is kept: ``HOME/uploads/<hash of its bytes>``.

    Named by content, so uploading the same file twice reuses the folder and a launched
    batch's source never changes under it.
    """
    return settings.home / UPLOADS_DIR / hashlib.sha256(data).hexdigest()[:16]


def upload_rules(settings: Settings, folder: Path) -> UploadRules:
    """What the uploaded project in ``folder`` may read (its folder) and publish into.

    Whoever can upload on the dashboard need not have any other access to the server: the
    upload must not read an image elsewhere into the asset store, or write anywhere on disk.
    """
    return UploadRules(
        folder=folder,
        published=settings.published_dir,
        publish_roots=(settings.published_dir, *settings.upload_publish_roots),
    )


def rules_for(settings: Settings, project: str | Path) -> UploadRules | None:
    """The upload rules of a project inside ``HOME/uploads``, or None for any other project."""
    given = Path(project).resolve()
    folder = given if given.is_dir() else given.parent
    uploads = (settings.home / UPLOADS_DIR).resolve()
    return upload_rules(settings, folder) if folder.is_relative_to(uploads) else None


def _upload_text(name: str, data: bytes) -> str:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ProjectError(name, f"file is larger than {MAX_UPLOAD_BYTES // 1000} kB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProjectError(name, "not UTF-8 text (TOML files must be UTF-8)") from None


def load_upload(settings: Settings, name: str, data: bytes) -> Project:
    """Parse an uploaded project file without keeping it, under :func:`upload_rules`.

    A ``reference`` must resolve inside its upload folder, which holds nothing else: a project
    that needs its own files is launched from its folder. A relative ``publish.path`` starts
    from the studio's published folder, and every ``publish.path`` must stay inside it or a
    root the operator allows (``STUDIO_UPLOAD_PUBLISH_ROOTS``).

    Raises:
        ProjectError: Too large, not UTF-8, or an invalid project.
    """
    folder = upload_folder(settings, data)
    return parse_project(_upload_text(name, data), source=name, base_dir=folder, uploads=upload_rules(settings, folder))


def save_upload(settings: Settings, name: str, data: bytes) -> Path:
    """Validate and keep an uploaded project file; returns the folder holding its project.toml.

    Raises:
        ProjectError: Too large, not UTF-8, or an invalid project (nothing is kept then).
    """
    load_upload(settings, name, data)
    folder = upload_folder(settings, data)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / PROJECT_FILE
    if not target.exists():
        target.write_bytes(data)
    return folder


def load_sample(name: str, root: Path = SAMPLES_DIR) -> Project:
    """Load the sample project ``name``.

    Raises:
        ProjectError: No such sample, or it is invalid.
    """
    return load_project(root / name)
