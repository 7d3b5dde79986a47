"""Large payloads go to the asset store, small ones stay; histories never carry a large payload."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():  # the sandbox (STUDIO_WORKFLOW_SANDBOX=1) re-imports this module
    from pipelines.runtime.payload_offload import (
        OFFLOAD_ENCODING,
        OffloadCorrupt,
        PayloadOffloadCodec,
        is_reference,
        iter_payloads,
    )
    from pipelines.runtime.worker import workflow_runner
    from studio.settings import Settings
    from studio.storage import (
        AssetMissing,
        AssetStore,
        LocalAssetStore,
        open_asset_store,
    )
    from tests.backends import new_bucket, stored_keys


THRESHOLD = 256 * 1024
CONVERTER = DataConverter.default.payload_converter


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> AssetStore:
    if request.param == "local":
        return LocalAssetStore(tmp_path / "assets")
    endpoint = request.getfixturevalue("s3_endpoint")
    return open_asset_store(
        Settings(home=tmp_path, assets=f"s3://{new_bucket(endpoint)}/a", s3_endpoint_url=endpoint, _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    )


@pytest.fixture
def codec(store: AssetStore) -> PayloadOffloadCodec:
    return PayloadOffloadCodec(lambda: store, threshold=THRESHOLD)


def big_text(size: int, seed: str = "x") -> str:
    """``size`` characters that do not repeat in any short period."""
    blocks = (hashlib.sha256(f"{seed}{i}".encode()).hexdigest() for i in range(size // 64 + 1))
    return "".join(blocks)[:size]


async def test_small_payloads_pass_unchanged_and_open_no_store() -> None:
    def never() -> AssetStore:
        raise AssertionError("a small payload must not open the asset store")

    codec = PayloadOffloadCodec(never, threshold=THRESHOLD)
    payloads = CONVERTER.to_payloads(["a shot id", {"take": 3, "note": "n" * 1000}, None])
    assert await codec.encode(payloads) == payloads
    assert await codec.decode(payloads) == payloads


async def test_large_payload_round_trips_through_the_store(codec: PayloadOffloadCodec, store: AssetStore) -> None:
    value = {"note": big_text(THRESHOLD + 1), "take": 7}
    small = CONVERTER.to_payloads(["beside it"])[0]
    original = CONVERTER.to_payloads([value])[0]
    encoded = await codec.encode([small, original])
    assert encoded[0] == small
    reference = encoded[1]
    assert is_reference(reference) and reference.metadata["encoding"] == OFFLOAD_ENCODING
    assert reference.ByteSize() < 200
    key = reference.data.decode()
    assert (
        store.exists(key) and key == f"{hashlib.sha256(original.SerializeToString(deterministic=True)).hexdigest()}.bin"
    )
    decoded = await codec.decode(encoded)
    assert decoded == [small, original]
    assert CONVERTER.from_payloads(decoded) == ["beside it", value]


async def test_threshold_is_on_the_whole_payload(codec: PayloadOffloadCodec) -> None:
    at = Payload(metadata={"encoding": b"binary/plain"}, data=b"")
    at.data = b"x" * (THRESHOLD - at.ByteSize() - 4)  # the length prefix grows with the data
    while at.ByteSize() < THRESHOLD:
        at.data += b"x"
    assert at.ByteSize() == THRESHOLD
    over = Payload(metadata=dict(at.metadata), data=at.data + b"x")
    encoded = await codec.encode([at, over])
    assert encoded[0] == at and is_reference(encoded[1])


async def test_offloading_is_idempotent(codec: PayloadOffloadCodec, store: AssetStore) -> None:
    payload = CONVERTER.to_payloads([big_text(THRESHOLD * 2)])[0]
    first, second = await codec.encode([payload]), await codec.encode([payload])
    assert first == second, "the same payload gives the same reference (content-addressed)"
    assert await codec.encode(first) == first, "a reference is never offloaded again"
    assert len(stored_keys(store)) == 1


async def test_missing_or_damaged_object_fails_loudly(tmp_path: Path) -> None:
    store = LocalAssetStore(tmp_path / "assets")
    codec = PayloadOffloadCodec(lambda: store, threshold=THRESHOLD)
    [reference] = await codec.encode(CONVERTER.to_payloads([big_text(THRESHOLD + 10)]))
    key = reference.data.decode()
    store.path(key).write_bytes(b"not what was stored")
    with pytest.raises(OffloadCorrupt, match=f"^offloaded payload {key} does not match its key"):
        await codec.decode([reference])
    store.path(key).unlink()
    with pytest.raises(AssetMissing):
        await codec.decode([reference])


@activity.defn
async def echo_reversed(text: str) -> str:
    return text[::-1]


@workflow.defn
class LargeEchoWorkflow:
    """Receives a large input, sends it to an activity, and returns a large result."""

    @workflow.run
    async def run(self, text: str) -> dict[str, str]:
        back = await workflow.execute_activity(echo_reversed, text, start_to_close_timeout=timedelta(seconds=30))
        return {"input_sha256": hashlib.sha256(text.encode()).hexdigest(), "echo": back, "tail": text[-8:]}


async def test_history_carries_no_large_payload(client: Client, settings: Settings, assets: AssetStore) -> None:
    # 3 MB: beyond even Temporal's 2 MB hard limit, which a reference never comes near.
    text = big_text(3 * 1024 * 1024, seed=uuid.uuid4().hex)
    async with Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[LargeEchoWorkflow],
        activities=[echo_reversed],
        workflow_runner=workflow_runner(settings),
    ):
        handle = await client.start_workflow(
            LargeEchoWorkflow.run, text, id=f"large-{uuid.uuid4().hex[:8]}", task_queue=settings.task_queue
        )
        result = await handle.result()
    assert result == {
        "input_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "echo": text[::-1],
        "tail": text[-8:],
    }, "the workflow and the activity saw the original values"
    history = await handle.fetch_history()
    payloads = [p for event in history.events for p in iter_payloads(event)]
    assert max(p.ByteSize() for p in payloads) <= settings.payload_offload_bytes
    references = [p for p in payloads if is_reference(p)]
    # workflow input, activity input, activity result, workflow result
    assert len(references) == 4, [p.metadata for p in payloads]
    assert {p.data.decode() for p in references} <= stored_keys(assets)
    assert len({p.data.decode() for p in references}) == 3, "the activity input is the workflow input: one object"
