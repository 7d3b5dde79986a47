"""The provider table: one entry per provider, and every layer's lists read from it (no Temporal)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from pydantic import SecretStr

from providers import table
from providers.base import Renderer, Reviewer, Upscaler
from providers.spec import CAPABILITIES, AdapterConfig, Capability, Node, ProviderSpec, load_factory
from studio.settings import Settings
from studio.spending.prices import DEFAULT_PRICES, price_keys

PROTOCOLS = {"render": Renderer, "upscale": Upscaler, "review": Reviewer}
TODAY = ("local", "mistral", "pixtral", "gemini", "replicate", "fal")
ROOT = Path(__file__).resolve().parents[2]


def _adapters(spec: ProviderSpec) -> list[tuple[Capability, str]]:
    return [(capability, path) for capability in CAPABILITIES if (path := spec.factory(capability)) is not None]


def test_names_and_aliases_are_unique() -> None:
    names = [name for spec in table.PROVIDERS for name in (spec.name, *spec.aliases)]
    assert len(names) == len(set(names))
    assert all(name == name.strip().lower() and name for name in names)


def _today(names: Iterable[str]) -> list[str]:
    # The providers the studio had when the table was made: a provider added later may join
    # any list, but must not reorder these (orders are behaviour: chains, messages).
    return [name for name in names if name in TODAY]


def test_the_lists_every_layer_reads_keep_their_order() -> None:
    assert _today(table.KNOWN_NAMES) == ["local", "mistral", "pixtral", "gemini", "replicate", "fal"]
    assert table.ALIASES["pixtral"] == "mistral"
    assert table.FALLBACK == "local"
    assert _today(table.DEFAULT_CHAIN) == ["mistral", "gemini", "replicate", "fal"]
    assert _today(table.REVIEW_ORDER) == ["mistral", "gemini", "local"]
    assert table.REVIEW_ORDER[-1] == table.DEFAULT_UPSCALE_CHAIN[-1] == "local"
    assert _today(table.DEFAULT_UPSCALE_CHAIN) == ["replicate", "fal", "local"]
    assert _today(sorted(table.IMAGE_INPUT)) == ["fal", "gemini", "local", "replicate"]
    assert sorted(table.IN_PROCESS) == ["local"]
    assert {name: env for name, env in table.key_variables().items() if name in TODAY} == {
        "mistral": "MISTRAL_API_KEY",
        "gemini": "GEMINI_API_KEY",
        "replicate": "REPLICATE_API_TOKEN",
        "fal": "FAL_KEY",
    }


@pytest.mark.parametrize("spec", table.PROVIDERS, ids=lambda spec: spec.name)
def test_every_adapter_is_importable_and_uses_the_model_its_entry_names(spec: ProviderSpec) -> None:
    config = AdapterConfig(key="test-key", base_url="http://127.0.0.1:9", model=None)
    assert _adapters(spec), f"{spec.name} can do nothing"
    for capability, path in _adapters(spec):
        adapter = load_factory(path)(config)
        assert isinstance(adapter, PROTOCOLS[capability]), path
        if hasattr(adapter, "model"):
            assert adapter.model == spec.models[capability], path
        assert "test-key" not in repr(adapter)  # the key stays out of reprs (and so of logs)
    if spec.model is not None:
        assert spec.model.default == spec.models["render"]


def test_a_bad_factory_path_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="is not 'module:function'"):
        load_factory("providers.local.factory")
    with pytest.raises(ValueError, match="names nothing callable"):
        load_factory("providers.local.factory:nothing")


@pytest.mark.parametrize("spec", table.PROVIDERS, ids=lambda spec: spec.name)
def test_every_price_key_is_priced(spec: ProviderSpec) -> None:
    for capability, _ in _adapters(spec):
        model = spec.model.default if spec.model is not None and capability == "render" else None
        # The provider-wide key of every stage it can do ("mistral", "review:mistral"), and the
        # default model's key: a call is never priced by the "unknown provider costs 0" rule.
        provider_wide = spec.name if capability == "render" else f"{capability}:{spec.name}"
        assert provider_wide in price_keys(capability, spec.name, None)
        assert provider_wide in DEFAULT_PRICES, f"{spec.name} has no {capability} price"
        if model is not None:
            assert f"{spec.name}:{model}" in DEFAULT_PRICES
    for key, usd in spec.prices.items():
        parts = key.split(":")
        owner = parts[1] if parts[0] in CAPABILITIES else parts[0]
        assert owner == spec.name, f"{spec.name} prices {key}, another provider's key"
        assert DEFAULT_PRICES[key] == usd and usd >= 0
    assert spec.in_process is False or all(usd == 0 for usd in spec.prices.values())


@pytest.mark.parametrize("spec", table.PROVIDERS, ids=lambda spec: spec.name)
def test_every_setting_is_a_settings_field_read_from_its_variable(
    spec: ProviderSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for setting in spec.settings():
        field = Settings.model_fields[setting.field]
        assert field.alias == setting.env and field.default == setting.default
        monkeypatch.setenv(setting.env, f"from-{setting.env}")
    if spec.nodes is not None:  # a node list must be URLs
        monkeypatch.setenv(spec.nodes.env, "http://from-nodes:8188#slots=2, http://other:8188")
    settings = Settings(home=tmp_path, _env_file=None)  # type: ignore[call-arg]  # pydantic-settings' init kwarg
    if spec.key is not None:
        key = settings.provider_key(spec.name)
        assert isinstance(key, SecretStr) and key.get_secret_value() == f"from-{spec.key.env}"
        assert key.get_secret_value() not in repr(settings)
    if spec.base_url is not None:
        assert settings.provider_base_url(spec.name) == f"from-{spec.base_url.env}"
    if spec.model is not None:
        assert settings.provider_model(spec.name) == f"from-{spec.model.env}"
    if spec.nodes is not None:
        assert settings.provider_nodes(spec.name) == (Node("http://from-nodes:8188", 2), Node("http://other:8188"))
    if spec.auth is not None:
        auth = settings.provider_auth(spec.name)
        assert isinstance(auth, SecretStr) and auth.get_secret_value() == f"from-{spec.auth.env}"
        assert auth.get_secret_value() not in repr(settings)


@pytest.mark.parametrize(
    ("urls", "error"),
    [
        ("gpu-box:8188", "is not an http(s)://host:port URL"),
        ("http://a:8188#slots=0", "#slots=N with N from 1 to 64"),
        ("http://a:8188,http://a:8188/", "named twice"),
    ],
)
def test_a_bad_node_list_is_refused_naming_its_variable(urls: str, error: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="COMFYUI_URLS: .*" + re.escape(error)):
        Settings(home=tmp_path, COMFYUI_URLS=urls, _env_file=None)  # type: ignore[call-arg]  # pydantic-settings' init kwarg


def test_unknown_names_and_aliases_read_through_the_table(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, MISTRAL_API_KEY="m-key", _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    assert settings.provider_key("pixtral") == settings.provider_key("mistral") == SecretStr("m-key")
    assert settings.provider_key("local") is None and settings.provider_key("dalle") is None
    assert settings.provider_model("mistral") is None and settings.provider_base_url("local") is None


def test_reading_the_table_imports_no_vendor_code() -> None:
    code = (
        "import sys, providers.table, studio.rendering.chain, studio.spending.prices, studio.project.schema;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'httpx', 'replicate', 'fal_client', 'PIL'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
