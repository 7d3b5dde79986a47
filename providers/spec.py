"""The shape of one provider's entry in the provider table (:mod:`providers.table`): plain data.

Stdlib only, like the table, so every layer (the project checker, prices, the launch estimate,
status, the worker) may read what a provider is without importing a vendor SDK. Adapters are
named by ``"module:factory"`` strings; only the worker imports them (see
:func:`load_factory`), when it builds the providers it will call.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Capability = Literal["render", "upscale", "review"]
CAPABILITIES: tuple[Capability, ...] = ("render", "upscale", "review")


@dataclass(frozen=True)
class Setting:
    """One value a provider is configured with: a field of the studio's settings.

    Attributes:
        field: The settings field (``mistral_api_key``); the studio's settings declare it from here.
        env: The environment variable it is read from (``MISTRAL_API_KEY``).
        default: Its value when the variable is not set.
        secret: A key: kept as a secret, never shown, logged or copied into payloads or the catalog.
    """

    field: str
    env: str
    default: str | None = None
    secret: bool = False


@dataclass(frozen=True)
class AdapterConfig:
    """What a factory gets to build one adapter, read from settings by the worker.

    Attributes:
        key: The vendor key (empty for providers that need none). A secret: factories hand it to
            the adapter and nowhere else.
        base_url: The vendor's API root, where the entry has a base-URL setting.
        model: The render model, where the entry has a model setting.
        timeout: Seconds a vendor call may take.
        latency: Added seconds per call (the local renderer only: tests and demos).
        nodes: The URLs of a self-hosted provider's render nodes (its pool), in settings order.
        auth: A self-hosted provider's optional credential (a bearer token, or ``user:pass`` for
            HTTP basic auth). A secret, like ``key``.
    """

    key: str = field(default="", repr=False)
    base_url: str = ""
    model: str | None = None
    timeout: float = 120.0
    latency: float = 0.0
    nodes: tuple[str, ...] = ()
    auth: str = field(default="", repr=False)


@dataclass(frozen=True)
class Node:
    """One render node of a self-hosted pool.

    Attributes:
        url: Its API root (``http://gpu-box:8188``).
        slots: Jobs it runs at once (1 unless the URL says ``#slots=N``).
    """

    url: str
    slots: int = 1


def parse_nodes(text: str | None) -> tuple[Node, ...]:
    """The nodes a comma-separated list names: ``http://gpu-box:8188#slots=2,http://laptop:8188``.

    A fragment ``#slots=N`` sets a node's jobs at once (fragments are never sent to the server).

    Raises:
        ValueError: A URL that is not ``http(s)://host[:port]``, a bad ``slots`` value, or a
            node named twice.
    """
    nodes: list[Node] = []
    for part in (text or "").split(","):
        raw = part.strip()
        if not raw:
            continue
        url, _, fragment = raw.partition("#")
        url = url.rstrip("/")
        scheme, _, rest = url.partition("://")
        if scheme not in ("http", "https") or not rest or any(c.isspace() for c in rest):
            raise ValueError(f"render node {raw!r} is not an http(s)://host:port URL")
        slots = 1
        if fragment:
            name, _, value = fragment.partition("=")
            if name != "slots" or not value.isdigit() or not 1 <= int(value) <= 64:
                raise ValueError(f"render node {raw!r}: write #slots=N with N from 1 to 64")
            slots = int(value)
        if any(node.url == url for node in nodes):
            raise ValueError(f"render node {url} is named twice")
        nodes.append(Node(url, slots))
    return tuple(nodes)


@dataclass(frozen=True)
class ProviderSpec:
    """What one provider is: its names, settings, capabilities, models and prices.

    Attributes:
        name: The name chains, recipes, prices and task queues use (``mistral``).
        aliases: Other names a project may give it (``pixtral``).
        label: How a user should read the name, when it needs saying (``local (procedural preview)``).
        key: Its key setting; ``None`` for a provider that needs no key (always available).
        base_url: Its API root setting, if any.
        model: Its render-model setting, if the model is chosen in settings.
        render: ``"module:factory"`` building its renderer, or ``None``.
        upscale: The same for its upscaler.
        review: The same for its reviewer.
        image_to_image: Its renderer starts from an input image (replays' vary modes need it).
        mask_edit: Its renderer edits inside a mask.
        seeded: Its renderer takes a seed, so a recipe can be rendered again (reproducible where
            the model promises it).
        in_process: It computes in the worker's process (no key, no network, no task queue of its
            own); such a provider closes every chain.
        in_default_chain: It renders shots whose project names no chain (when its key is set).
            A new provider may join later, since that changes what every such project does.
        models: The model each capability uses by default (``{"render": "…"}``).
        prices: Its default price per call in USD, by price key (see :mod:`studio.spending.prices`):
            ``name``, ``name:model``, ``stage:name`` or ``stage:name:model``.
        nodes: Its render-node list setting (self-hosted providers): the provider is available
            only where it is set, and each call goes to one node of it (a pool shared by workers).
        auth: Its optional credential setting (self-hosted providers behind a proxy or with auth).
        probe: ``"module:factory"`` building its node probe (``studio nodes``), for self-hosted
            providers: ``probe(config)`` returns an async function of a node URL answering a dict
            (``reachable``, ``version``, ``queue``, ``error``).
    """

    name: str
    aliases: tuple[str, ...] = ()
    label: str | None = None
    key: Setting | None = None
    base_url: Setting | None = None
    model: Setting | None = None
    render: str | None = None
    upscale: str | None = None
    review: str | None = None
    image_to_image: bool = False
    mask_edit: bool = False
    seeded: bool = False
    in_process: bool = False
    in_default_chain: bool = True
    models: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    prices: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    nodes: Setting | None = None
    auth: Setting | None = None
    probe: str | None = None

    def factory(self, capability: Capability) -> str | None:
        """The ``"module:factory"`` building this provider's adapter for ``capability``, if any."""
        path: str | None = getattr(self, capability)
        return path

    def settings(self) -> tuple[Setting, ...]:
        """Every setting this provider reads (key, base URL, model, nodes, auth)."""
        return tuple(s for s in (self.key, self.base_url, self.model, self.nodes, self.auth) if s is not None)


def load_factory(path: str) -> Callable[[AdapterConfig], Any]:
    """Import the factory a ``"module:factory"`` string names (this imports the vendor's SDK).

    Raises:
        ValueError: ``path`` is not ``module:factory`` or names something that cannot be called.
        ImportError: The module cannot be imported.
    """
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"adapter factory {path!r} is not 'module:function'")
    factory: Callable[[AdapterConfig], Any] | None = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(factory):
        raise ValueError(f"adapter factory {path!r} names nothing callable")
    return factory
