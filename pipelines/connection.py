"""Connecting to Temporal: the embedded dev server or an external cluster, from settings."""

from __future__ import annotations

from temporalio.client import Client

from studio.errors import StudioError
from studio.settings import Settings


class ConnectionFailed(StudioError):
    """Temporal could not be reached.

    Attributes:
        address: The address tried.
    """

    def __init__(self, address: str, embedded: bool) -> None:
        hint = "start it with `studio up`" if embedded else "check TEMPORAL_ADDRESS"
        super().__init__(f"cannot reach Temporal at {address}: {hint}")
        self.address = address


async def connect(settings: Settings) -> Client:
    """A client for the configured Temporal, with a clear error when it is down."""
    try:
        return await Client.connect(settings.address, namespace=settings.temporal_namespace)
    except RuntimeError as err:
        raise ConnectionFailed(settings.address, settings.embedded) from err
