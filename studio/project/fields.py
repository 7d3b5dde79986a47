"""The project format as data: every table of ``project.toml``, its fields, and what each allows.

This is the one definition of the format. The checker (:mod:`studio.project.loader`, through
:func:`~studio.project.reading.read`) takes every field's kind, bounds, choices and length from
these tables, and the JSON Schema that TOML editors read (:mod:`studio.project.json_schema`) is
generated from the very same tables, so the two cannot drift apart. How a refusal *reads* stays with
:class:`~studio.project.schema.Section`: the messages are pinned by tests, one line each.
"""

from __future__ import annotations

from studio.priority import DEFAULT_PRIORITY, FAIRNESS_KEY_MAX_BYTES, PRIORITIES
from studio.project.field_types import Field, Kind, Table
from studio.project.paths import PATH_MAX
from studio.project.schema import (
    ASPECT_SIZES,
    EXPIRY_ACTIONS,
    KNOWN_PROVIDERS,
    MAX_DEADLINE_DAYS,
    NEGATIVE_MAX,
    PUBLISH_TARGETS,
    SIZE_MAX,
    SIZE_MIN,
    SIZE_STEP,
    STYLE_MAX,
)
from studio.rendering.chain import canonical

__all__ = ["A1111", "COMFYUI", "LOOK", "PROVIDERS", "SELF_HOSTED", "TABLES", "TOP_KEYS", "Field", "Kind", "Table"]

MAX_SHOTS = 10_000
MAX_PROMPT = 4000
MAX_NAME = 200
SEED_LIMIT = 2**32
"""Seeds are below this: every vendor takes an unsigned 32-bit seed, and SQLite stores 64 bits at most."""
MAX_BUDGET_USD = 100_000.0
"""Largest ``[budget] usd``; more is a typo, and the budget arithmetic stays exact well below it."""
DEFAULT_ASPECT = "1:1"
DEFAULT_VARIANTS = 1
DEFAULT_UPSCALE = 2
# A storyboard sketch fixes the composition; 0.75 lets the render replace its pencil look.
DEFAULT_REFERENCE_STRENGTH = 0.75
COMFYUI, A1111 = "comfyui", "a1111"
SELF_HOSTED = (COMFYUI, A1111)
"""Providers that render on the creator's own machines and take options in ``[providers.<name>]``."""
MAX_STEPS = 500
MAX_CFG = 30.0


def _chain(scope: str) -> Field:
    known = ", ".join(KNOWN_PROVIDERS)
    aliases = "".join(f"; {name} is {canonical(name)}" for name in KNOWN_PROVIDERS if canonical(name) != name)
    return Field(
        "chain",
        Kind.PROVIDERS,
        f"Providers to try, in order, {scope}. Known: {known}{aliases}. Not empty, and no provider twice "
        "(under either name).",
        choices=KNOWN_PROVIDERS,
    )


def _seed(meaning: str) -> Field:
    return Field("seed", Kind.INTEGER, meaning, minimum=0, maximum=SEED_LIMIT - 1)


LOOK: tuple[Field, ...] = (
    Field(
        "style",
        Kind.PROSE,
        f'Added to the end of every prompt ("<prompt>, <style>"); "" for none. At most {STYLE_MAX} characters.',
        max_len=STYLE_MAX,
        default="",
    ),
    Field(
        "negative",
        Kind.PROSE,
        f"Negative prompt: what to keep out of the image. At most {NEGATIVE_MAX} characters.",
        max_len=NEGATIVE_MAX,
        default="",
    ),
    Field(
        "aspect",
        Kind.ASPECT,
        "A named aspect ratio, rendered at a size near one megapixel. Set either aspect or size, not both.",
        choices=tuple(ASPECT_SIZES),
        excludes="size",
        default=DEFAULT_ASPECT,
    ),
    Field(
        "size",
        Kind.SIZE,
        f'An exact size "WIDTHxHEIGHT" such as "1024x576": each a multiple of {SIZE_STEP} from {SIZE_MIN} '
        f"to {SIZE_MAX}, ASCII digits. Set either aspect or size, not both.",
    ),
    Field(
        "variants",
        Kind.INTEGER,
        "How many takes to render for each shot.",
        minimum=1,
        maximum=16,
        default=DEFAULT_VARIANTS,
    ),
    Field(
        "upscale",
        Kind.INTEGER,
        "Upscale factor applied to each take; 1 means no upscale.",
        minimum=1,
        maximum=4,
        default=DEFAULT_UPSCALE,
    ),
    Field(
        "reference_strength",
        Kind.NUMBER,
        "How far a render may move from the shot's reference sketch: above 0, at most 1 (1 ignores it).",
        maximum=1.0,
        default=DEFAULT_REFERENCE_STRENGTH,
    ),
)
"""Keys that shape an image: set in ``[defaults]`` for every shot, and overridable in each shot."""

PROJECT = Table(
    "project",
    "What the project is: its name, and optionally a batch seed, a provider chain, a priority and a client.",
    (
        Field(
            "name",
            Kind.TEXT,
            f"Display name, one line of at most {MAX_NAME} characters. A folder-safe slug is derived "
            "from it, so it needs at least one letter or digit.",
            required=True,
            nonempty=True,
            max_len=MAX_NAME,
        ),
        _seed("Batch seed: with one, re-running the project gives the same takes; without, each batch draws one."),
        _chain("for every shot"),
        Field(
            "priority",
            Kind.CHOICE,
            "Where the batch's renders queue on each provider: rush before normal before low. "
            "`studio run --priority` overrides it; `studio priority BATCH` changes it while it runs.",
            choices=PRIORITIES,
            default=DEFAULT_PRIORITY,
        ),
        Field(
            "client",
            Kind.TEXT,
            "Who the batch is for: the batches of different clients share each provider in proportion to "
            f"their weights (STUDIO_CLIENT_WEIGHTS). At most {FAIRNESS_KEY_MAX_BYTES} bytes; absent: the "
            "project's folder name (its slug).",
            nonempty=True,
            max_len=FAIRNESS_KEY_MAX_BYTES,
        ),
        Field(
            "cache",
            Kind.BOOLEAN,
            "Reuse the image of an earlier take with exactly the same recipe (provider, model, seed, prompt, "
            "size, parameters, input image) from a provider that reproduces exactly, at no cost, instead of "
            "rendering it again. false (or `studio run --no-cache`) renders every take.",
            default=True,
        ),
    ),
    required=True,
)
DEFAULTS = Table("defaults", "Settings for every shot; each can be overridden inside a shot.", LOOK)
APPROVAL = Table(
    "approval",
    "Whether a person must review takes before they are published.",
    (
        Field("required", Kind.BOOLEAN, "Hold the batch for review before anything is published.", default=False),
        Field(
            "deadline",
            Kind.DURATION,
            'How long to wait for a review: a whole number and s, m, h or d ("90s", "30m", "48h", "7d"), '
            f"longer than zero and at most {MAX_DEADLINE_DAYS}d. Absent: wait forever.",
        ),
        Field(
            "on_expiry",
            Kind.CHOICE,
            "What happens when the deadline passes: hold (keep waiting), approve-best (publish the "
            "best-rated takes) or reject.",
            choices=EXPIRY_ACTIONS,
            default=EXPIRY_ACTIONS[0],
        ),
        Field(
            "watermark",
            Kind.BOOLEAN,
            'Show the client only previews marked "PREVIEW" until a take is approved; the approved '
            "final and its download are clean.",
            default=False,
        ),
    ),
)
PUBLISH = Table(
    "publish",
    "Where approved takes go.",
    (
        Field(
            "target",
            Kind.CHOICE,
            "Publishing target; only folder is supported for now.",
            choices=PUBLISH_TARGETS,
            default=PUBLISH_TARGETS[0],
        ),
        Field(
            "path",
            Kind.PATH,
            "Output folder; a relative path starts from the project folder, ~ is your home folder. "
            "Absent: the studio chooses.",
            nonempty=True,
            max_len=PATH_MAX,
        ),
        Field(
            "credentials",
            Kind.BOOLEAN,
            "Sign every published file with C2PA content credentials (the recipe, AI-made, the provider's "
            "own credentials as its source). false publishes without them.",
            default=True,
        ),
    ),
)
BUDGET = Table(
    "budget",
    "A spending cap for each batch.",
    (
        Field(
            "usd",
            Kind.NUMBER,
            f"The most a batch may spend with paid providers, in US dollars: above 0, at most {MAX_BUDGET_USD:g}.",
            maximum=MAX_BUDGET_USD,
        ),
    ),
)


def _render_options(server: str, absent: str, sampler: str) -> tuple[Field, ...]:
    """The sampling options both self-hosted servers take; ``absent`` says what an unset key means."""
    return (
        Field(
            "steps",
            Kind.INTEGER,
            f"Sampler steps for each image: 1 to {MAX_STEPS}. {absent}",
            minimum=1,
            maximum=MAX_STEPS,
        ),
        Field("cfg", Kind.NUMBER, f"Guidance scale (CFG): above 0, at most {MAX_CFG:g}. {absent}", maximum=MAX_CFG),
        Field("sampler", Kind.TEXT, f"Sampler, as {server} names it ({sampler}). {absent}", nonempty=True),
        Field(
            "scheduler",
            Kind.TEXT,
            f"Noise schedule, as {server} names it (normal, karras, ...). {absent}",
            nonempty=True,
        ),
        Field(
            "checkpoint",
            Kind.TEXT,
            f"Checkpoint (model file) to render with, as {server} lists it. {absent}",
            nonempty=True,
        ),
    )


def _workflow(scope: str) -> Field:
    return Field(
        "workflow",
        Kind.PATH,
        f'A ComfyUI workflow in API format (what ComfyUI\'s "Export (API)" writes), {scope}; a relative path '
        "starts from the project folder. A shot whose chain holds comfyui needs one.",
        nonempty=True,
        max_len=PATH_MAX,
    )


PROVIDERS = Table(
    "providers",
    "Options of the providers that render on your own machines: [providers.comfyui] and [providers.a1111].",
    (),
    tables=(
        Table(
            COMFYUI,
            "ComfyUI render nodes (COMFYUI_URLS): the workflow to run and values filled into its placeholders.",
            (
                _workflow("for every shot"),
                *_render_options("ComfyUI", "Absent: the workflow's own value.", "euler, dpmpp_2m, ..."),
            ),
        ),
        Table(
            A1111,
            "AUTOMATIC1111, Forge or SD.Next render nodes (A1111_URLS).",
            _render_options("the server", "Absent: the server's default.", "Euler a, DPM++ 2M, ..."),
        ),
    ),
)
SHOTS = Table(
    "shots",
    "One [[shots]] block per shot, rendered in file order; every [defaults] key can be overridden here.",
    (
        Field(
            "id",
            Kind.SHOT_ID,
            "A unique id of 1 to 40 characters: A-Z a-z 0-9 _ -.",
            required=True,
            pattern=r"[A-Za-z0-9_-]{1,40}",
        ),
        Field(
            "prompt",
            Kind.PROSE,
            f"What to draw; not empty, at most {MAX_PROMPT} characters.",
            required=True,
            nonempty=True,
            max_len=MAX_PROMPT,
        ),
        *LOOK,
        _chain("for this shot alone (instead of the project's)"),
        _seed("This shot's own seed, so it renders the same in every batch; absent: derived from the batch seed."),
        Field(
            "reference",
            Kind.PATH,
            "A storyboard sketch image for this shot; a relative path starts from the project folder.",
            nonempty=True,
            max_len=PATH_MAX,
        ),
        _workflow("for this shot alone (instead of [providers.comfyui] workflow)"),
    ),
    required=True,
    array=True,
    max_items=MAX_SHOTS,
)
TABLES: tuple[Table, ...] = (PROJECT, DEFAULTS, APPROVAL, PUBLISH, BUDGET, PROVIDERS, SHOTS)
"""Every top-level key of a project file, in the order the documentation gives them."""
TOP_KEYS = tuple(table.name for table in TABLES)
