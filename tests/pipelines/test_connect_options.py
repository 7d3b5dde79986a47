"""TLS and API key settings for an external Temporal: what reaches ``Client.connect``, and the errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.service import TLSConfig

from pipelines.runtime.connect_options import (
    ConnectOptions,
    TemporalSettingsInvalid,
    connect_options,
)
from studio.settings import Settings

CERT = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
CA = b"-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"
API_KEY = "tmprl-api-key-do-not-log-0123456789"


def settings(tmp_path: Path, **fields: object) -> Settings:
    base: dict[str, object] = {"home": tmp_path / "home", "temporal_address": "ns.acct.tmprl.cloud:7233"}
    return Settings(**(base | fields), _env_file=None)  # type: ignore[arg-type]  # fields are settings values of mixed types


@pytest.fixture
def pem_files(tmp_path: Path) -> dict[str, Path]:
    files = {"cert": tmp_path / "client.pem", "key": tmp_path / "client.key", "ca": tmp_path / "ca.pem"}
    for name, data in (("cert", CERT), ("key", KEY), ("ca", CA)):
        files[name].write_bytes(data)
    return files


def test_nothing_set_means_plain_grpc(tmp_path: Path) -> None:
    assert connect_options(settings(tmp_path)) == ConnectOptions(tls=False, api_key=None)
    assert connect_options(settings(tmp_path, temporal_address=None)).kwargs() == {"tls": False, "api_key": None}


def test_mtls_reads_cert_key_and_ca(tmp_path: Path, pem_files: dict[str, Path]) -> None:
    options = connect_options(
        settings(
            tmp_path,
            temporal_tls_cert=pem_files["cert"],
            temporal_tls_key=pem_files["key"],
            temporal_tls_ca=pem_files["ca"],
            temporal_tls_server_name="temporal.internal",
        )
    )
    assert options.tls == TLSConfig(
        client_cert=CERT, client_private_key=KEY, server_root_ca_cert=CA, domain="temporal.internal"
    )
    assert options.api_key is None


def test_mtls_without_ca_uses_system_roots(tmp_path: Path, pem_files: dict[str, Path]) -> None:
    options = connect_options(
        settings(tmp_path, temporal_tls_cert=pem_files["cert"], temporal_tls_key=pem_files["key"])
    )
    assert isinstance(options.tls, TLSConfig)
    assert options.tls.server_root_ca_cert is None and options.tls.domain is None


def test_api_key_implies_tls(tmp_path: Path) -> None:
    options = connect_options(settings(tmp_path, temporal_api_key=API_KEY))
    assert options.kwargs() == {"tls": True, "api_key": API_KEY}


def test_tls_forced_on_without_client_cert(tmp_path: Path) -> None:
    assert connect_options(settings(tmp_path, temporal_tls=True)).kwargs() == {"tls": True, "api_key": None}


def test_ca_alone_turns_tls_on(tmp_path: Path, pem_files: dict[str, Path]) -> None:
    options = connect_options(settings(tmp_path, temporal_tls_ca=pem_files["ca"]))
    assert options.tls == TLSConfig(server_root_ca_cert=CA)


def test_tls_forced_off_keeps_an_api_key(tmp_path: Path) -> None:
    options = connect_options(settings(tmp_path, temporal_api_key=API_KEY, temporal_tls=False))
    assert options.kwargs() == {"tls": False, "api_key": API_KEY}


def test_settings_read_from_the_temporal_cli_environment_names(
    tmp_path: Path, pem_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "TEMPORAL_ADDRESS": "us-east-1.aws.api.temporal.io:7233",
        "TEMPORAL_NAMESPACE": "studio.a1b2c",
        "TEMPORAL_TLS_CERT": str(pem_files["cert"]),
        "TEMPORAL_TLS_KEY": str(pem_files["key"]),
        "TEMPORAL_TLS_CA": str(pem_files["ca"]),
        "TEMPORAL_TLS_SERVER_NAME": "temporal.internal",
        "TEMPORAL_API_KEY": API_KEY,
        "TEMPORAL_TLS": "true",
    }.items():
        monkeypatch.setenv(name, value)
    loaded = Settings(_env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    assert loaded.temporal_tls_cert == pem_files["cert"] and loaded.temporal_tls_key == pem_files["key"]
    assert loaded.temporal_tls_ca == pem_files["ca"] and loaded.temporal_tls_server_name == "temporal.internal"
    assert loaded.temporal_api_key == SecretStr(API_KEY) and loaded.temporal_tls is True
    options = connect_options(loaded)
    assert options.api_key == API_KEY and isinstance(options.tls, TLSConfig)


def test_secrets_stay_out_of_reprs(tmp_path: Path, pem_files: dict[str, Path]) -> None:
    loaded = settings(
        tmp_path, temporal_api_key=API_KEY, temporal_tls_cert=pem_files["cert"], temporal_tls_key=pem_files["key"]
    )
    options = connect_options(loaded)
    for text in (repr(loaded), str(loaded), repr(options), str(options)):
        assert API_KEY not in text and "PRIVATE KEY" not in text and "MIIE" not in text
    assert repr(options) == "ConnectOptions(tls=TLS(mtls=True, ca=False), api_key=set)"


@pytest.mark.parametrize(("given", "missing"), [("cert", "TEMPORAL_TLS_KEY"), ("key", "TEMPORAL_TLS_CERT")])
def test_cert_without_key_or_key_without_cert(
    tmp_path: Path, pem_files: dict[str, Path], given: str, missing: str
) -> None:
    with pytest.raises(TemporalSettingsInvalid) as caught:
        connect_options(settings(tmp_path, **{f"temporal_tls_{given}": pem_files[given]}))
    assert caught.value.setting == missing
    assert str(caught.value) == f"{missing}: not set, but {'TEMPORAL_TLS_' + given.upper()} is (mTLS needs both)"


def test_missing_cert_file(tmp_path: Path, pem_files: dict[str, Path]) -> None:
    gone = tmp_path / "nowhere" / "client.pem"
    with pytest.raises(TemporalSettingsInvalid) as caught:
        connect_options(settings(tmp_path, temporal_tls_cert=gone, temporal_tls_key=pem_files["key"]))
    assert (caught.value.setting, str(caught.value)) == ("TEMPORAL_TLS_CERT", f"TEMPORAL_TLS_CERT: no such file {gone}")


def test_unreadable_key_file(tmp_path: Path, pem_files: dict[str, Path]) -> None:
    pem_files["key"].chmod(0)
    try:
        if _can_read(pem_files["key"]):
            pytest.skip("running as root: file permissions do not stop reads")
        with pytest.raises(TemporalSettingsInvalid) as caught:
            connect_options(settings(tmp_path, temporal_tls_cert=pem_files["cert"], temporal_tls_key=pem_files["key"]))
        assert caught.value.setting == "TEMPORAL_TLS_KEY"
        assert str(caught.value) == f"TEMPORAL_TLS_KEY: cannot read {pem_files['key']} (Permission denied)"
    finally:
        pem_files["key"].chmod(0o600)


def _can_read(path: Path) -> bool:
    try:
        path.read_bytes()
    except PermissionError:
        return False
    return True


def test_ca_that_is_a_directory_or_not_pem(tmp_path: Path) -> None:
    with pytest.raises(TemporalSettingsInvalid, match=r"^TEMPORAL_TLS_CA: .* is a directory, not a PEM file$"):
        connect_options(settings(tmp_path, temporal_tls_ca=tmp_path))
    der = tmp_path / "ca.der"
    der.write_bytes(b"\x30\x82\x01\x0a")
    with pytest.raises(TemporalSettingsInvalid, match=r"^TEMPORAL_TLS_CA: .*ca.der is not a PEM file"):
        connect_options(settings(tmp_path, temporal_tls_ca=der))


def test_tls_options_with_tls_forced_off(tmp_path: Path, pem_files: dict[str, Path]) -> None:
    with pytest.raises(TemporalSettingsInvalid, match=r"^TEMPORAL_TLS: false, yet TLS options"):
        connect_options(settings(tmp_path, temporal_tls=False, temporal_tls_ca=pem_files["ca"]))


def test_tls_options_need_an_external_address(tmp_path: Path, pem_files: dict[str, Path]) -> None:
    with pytest.raises(TemporalSettingsInvalid) as caught:
        connect_options(settings(tmp_path, temporal_address=None, temporal_api_key=API_KEY))
    assert caught.value.setting == "TEMPORAL_API_KEY"
    assert "embedded dev server speaks no TLS" in str(caught.value) and API_KEY not in str(caught.value)


def test_key_path_that_cannot_be_opened(tmp_path: Path, pem_files: dict[str, Path]) -> None:
    # Runs as root too (unlike the permission test): a path through a regular file fails to open.
    beyond = pem_files["key"] / "client.key"
    with pytest.raises(TemporalSettingsInvalid) as caught:
        connect_options(settings(tmp_path, temporal_tls_cert=pem_files["cert"], temporal_tls_key=beyond))
    assert str(caught.value) == f"TEMPORAL_TLS_KEY: cannot read {beyond} (Not a directory)"
