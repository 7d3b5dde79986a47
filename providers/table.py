"""The provider table: what every provider is, in one place. Stdlib data, no vendor SDK.

Each provider declares its entry in its own folder (``providers/<name>/spec.py``); this module
gathers them, in the order that decides the default render chain, the reviewers' order and the
order names are listed in messages. Everything else reads it: chain resolution and project
validation (names, aliases), prices, the launch estimate, status, replays, the settings (key,
base-URL and model variables) and the worker (which adapters it builds).

Adding a provider: a folder ``providers/<name>/`` with its adapters, a ``factory`` module and a
``spec`` module holding its :class:`~providers.spec.ProviderSpec`, and one line in
:data:`PROVIDERS` below.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from providers.a1111.spec import SPEC as A1111
from providers.comfyui.spec import SPEC as COMFYUI
from providers.fal.spec import SPEC as FAL
from providers.gemini.spec import SPEC as GEMINI
from providers.local.spec import SPEC as LOCAL
from providers.mistral.spec import SPEC as MISTRAL
from providers.replicate.spec import SPEC as REPLICATE
from providers.spec import ProviderSpec, Setting

# Order matters: remote providers are tried (rendering, review, upscaling) in this order by
# default, and names are listed in this order in messages ("use one of local, mistral, …").
PROVIDERS: tuple[ProviderSpec, ...] = (LOCAL, MISTRAL, GEMINI, REPLICATE, FAL, COMFYUI, A1111)

BY_NAME: Mapping[str, ProviderSpec] = MappingProxyType({spec.name: spec for spec in PROVIDERS})
# The provider every chain falls back to when nothing else can render: it needs no key.
FALLBACK: str = next(spec.name for spec in PROVIDERS if spec.in_process and spec.render)
# Another name a project may give a provider -> the provider.
ALIASES: Mapping[str, str] = MappingProxyType({alias: spec.name for spec in PROVIDERS for alias in spec.aliases})
# Every name a project may write in a chain: each provider, then its aliases.
KNOWN_NAMES: tuple[str, ...] = tuple(name for spec in PROVIDERS for name in (spec.name, *spec.aliases))
IN_PROCESS: frozenset[str] = frozenset(spec.name for spec in PROVIDERS if spec.in_process)
# The render chain of a shot that names none: the remote renderers that join it (the fallback
# closes every chain anyway).
DEFAULT_CHAIN: tuple[str, ...] = tuple(
    spec.name for spec in PROVIDERS if spec.render and spec.in_default_chain and not spec.in_process
)
# Reviewers in the order they are tried; the in-process heuristics always close the list.
REVIEW_ORDER: tuple[str, ...] = tuple(
    [spec.name for spec in PROVIDERS if spec.review and not spec.in_process]
    + [spec.name for spec in PROVIDERS if spec.review and spec.in_process]
)
# Upscalers in the order settings prefer them by default (STUDIO_UPSCALE_CHAIN), in-process last.
DEFAULT_UPSCALE_CHAIN: tuple[str, ...] = tuple(
    [spec.name for spec in PROVIDERS if spec.upscale and not spec.in_process]
    + [spec.name for spec in PROVIDERS if spec.upscale and spec.in_process]
)
# Providers whose renderer starts from an input image (a replay's vary modes need one).
IMAGE_INPUT: frozenset[str] = frozenset(spec.name for spec in PROVIDERS if spec.image_to_image)
# Providers whose renderer edits inside a mask (a targeted rework sends them the pins' mask).
MASK_EDIT: frozenset[str] = frozenset(spec.name for spec in PROVIDERS if spec.mask_edit)


def canonical(name: str) -> str:
    """The provider a name really means (``pixtral`` is Mistral's image generation)."""
    return ALIASES.get(name, name)


def spec_of(name: str) -> ProviderSpec | None:
    """The entry of the provider ``name`` (or an alias) names, or ``None`` for an unknown name."""
    return BY_NAME.get(canonical(name))


def key_settings() -> dict[str, Setting]:
    """The key setting of every provider that needs one, in table order."""
    return {spec.name: spec.key for spec in PROVIDERS if spec.key is not None}


def key_variables() -> dict[str, str]:
    """The environment variable that makes each provider usable: its key (``gemini`` →
    ``GEMINI_API_KEY``), or for a self-hosted provider its node list (``comfyui`` → ``COMFYUI_URLS``)."""
    keys = {name: setting.env for name, setting in key_settings().items()}
    return keys | {spec.name: spec.nodes.env for spec in PROVIDERS if spec.nodes is not None}


def all_settings() -> tuple[Setting, ...]:
    """Every setting any provider reads (keys, base URLs, models), for the studio's settings."""
    return tuple(setting for spec in PROVIDERS for setting in spec.settings())


def default_prices() -> dict[str, float]:
    """Every provider's default prices, by price key."""
    return {key: usd for spec in PROVIDERS for key, usd in spec.prices.items()}
