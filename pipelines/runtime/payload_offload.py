"""Payloads stay small by construction: any payload over a threshold goes to the asset store.

Workflows pass asset keys, never bytes; this codec makes the rule hold even when a value is
large by mistake (a long note, a huge parameter dict). A payload larger than
``STUDIO_PAYLOAD_OFFLOAD_BYTES`` is stored whole (serialized, metadata and all) in the
content-addressed asset store and replaced by a small reference payload whose encoding is
:data:`OFFLOAD_ENCODING` and whose data is the asset key; decoding fetches it back. The same bytes
give the same key, so an activity or workflow task that runs twice stores one object.

The codec sits in the client's data converter (:func:`pipelines.runtime.connection.connect`), so the CLI,
every worker and the dashboard all encode and decode alike. Codecs run outside the workflow
sandbox, on the event loop: the store's blocking I/O goes to a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

from studio.errors import StudioError
from studio.settings import Settings
from studio.storage import AssetStore, open_asset_store

OFFLOAD_ENCODING = b"binary/studio-offload"
# Not a known image type, so the store names the object <sha256>.bin.
OFFLOAD_MIME_TYPE = "application/x-temporal-payload"
# The original payload's size, for whoever reads a history by hand (the Web UI, `temporal workflow show`).
SIZE_KEY = "studio-offload-size"


class OffloadCorrupt(StudioError):
    """An offloaded payload came back from the asset store with bytes that do not match its key.

    Attributes:
        key: The asset key the reference named.
    """

    def __init__(self, key: str) -> None:
        super().__init__(f"offloaded payload {key} does not match its key: the asset store copy is damaged")
        self.key = key


class PayloadOffloadCodec(PayloadCodec):
    """Moves payloads over ``threshold`` bytes into an asset store, leaving a reference behind.

    Args:
        open_store: Opens the asset store, called once on the first large payload: most clients
            never see one, and an S3 store checks its bucket over the network when opened.
        threshold: Payloads whose serialized size exceeds this many bytes are offloaded.
    """

    def __init__(self, open_store: Callable[[], AssetStore], *, threshold: int) -> None:
        self.threshold = threshold
        self._open_store = open_store
        self._store: AssetStore | None = None
        self._lock = threading.Lock()

    def store(self) -> AssetStore:
        """The asset store, opened on first use (thread-safe: called from worker threads)."""
        with self._lock:
            if self._store is None:
                self._store = self._open_store()
            return self._store

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Replace each payload over the threshold by a reference; others pass unchanged."""
        if all(not self._too_big(p) for p in payloads):
            return list(payloads)
        return await asyncio.to_thread(lambda: [self._offload(p) if self._too_big(p) else p for p in payloads])

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Fetch back each offloaded payload; others pass unchanged."""
        if not any(is_reference(p) for p in payloads):
            return list(payloads)
        return await asyncio.to_thread(lambda: [self._fetch(p) if is_reference(p) else p for p in payloads])

    def _too_big(self, payload: Payload) -> bool:
        # A reference is never offloaded again (a payload can pass through encode twice, e.g.
        # when a decoded value is re-sent as it was).
        return payload.ByteSize() > self.threshold and not is_reference(payload)

    def _offload(self, payload: Payload) -> Payload:
        # Deterministic serialization: the same payload always gives the same bytes, hence key.
        data = payload.SerializeToString(deterministic=True)
        key = self.store().put(data, OFFLOAD_MIME_TYPE)
        return Payload(
            metadata={"encoding": OFFLOAD_ENCODING, SIZE_KEY: str(len(data)).encode()},
            data=key.encode(),
        )

    def _fetch(self, reference: Payload) -> Payload:
        key = reference.data.decode()
        data = self.store().get(key)
        if hashlib.sha256(data).hexdigest() != key.split(".", 1)[0]:
            raise OffloadCorrupt(key)
        return Payload.FromString(data)


def is_reference(payload: Payload) -> bool:
    """Whether ``payload`` is a reference left by :class:`PayloadOffloadCodec`."""
    return payload.metadata.get("encoding") == OFFLOAD_ENCODING


def offload_codec(settings: Settings) -> PayloadOffloadCodec:
    """The codec for ``settings``: their asset store (local or S3) and ``STUDIO_PAYLOAD_OFFLOAD_BYTES``."""
    return PayloadOffloadCodec(lambda: open_asset_store(settings), threshold=settings.payload_offload_bytes)


def data_converter(settings: Settings) -> DataConverter:
    """The default data converter with the offloading codec: what every studio client uses."""
    return DataConverter(payload_codec=offload_codec(settings))


def iter_payloads(message: Message) -> Iterator[Payload]:
    """Every :class:`Payload` inside a protobuf message (a history, an event), at any depth.

    Used to audit histories: what Temporal stores is exactly these payloads, so their sizes say
    whether anything large slipped through.
    """
    for fd, value in message.ListFields():
        if fd.message_type is None:
            continue
        if fd.message_type.GetOptions().map_entry:
            if fd.message_type.fields_by_name["value"].message_type is None:
                continue
            items: Iterator[Message] = iter(value.values())
        elif fd.is_repeated:
            items = iter(value)
        else:
            items = iter((value,))
        for item in items:
            if isinstance(item, Payload):
                yield item
            else:
                yield from iter_payloads(item)
