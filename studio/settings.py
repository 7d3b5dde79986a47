"""One settings object, read from the environment (and a `.env` file in the working directory).

Secrets (API keys) live here and only here: they are read by the worker process that talks to
vendors and never copied into workflow payloads, the catalog or logs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from providers.spec import Node, Setting, parse_nodes
from providers.table import DEFAULT_UPSCALE_CHAIN, PROVIDERS, all_settings, spec_of
from studio.priority import parse_weights, weight_of


def _provider_fields() -> dict[str, tuple[Any, Any]]:
    """Each provider's settings (key, base URL, model) as a settings field, from the provider table.

    Keys are secrets (``SecretStr``: never shown in a repr or log); every field is read from the
    environment variable its table entry names.
    """
    fields: dict[str, tuple[Any, Any]] = {}  # name -> (type, Field(...))
    for setting in all_settings():
        kind: Any = SecretStr | None if setting.secret else (str if setting.default is not None else str | None)
        fields[setting.field] = (kind, Field(default=setting.default, alias=setting.env))
    return fields


_PROVIDER_FIELDS = _provider_fields()


class Settings(BaseSettings):
    """Everything the studio can be configured with.

    Every field maps to an environment variable of the same name in upper case with the
    ``STUDIO_`` prefix, except where an alias is given (vendor keys and the standard
    ``DATABASE_URL`` / ``TEMPORAL_ADDRESS`` names).
    """

    model_config = SettingsConfigDict(env_prefix="STUDIO_", env_file=".env", extra="ignore", populate_by_name=True)

    home: Path = Field(default=Path.home() / ".studio", description="Where the embedded stack keeps its files.")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    assets: str | None = Field(
        default=None, description="Asset store: a directory, or s3://bucket/prefix; default HOME/assets."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3 endpoint for MinIO, R2 or another S3-compatible store; default AWS's."
    )
    s3_region: str | None = Field(default=None, description="S3 region; default boto3's (AWS_REGION, ~/.aws/config).")

    temporal_address: str | None = Field(default=None, alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", alias="TEMPORAL_NAMESPACE")
    # The same names as the Temporal CLI's, so one environment serves both.
    temporal_tls_cert: Path | None = Field(
        default=None, alias="TEMPORAL_TLS_CERT", description="Client certificate (PEM file) for mTLS."
    )
    temporal_tls_key: Path | None = Field(
        default=None, alias="TEMPORAL_TLS_KEY", description="Private key (PEM file) of TEMPORAL_TLS_CERT."
    )
    temporal_tls_ca: Path | None = Field(
        default=None, alias="TEMPORAL_TLS_CA", description="Root CA (PEM file) for the server; default the system's."
    )
    temporal_tls_server_name: str | None = Field(
        default=None, alias="TEMPORAL_TLS_SERVER_NAME", description="Name the server certificate is checked against."
    )
    temporal_api_key: SecretStr | None = Field(
        default=None, alias="TEMPORAL_API_KEY", description="Temporal Cloud API key (implies TLS)."
    )
    temporal_tls: bool | None = Field(
        default=None,
        alias="TEMPORAL_TLS",
        description="Force TLS on (without a client certificate) or off; default on when any TLS option or an API key is set.",
    )
    payload_offload_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        description="Payloads larger than this go to the asset store; Temporal's history keeps a reference.",
    )
    temporal_port: int = 17233
    temporal_ui_port: int = 18233
    dashboard_port: int = 8501
    dashboard_host: str = Field(default="127.0.0.1", description="Address the dashboard listens on.")
    dashboard_token: SecretStr | None = Field(
        default=None, description="Owner password; required when the dashboard listens beyond localhost."
    )
    public_url: str | None = Field(default=None, description="Base URL clients reach the dashboard at (links).")
    share_secret: SecretStr | None = Field(
        default=None, description="Key that signs client links; default HOME/share.secret, made on first use."
    )
    owner_name: str = Field(
        default_factory=lambda: os.environ.get("USER") or "owner",
        description="Who the dashboard records as deciding at a gate (the client page records 'client').",
    )
    temporal_ui: str | None = Field(default=None, description="Temporal Web UI base URL; default the embedded one.")
    task_queue: str = "studio"

    shots_in_flight: int = Field(default=50, ge=1, le=1000)
    workflow_sandbox: bool = Field(
        default=False,
        description="Run workflow code in Temporal's sandbox, which refuses non-deterministic calls "
        "(clock, random, I/O) as they happen. Off by default: it costs ~20% of a worker's CPU per shot, "
        "and the replay test already runs every workflow in it.",
    )
    local_latency: float = Field(default=0.0, ge=0.0)
    provider_concurrency: int = Field(default=16, ge=1, le=512)
    max_takes_per_run: int = Field(default=2000, ge=10)
    upload_publish_roots: list[Path] = Field(
        default_factory=list,
        description="Folders besides HOME/published that a project uploaded on the dashboard may publish "
        'into (JSON: ["/srv/renders"]).',
    )

    # Every provider's key, base URL and model, declared from its entry in the provider table
    # (providers.table), so that adding a provider needs no edit here. Read them through
    # provider_key / provider_base_url / provider_model.
    __annotations__.update({name: kind for name, (kind, _) in _PROVIDER_FIELDS.items()})
    vars().update({name: info for name, (_, info) in _PROVIDER_FIELDS.items()})
    notify_webhook: str | None = Field(
        default=None, description="POSTed JSON when a gate opens, and a day before its deadline."
    )
    notify_email: str | None = Field(
        default=None, description="Comma-separated addresses mailed when a gate opens, and a day before its deadline."
    )
    creator_webhook: str | None = Field(
        default=None, description="POSTed JSON when a gate is decided, and a daily digest of decisions."
    )
    creator_email: str | None = Field(
        default=None, description="Comma-separated addresses mailed each decision and the daily digest."
    )
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_from: str = "studio@localhost"
    vendor_timeout: float = Field(default=120.0, gt=0)
    provider_rps: dict[str, float] = Field(
        default_factory=dict,
        description='Requests per second per provider, across all workers (JSON: {"replicate": 2}).',
    )
    client_weights: str = Field(
        default="",
        description="Each client's share of a provider when clients' batches queue on it "
        '("acme=2,northwind=1"); a client not named weighs 1.',
    )
    provider_max_in_flight: dict[str, int] = Field(
        default_factory=dict,
        description='Calls in flight per provider, across all workers and batches (JSON: {"gemini": 4}).',
    )
    upscale_chain: list[str] = Field(
        default_factory=lambda: list(DEFAULT_UPSCALE_CHAIN),
        description="Upscalers in order of preference, among those with a key (local always last).",
    )
    circuit_failures: int = Field(default=5, ge=1, description="Failures in a row that open a provider's circuit.")
    circuit_cooldown: float = Field(default=120.0, gt=0, description="Seconds an open circuit skips a provider.")
    node_failures: int = Field(
        default=3, ge=1, description="Failures in a row that set a self-hosted render node aside for a cooldown."
    )
    node_cooldown: float = Field(
        default=60.0, gt=0, description="Seconds a render node set aside waits before one probe call tries it again."
    )
    outage_window: float = Field(
        default=6 * 3600.0,
        gt=0,
        description="Seconds a stage waits and retries while the catalog, the asset store or the disk is down.",
    )
    provider_wait_window: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="Seconds a take waits while every provider of its chain is down or rate-limiting.",
    )
    provider_wait_notice: float = Field(
        default=1800.0,
        gt=0,
        description="Seconds of waiting on providers before a batch sends a notice.",
    )
    provider_retry_max: float = Field(
        default=300.0,
        ge=1,
        description="Longest pause between two tries of a chain whose providers are all down.",
    )
    prices: dict[str, float] = Field(
        default_factory=dict,
        description='Price overrides in USD per call: "provider", "provider:model" or "stage:provider" keys.',
    )
    c2pa_cert: str | None = Field(
        default=None,
        description="Content credentials: your signing certificate chain (PEM file path or PEM text); "
        "default a self-made one under HOME/c2pa (valid but untrusted).",
    )
    c2pa_key: SecretStr | None = Field(
        default=None, description="The private key of STUDIO_C2PA_CERT (PEM file path or PEM text)."
    )
    c2pa_tsa_url: str | None = Field(
        default=None, description="Timestamp authority asked at each signing; default none (no network)."
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector (http://host:4318 or a full .../v1/traces URL); traces are off without it.",
    )
    service_name: str | None = Field(
        default=None, description="service.name on exported spans; default studio-worker or studio-cli."
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="text (unchanged) or json: one JSON object per line, with batch/shot/take ids."
    )

    def provider_key(self, name: str) -> SecretStr | None:
        """The key of provider ``name``, or ``None`` when unset or the provider needs none.

        A secret: hand it to the provider's adapter and nowhere else (payloads, catalog, logs).
        """
        spec = spec_of(name)
        value = None if spec is None or spec.key is None else getattr(self, spec.key.field)
        return value if isinstance(value, SecretStr) else None

    def provider_configured(self, name: str) -> bool:
        """Whether provider ``name`` can be called: its key is set (if it needs one) and its render
        nodes are named (a self-hosted provider). Only whether they are set is read."""
        spec = spec_of(name)
        if spec is None:
            return False
        has_key = spec.key is None or self.provider_key(name) is not None
        has_nodes = spec.nodes is None or bool(self._provider_text(spec.nodes))
        return has_key and has_nodes

    def provider_nodes(self, name: str) -> tuple[Node, ...]:
        """The render nodes of self-hosted provider ``name`` (``COMFYUI_URLS``); empty when unset."""
        spec = spec_of(name)
        return () if spec is None or spec.nodes is None else parse_nodes(self._provider_text(spec.nodes))

    def provider_auth(self, name: str) -> SecretStr | None:
        """The optional credential of self-hosted provider ``name`` (a secret, like a key)."""
        spec = spec_of(name)
        value = None if spec is None or spec.auth is None else getattr(self, spec.auth.field)
        return value if isinstance(value, SecretStr) and value.get_secret_value() else None

    @model_validator(mode="after")
    def _check_nodes(self) -> Settings:
        """A node list that does not parse fails here, naming its variable, not at the first render."""
        for spec in PROVIDERS:
            if spec.nodes is not None:
                try:
                    parse_nodes(self._provider_text(spec.nodes))
                except ValueError as err:
                    raise ValueError(f"{spec.nodes.env}: {err}") from None
        return self

    @model_validator(mode="after")
    def _check_client_weights(self) -> Settings:
        """Weights that do not parse fail here, naming their variable, not when a batch starts."""
        try:
            parse_weights(self.client_weights)
        except ValueError as err:
            raise ValueError(f"STUDIO_CLIENT_WEIGHTS: {err}") from None
        return self

    def client_weight(self, client: str) -> float:
        """The fairness weight of ``client`` (``STUDIO_CLIENT_WEIGHTS``; 1 when not named)."""
        return weight_of(parse_weights(self.client_weights), client)

    def provider_base_url(self, name: str) -> str | None:
        """The API root provider ``name`` is called at, if it has one."""
        spec = spec_of(name)
        return None if spec is None or spec.base_url is None else self._provider_text(spec.base_url)

    def provider_model(self, name: str) -> str | None:
        """The render model settings choose for provider ``name``, if its model is a setting."""
        spec = spec_of(name)
        return None if spec is None or spec.model is None else self._provider_text(spec.model)

    def _provider_text(self, setting: Setting) -> str | None:
        value = getattr(self, setting.field)
        return value if isinstance(value, str) else None

    @property
    def catalog_url(self) -> str:
        """The SQLAlchemy URL of the catalog: ``DATABASE_URL`` or an SQLite file in HOME."""
        return self.database_url or f"sqlite:///{self.home / 'catalog.db'}"

    @property
    def assets_dir(self) -> Path:
        """Directory of the local content-addressed asset store (meaningless when ``assets`` is an
        ``s3://`` URL: open stores with :func:`studio.storage.open_asset_store`)."""
        return Path(self.assets) if self.assets else self.home / "assets"

    @property
    def published_dir(self) -> Path:
        """Default root of published batches (a project's ``publish.path`` overrides it)."""
        return self.home / "published"

    @property
    def address(self) -> str:
        """Temporal frontend address: ``TEMPORAL_ADDRESS`` or the embedded server's port."""
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def temporal_ui_url(self) -> str:
        """Base URL of the Temporal Web UI: ``STUDIO_TEMPORAL_UI`` or the embedded server's UI."""
        return (self.temporal_ui or f"http://127.0.0.1:{self.temporal_ui_port}").rstrip("/")

    @property
    def dashboard_url(self) -> str:
        """Base URL of the dashboard as others reach it: ``STUDIO_PUBLIC_URL`` or host and port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        # A wildcard address is where the server listens, not where anyone can connect.
        host = "localhost" if self.dashboard_host in ("0.0.0.0", "::", "") else self.dashboard_host
        if ":" in host:
            host = f"[{host}]"  # an IPv6 literal needs brackets inside a URL
        return f"http://{host}:{self.dashboard_port}"

    @property
    def embedded(self) -> bool:
        """Whether the CLI should manage its own Temporal dev server."""
        return self.temporal_address is None


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment, with keyword overrides (used by tests and the CLI).

    Overrides are validated like the environment's strings are, so they need not be typed exactly.
    """
    return Settings(**overrides)
