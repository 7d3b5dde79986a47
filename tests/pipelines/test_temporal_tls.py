"""A batch over real mTLS: the session's dev server behind a TLS front that demands a client certificate.

The dev server speaks no TLS itself (see tests/pipelines/tls_proxy.py); what is tested here is the
client side: that the settings' files make a handshake the TLS front accepts, and that one it
refuses (no client certificate, a wrong server name) ends in a one-line ``ConnectionFailed``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import ConnectionFailed, connect
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.backends import catalog_dump
from tests.pipelines.processes import kill_hard, spawn_worker
from tests.pipelines.tls_proxy import SERVER_NAME, Pki, make_pki, tls_front
from tests.support.projects import write_project
from tests.support.workers import running_workers


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    folder = tmp_path / "pki"
    folder.mkdir()
    return make_pki(folder)


@pytest.fixture
async def tls_address(pki: Pki, temporal_address: str) -> AsyncIterator[str]:
    async with tls_front(pki, temporal_address) as address:
        yield address


def over_tls(settings: Settings, address: str, **fields: object) -> Settings:
    return settings.model_copy(update={"temporal_address": address, **fields})


async def test_batch_runs_over_mtls(
    settings: Settings, catalog: Catalog, assets: AssetStore, pki: Pki, tls_address: str, tmp_path: Path
) -> None:
    secure = over_tls(
        settings,
        tls_address,
        temporal_tls_cert=pki.client_cert,
        temporal_tls_key=pki.client_key,
        temporal_tls_ca=pki.ca,
        temporal_tls_server_name=SERVER_NAME,
    )
    client = await connect(secure)
    async with running_workers(client, secure):
        body = '[project]\nname = "Over TLS"\nseed = 3\n[defaults]\nsize = "64x64"\nvariants = 1\n'
        body += '[[shots]]\nid = "a"\nprompt = "a lighthouse"\n[[shots]]\nid = "b"\nprompt = "a harbour"\n'
        batch, _ = prepare_batch(secure, catalog, assets, write_project(tmp_path / "p", body))
        await start_batch(client, secure, batch.id)
        assert await asyncio.wait_for(wait_batch(client, batch.id), 60) == {"published": 2}


async def test_no_client_certificate_is_refused(settings: Settings, pki: Pki, tls_address: str) -> None:
    secure = over_tls(settings, tls_address, temporal_tls_ca=pki.ca, temporal_tls_server_name=SERVER_NAME)
    with pytest.raises(ConnectionFailed, match=r"the TLS / API key settings$"):
        await connect(secure)


async def test_wrong_server_name_is_refused(settings: Settings, pki: Pki, tls_address: str) -> None:
    secure = over_tls(
        settings,
        tls_address,
        temporal_tls_cert=pki.client_cert,
        temporal_tls_key=pki.client_key,
        temporal_tls_ca=pki.ca,
        temporal_tls_server_name="someone-else.test",
    )
    with pytest.raises(ConnectionFailed):
        await connect(secure)


@pytest.mark.temporal  # speaks TLS to the session's plaintext server
async def test_tls_to_a_plaintext_server_fails_clearly(settings: Settings) -> None:
    with pytest.raises(ConnectionFailed, match=r"^cannot reach Temporal at 127\.0\.0\.1:\d+: check TEMPORAL_ADDRESS"):
        await connect(settings.model_copy(update={"temporal_tls": True}))


@pytest.mark.temporal  # a worker process and a client of the session's server
async def test_api_key_reaches_no_history_catalog_or_log(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    # The dev server ignores the key's header, so a plaintext connection (TEMPORAL_TLS=false) carries
    # a whole batch with the key configured in the CLI side and in a `studio worker` process.
    key = "tmprl-api-key-5e3f9a0c-never-stored"
    keyed = settings.model_copy(update={"temporal_api_key": SecretStr(key), "temporal_tls": False})
    log = tmp_path / "worker.log"
    worker = spawn_worker(keyed, log, TEMPORAL_API_KEY=key, TEMPORAL_TLS="false", STUDIO_LOG_FORMAT="json")
    try:
        client = await connect(keyed)
        body = (
            '[project]\nname = "Keyed"\nseed = 5\n[defaults]\nsize = "64x64"\n[[shots]]\nid = "a"\nprompt = "a quay"\n'
        )
        batch, _ = prepare_batch(keyed, catalog, assets, write_project(tmp_path / "p", body))
        await start_batch(client, keyed, batch.id)
        assert await asyncio.wait_for(wait_batch(client, batch.id), 60) == {"published": 1}
    finally:
        kill_hard(worker)
    histories = [await client.get_workflow_handle(w).fetch_history() for w in (batch.id, f"{batch.id}/a")]
    assert all(key.encode() not in h.to_json().encode() for h in histories)
    assert key.encode() not in catalog_dump(keyed, catalog)
    assert log.read_text(), "the worker logged nothing: nothing was tested"
    assert key not in log.read_text()
