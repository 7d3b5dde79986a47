"""The OpenTelemetry side of :mod:`pipelines.runtime.telemetry`: a tracer provider exporting over OTLP/HTTP.

Imported only when tracing is on (``STUDIO_OTLP_ENDPOINT``), so a studio without it never pays
for loading the SDK. One provider per process: OpenTelemetry's global provider can be set once,
and Temporal's plugin reads the global one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from temporalio.contrib.opentelemetry import (
    ReplaySafeTracerProvider,
    create_tracer_provider,
)

from studio.errors import StudioError
from studio.ids import ids_from_key
from studio.log_format import LOG_IDS, add_context_fields
from studio.settings import Settings

log = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
# Span attributes of the studio's own ids; Temporal's plugin adds temporalWorkflowID and friends.
ATTRIBUTE_PREFIX = "studio."
# A CLI command must not hang on exit because the collector is down.
FLUSH_TIMEOUT_MS = 3000

_installed: ReplaySafeTracerProvider | None = None


class TracingUnavailable(StudioError):
    """Another tracer provider was set globally first, so the studio's cannot be used."""


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for ``endpoint``: a collector's base URL gets ``/v1/traces``."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


def _without_credentials(url: str) -> str:
    """``url`` without user, password or query: what a log line may say about the collector."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class IdsSpanProcessor(SpanProcessor):
    """Puts ``studio.batch_id`` / ``shot_id`` / ``take_id`` (and ``provider``) on every span.

    The ids come from the span's ``temporalWorkflowID`` (workflow, child and activity spans) and
    from what the worker bound for the running activity (:func:`studio.log_format.bound_ids`),
    which is how a provider's HTTP call learns which take it is for.
    """

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Add the ids as the span starts, so every exporter sees them."""
        ids: dict[str, str] = {}
        workflow_id = (span.attributes or {}).get("temporalWorkflowID")
        if isinstance(workflow_id, str):
            ids.update(ids_from_key(workflow_id))
        ids.update(LOG_IDS.get() or {})
        if ids:
            span.set_attributes({ATTRIBUTE_PREFIX + key: value for key, value in ids.items()})

    def on_end(self, span: ReadableSpan) -> None:
        """Nothing to do when a span ends."""

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered here."""
        return True


def build_tracer_provider(
    settings: Settings, *, service: str, exporter: SpanExporter | None = None
) -> ReplaySafeTracerProvider:
    """A replay-safe tracer provider (as Temporal's plugin requires) batching spans to an exporter.

    Args:
        settings: ``otlp_endpoint`` and ``service_name`` are read.
        service: ``service.name`` when ``STUDIO_SERVICE_NAME`` is not set.
        exporter: Where spans go instead of OTLP/HTTP (tests pass an in-memory one).

    Returns:
        A provider that is not yet the global one.
    """
    if exporter is None:
        if not settings.otlp_endpoint:
            raise ValueError("an OTLP endpoint or an exporter is needed")
        # Headers (an API key for a hosted backend) come from OTEL_EXPORTER_OTLP_HEADERS.
        exporter = OTLPSpanExporter(endpoint=traces_url(settings.otlp_endpoint))
    provider = create_tracer_provider(resource=Resource.create({SERVICE_NAME: settings.service_name or service}))
    provider.add_span_processor(IdsSpanProcessor())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def current_trace_fields() -> Mapping[str, str]:
    """``trace_id`` and ``span_id`` of the current span, for log lines (empty outside a span)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}


def install_tracing(
    settings: Settings, *, service: str, exporter: SpanExporter | None = None
) -> ReplaySafeTracerProvider:
    """Make the studio's provider the process's global one, and trace httpx calls (providers).

    Idempotent: the first call in a process decides (the worker names itself before its client
    connects; anything else that connects is the CLI or the dashboard).

    Raises:
        TracingUnavailable: Something else already set a global tracer provider.
    """
    global _installed
    if _installed is None:
        provider = build_tracer_provider(settings, service=service, exporter=exporter)
        trace.set_tracer_provider(provider)
        if trace.get_tracer_provider() is not provider:
            raise TracingUnavailable("another OpenTelemetry tracer provider was already set in this process")
        _installed = provider
        add_context_fields(current_trace_fields)
        where = (
            _without_credentials(settings.otlp_endpoint) if exporter is None and settings.otlp_endpoint else "memory"
        )
        log.info("tracing to %s as %s", where, settings.service_name or service)
    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        # Every httpx transport, so the vendor SDKs' own clients (Replicate, fal) are traced too.
        # Request headers (where the keys travel) are not recorded unless OTEL_* settings ask.
        instrumentor.instrument(tracer_provider=_installed)
    return _installed


def installed_provider() -> ReplaySafeTracerProvider | None:
    """The provider :func:`install_tracing` installed in this process, if any."""
    return _installed


def flush_tracing(timeout_ms: int = FLUSH_TIMEOUT_MS) -> bool:
    """Export the spans still buffered; ``False`` if that did not finish in time."""
    if _installed is None:
        return True
    return _installed.force_flush(timeout_ms)


def stop_httpx_tracing() -> None:
    """Stop tracing httpx calls (tests that installed tracing put httpx back as it was)."""
    instrumentor = HTTPXClientInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
