"""How to reach an external Temporal securely: TLS (mTLS client certificate) and API key, from settings.

Kept apart from :mod:`pipelines.runtime.connection` so it is a pure function of the settings that a test
can call without a server: it reads the certificate files and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.service import TLSConfig

from studio.errors import StudioError
from studio.settings import Settings


class TemporalSettingsInvalid(StudioError):
    """The Temporal connection settings cannot work as given (a missing file, a cert without its key).

    Attributes:
        setting: The environment variable at fault, e.g. ``TEMPORAL_TLS_CERT``.
        reason: What is wrong, in a few words a user can act on.
    """

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting}: {reason}")
        self.setting = setting
        self.reason = reason


@dataclass(frozen=True, repr=False)
class ConnectOptions:
    """The transport-security part of ``Client.connect``'s arguments.

    Attributes:
        tls: ``False`` (plain gRPC, the embedded server), ``True`` (TLS with the system's roots)
            or a :class:`TLSConfig` (client certificate, CA, server name).
        api_key: Temporal Cloud API key, sent as a bearer token; ``None`` without one.
    """

    tls: bool | TLSConfig = False
    api_key: str | None = None

    def __repr__(self) -> str:
        # Neither the key nor the TLS config (its repr shows the private key) may reach a log line.
        if isinstance(self.tls, TLSConfig):
            parts = [f"mtls={self.tls.client_cert is not None}", f"ca={self.tls.server_root_ca_cert is not None}"]
            if self.tls.domain:
                parts.append(f"server_name={self.tls.domain!r}")
            tls = f"TLS({', '.join(parts)})"
        else:
            tls = str(self.tls)
        return f"ConnectOptions(tls={tls}, api_key={'set' if self.api_key else 'none'})"

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``temporalio.client.Client.connect``."""
        return {"tls": self.tls, "api_key": self.api_key}


def connect_options(settings: Settings) -> ConnectOptions:
    """TLS and API key for ``settings``' Temporal.

    TLS is on when ``TEMPORAL_TLS`` says so, or by default when a client certificate, a CA, a
    server name or an API key is set (Temporal Cloud refuses an API key over plain gRPC).

    Raises:
        TemporalSettingsInvalid: A certificate without its key (or the reverse), a file that
            cannot be read or holds no PEM data, TLS options with ``TEMPORAL_TLS=false``, or
            TLS options without ``TEMPORAL_ADDRESS`` (the embedded server speaks no TLS).
    """
    cert, key, ca = settings.temporal_tls_cert, settings.temporal_tls_key, settings.temporal_tls_ca
    server_name = settings.temporal_tls_server_name
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    if cert is not None and key is None:
        raise TemporalSettingsInvalid("TEMPORAL_TLS_KEY", "not set, but TEMPORAL_TLS_CERT is (mTLS needs both)")
    if key is not None and cert is None:
        raise TemporalSettingsInvalid("TEMPORAL_TLS_CERT", "not set, but TEMPORAL_TLS_KEY is (mTLS needs both)")
    tls_options = cert is not None or ca is not None or bool(server_name)
    if not (tls_options or api_key or settings.temporal_tls):
        return ConnectOptions()
    if settings.embedded:
        given = _first_given(settings)
        raise TemporalSettingsInvalid(
            given, "set, but TEMPORAL_ADDRESS is not: the embedded dev server speaks no TLS (set TEMPORAL_ADDRESS)"
        )
    if settings.temporal_tls is False:
        if tls_options:
            raise TemporalSettingsInvalid("TEMPORAL_TLS", "false, yet TLS options (TEMPORAL_TLS_*) are set")
        # An API key without TLS: only sensible through a TLS-terminating proxy; the caller asked for it.
        return ConnectOptions(tls=False, api_key=api_key)
    if not tls_options:
        return ConnectOptions(tls=True, api_key=api_key)
    config = TLSConfig(
        client_cert=_read_pem("TEMPORAL_TLS_CERT", cert) if cert is not None else None,
        client_private_key=_read_pem("TEMPORAL_TLS_KEY", key) if key is not None else None,
        server_root_ca_cert=_read_pem("TEMPORAL_TLS_CA", ca) if ca is not None else None,
        domain=server_name or None,
    )
    return ConnectOptions(tls=config, api_key=api_key)


def _first_given(settings: Settings) -> str:
    """The name of the first TLS or API-key setting present (for an error message)."""
    for name, value in (
        ("TEMPORAL_TLS_CERT", settings.temporal_tls_cert),
        ("TEMPORAL_TLS_CA", settings.temporal_tls_ca),
        ("TEMPORAL_TLS_SERVER_NAME", settings.temporal_tls_server_name),
        ("TEMPORAL_API_KEY", settings.temporal_api_key),
    ):
        if value:
            return name
    return "TEMPORAL_TLS"


def _read_pem(setting: str, path: Path) -> bytes:
    """The bytes of a PEM file, or a one-line error naming the setting and the file.

    Checked here because the SDK's own error for a bad file is a long Rust message that does
    not say which of the three files it was.
    """
    try:
        data = path.expanduser().read_bytes()
    except FileNotFoundError:
        raise TemporalSettingsInvalid(setting, f"no such file {path}") from None
    except IsADirectoryError:
        raise TemporalSettingsInvalid(setting, f"{path} is a directory, not a PEM file") from None
    except OSError as err:
        raise TemporalSettingsInvalid(setting, f"cannot read {path} ({err.strerror or err})") from None
    if b"-----BEGIN " not in data:
        raise TemporalSettingsInvalid(setting, f"{path} is not a PEM file (no -----BEGIN line)")
    return data
