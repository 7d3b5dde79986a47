"""Connecting to Temporal: the embedded dev server or an external cluster, from settings."""

from __future__ import annotations

from temporalio.client import Client

from pipelines.runtime.connect_options import connect_options
from pipelines.runtime.payload_offload import data_converter
from pipelines.runtime.telemetry import client_plugins
from studio.errors import StudioError
from studio.settings import Settings


class ConnectionFailed(StudioError):
    """Temporal could not be reached.

    Attributes:
        address: The address tried.
    """

    def __init__(self, address: str, embedded: bool, *, secure: bool = False) -> None:
        hint = "start it with `studio up`" if embedded else "check TEMPORAL_ADDRESS"
        if secure:
            hint += ", TEMPORAL_NAMESPACE and the TLS / API key settings"
        super().__init__(f"cannot reach Temporal at {address}: {hint}")
        self.address = address


async def connect(settings: Settings) -> Client:
    """A client for the configured Temporal, with a clear error when it is down.

    The client carries the studio's data converter (large payloads offloaded to the asset
    store), which every worker built on it inherits.

    Raises:
        TemporalSettingsInvalid: The TLS or API key settings cannot work (before any connection).
        ConnectionFailed: Temporal did not answer, or refused the handshake.
    """
    security = connect_options(settings)
    try:
        return await Client.connect(
            settings.address,
            namespace=settings.temporal_namespace,
            data_converter=data_converter(settings),
            plugins=client_plugins(settings),  # tracing / log ids; none unless settings ask
            **security.kwargs(),
        )
    except RuntimeError as err:
        secure = security.tls is not False or security.api_key is not None
        raise ConnectionFailed(settings.address, settings.embedded, secure=secure) from err
