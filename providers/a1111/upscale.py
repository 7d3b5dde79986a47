"""Upscaling on AUTOMATIC1111 / Forge: ``POST /sdapi/v1/extra-single-image``.

``{image: base64, upscaling_resize: factor, upscaler_1: name}`` → ``{image: base64, html_info}``.
Synchronous like rendering, with no job id: ``on_job`` is never called and ``job_id`` cannot be
resumed (a call cut short is simply made again).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import httpx

from providers._http.errors import check_image, check_input_image
from providers.a1111.api import A1111API, PROVIDER, decode_image
from providers.a1111.spec import DEFAULT_UPSCALER
from providers.base import InvalidRequest, JobCallback, UpscaleResult

FACTOR_RANGE = (1, 8)
"""``upscaling_resize`` bounds of A1111's ``ExtrasSingleImageRequest``."""


class A1111Upscaler:
    """An upscaler model of the node (``R-ESRGAN 4x+`` by default; ``GET /sdapi/v1/upscalers`` lists them).

    Upscales go to the pool's first node: they take seconds, so spreading them over the pool would
    win little, and the render pool's slots stay for renders.

    Args:
        nodes: The node URLs of the pool (the first is used).
        auth: ``user:password`` for ``--api-auth`` (or a bearer token for a proxy); empty for none.
        upscaler: The ``upscaler_1`` name.
        timeout: Seconds one upscale may take, waiting for the node's lock included.
        transport: httpx transport for tests.
    """

    name = PROVIDER

    def __init__(
        self,
        nodes: Sequence[str],
        *,
        auth: str = "",
        upscaler: str = DEFAULT_UPSCALER,
        timeout: float = 600,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api = A1111API(nodes, auth=auth, timeout=timeout, transport=transport)
        self.model = upscaler

    def __repr__(self) -> str:
        return f"A1111Upscaler(nodes={list(self._api.nodes)!r}, upscaler={self.model!r})"

    async def upscale(
        self, image: bytes, *, factor: int, on_job: JobCallback | None = None, job_id: str | None = None
    ) -> UpscaleResult:
        """Upscale ``image`` by ``factor`` in each dimension on the pool's first node.

        Args:
            image: Encoded image to upscale.
            factor: Scale factor, 1 to 8.
            on_job: Never called (no job ids).
            job_id: Ignored: there is no job to resume.

        Raises:
            InvalidRequest: ``image`` does not decode or ``factor`` is out of range (nothing is
                sent), the node refused the request, or it has no upscaler of that name.
            AuthFailed: The node wants other credentials.
            Unavailable: 5xx, a refused, dropped or timed-out connection.
            BadImage: The answer has no decodable image.
        """
        low, high = FACTOR_RANGE
        if not low <= factor <= high:
            raise InvalidRequest(
                f"{PROVIDER} upscales by {low} to {high}, not {factor}", provider=PROVIDER, detail="factor out of range"
            )
        check_input_image(image, PROVIDER, what="image to upscale")
        node = self._api.node_for(None)
        body = {
            "image": base64.b64encode(image).decode("ascii"),
            "upscaling_resize": factor,
            "upscaler_1": self.model,
        }
        async with self._api.client() as client:
            answer = await self._api.call(client, "POST", node, "/sdapi/v1/extra-single-image", body)
        out = decode_image(answer.get("image") if isinstance(answer, dict) else None)
        mime, _, _ = check_image(out, PROVIDER)
        return UpscaleResult(
            image=out,
            mime_type=mime,
            model=self.model,
            params={"node": node, "upscaler": self.model, "factor": factor},
        )


__all__ = ["FACTOR_RANGE", "A1111Upscaler"]
