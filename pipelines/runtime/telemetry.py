"""Traces and structured logs for the worker, the CLI and the dashboard, off by default.

``STUDIO_OTLP_ENDPOINT`` turns tracing on: Temporal's OpenTelemetry plugin goes on every client
(and so on every worker built on one), giving spans for starting, signalling and updating
workflows, for each workflow run and each activity, with the trace context carried through
Temporal headers, so one batch is one trace; httpx is instrumented, so each provider call is a
span under its activity. Every span carries ``studio.batch_id`` / ``shot_id`` / ``take_id``.

``STUDIO_LOG_FORMAT=json`` turns logs into JSON lines (:mod:`studio.log_format`) with the same ids.

Without either setting, :func:`client_plugins` returns nothing and OpenTelemetry is never
imported: startup and behaviour are as if this module did not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import temporalio.activity
import temporalio.client
import temporalio.worker
import temporalio.workflow

from studio.ids import ids_from_key
from studio.log_format import LOG_IDS, configure_logging
from studio.settings import Settings

# Activity inputs name their subject with these fields (pipelines.messages), widest first so
# the most specific one wins.
_ID_ATTRIBUTES = ("batch_id", "shot_key", "take_id")


def tracing_enabled(settings: Settings) -> bool:
    """Whether spans are exported (``STUDIO_OTLP_ENDPOINT`` is set)."""
    return bool(settings.otlp_endpoint)


def activity_ids(workflow_id: str | None, args: Sequence[Any]) -> dict[str, str]:
    """The batch, shot and take an activity works on, and the provider it calls if any.

    Args:
        workflow_id: The calling workflow's id: ``<batch>`` or ``<batch>/<shot>``.
        args: The activity's arguments: a batch id or shot key, or one input dataclass.
    """
    ids = ids_from_key(workflow_id)
    subject = args[0] if args else None
    if isinstance(subject, str):
        ids.update(ids_from_key(subject))
    elif subject is not None:
        for name in _ID_ATTRIBUTES:
            value = getattr(subject, name, None)
            if isinstance(value, str):
                ids.update(ids_from_key(value))
        provider = getattr(subject, "provider", None)
        if isinstance(provider, str):
            ids["provider"] = provider
    return ids


class _ActivityIdsInbound(temporalio.worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        # Set, not bound for a block: Temporal logs an activity's failure after the interceptors
        # have returned, still in the activity's own task, and that line needs the take too. The
        # task (and its copy of the context) ends with the activity, so nothing leaks.
        LOG_IDS.set({**(LOG_IDS.get() or {}), **activity_ids(temporalio.activity.info().workflow_id, input.args)})
        return await self.next.execute_activity(input)


class ActivityIdsInterceptor(temporalio.client.Interceptor, temporalio.worker.Interceptor):
    """Binds each activity's batch, shot and take ids for its log lines and spans.

    It is a client interceptor too (passing calls through untouched) only so that it sits in the
    client's list *before* the tracing interceptor: workers put client interceptors first, the
    first is outermost, and so the ids are bound before the activity's span starts.
    """

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        """Wrap an activity so its ids are bound while it runs."""
        return _ActivityIdsInbound(next)


def client_plugins(settings: Settings) -> list[temporalio.client.Plugin]:
    """The plugins :func:`pipelines.runtime.connection.connect` gives the client (workers inherit them).

    Empty unless ``STUDIO_OTLP_ENDPOINT`` or ``STUDIO_LOG_FORMAT=json`` is set. With tracing on,
    the process's tracer provider is installed here if it was not already (as ``studio-cli``:
    the worker installs its own, named ``studio-worker``, before it connects).
    """
    from temporalio.plugin import SimplePlugin

    plugins: list[temporalio.client.Plugin] = []
    if tracing_enabled(settings) or settings.log_format == "json":
        plugins.append(SimplePlugin("studio.activity-ids", interceptors=[ActivityIdsInterceptor()]))
    if tracing_enabled(settings):
        from temporalio.contrib.opentelemetry import OpenTelemetryPlugin

        from pipelines.runtime.tracing import install_tracing

        install_tracing(settings, service="studio-cli")
        # add_temporal_spans: without it the plugin only carries context and makes no spans.
        plugins.append(OpenTelemetryPlugin(add_temporal_spans=True))
    return plugins


def forward_core_logs() -> None:
    """Send the Temporal core's own log lines (Rust, written straight to stderr as coloured text by
    default) through Python logging as ``temporalio.core``, so a JSON log stays JSON.

    Must run before the process's first client connects: clients keep the runtime they were made on.
    """
    from temporalio.runtime import (
        LogForwardingConfig,
        LoggingConfig,
        Runtime,
        TelemetryConfig,
        TelemetryFilter,
    )

    forwarding = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
    logging_config = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"), forwarding=forwarding
    )
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=logging_config)), error_if_already_set=False)


def setup_process(settings: Settings, *, service: str, level: int = logging.INFO) -> None:
    """Configure a long-running process (``studio worker``): its logging, then its tracing.

    Args:
        settings: Read for ``log_format``, ``otlp_endpoint`` and ``service_name``.
        service: This process's default ``service.name`` (``studio-worker``).
        level: The root logger's level in JSON mode.
    """
    if configure_logging(settings, level=level) is not None:
        # The ids and activity/workflow names are fields of the JSON line already; Temporal would
        # also append them to every message as a Python dict.
        temporalio.activity.logger.activity_info_on_message = False
        temporalio.workflow.logger.workflow_info_on_message = False
        forward_core_logs()
    if tracing_enabled(settings):
        from pipelines.runtime.tracing import install_tracing

        install_tracing(settings, service=service)
