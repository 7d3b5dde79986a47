"""The render activity: one take, one provider, paid for at most once.

A mixin of :class:`pipelines.activities.stages.StudioActivities` (which gives it its
dependencies, the in-process limits and the upscale and review activities that finish an
in-process take), kept apart so each file holds one subject.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.exceptions import ApplicationError

from pipelines.activities.failures import inconsistent
from pipelines.activities.node_calls import NodeWake, load_workflow, progress_reporter
from pipelines.activities.provider_calls import BLOCKED_ERRORS, heartbeating, provider_failure
from pipelines.activities.provider_registry import ProviderSet
from pipelines.activities.unsaved import UnsavedRenders
from pipelines.messages import StageInput, TakeOutcome
from providers.base import ErrorKind, ProviderError, Renderer, RenderRequest, RenderResult
from studio.catalog.call_guard import BUSY_WAIT, CallPolicy
from studio.catalog.models import Take
from studio.catalog.stages import RenderStart, begin_render
from studio.catalog.store import Catalog
from studio.errors import StudioError
from studio.rendering.cache import configured_model, take_recipe_hash
from studio.rendering.params import provider_params
from studio.review.rework import EditWay, edit_prompt, edit_way
from studio.spending.prices import price_of
from studio.states import CallStatus, TakeStatus
from studio.storage.local import AssetStore, image_size


class RenderActivities:
    """The render activity (mixed into StudioActivities)."""

    catalog: Catalog
    assets: AssetStore
    providers: ProviderSet
    policy: CallPolicy
    _unsaved: UnsavedRenders
    _node_wake: NodeWake

    if TYPE_CHECKING:  # defined by StudioActivities

        def _limit(self, provider: str) -> asyncio.Semaphore: ...

        async def upscale(self, inp: StageInput) -> TakeOutcome: ...

        async def review(self, inp: StageInput) -> TakeOutcome: ...

    @activity.defn(name="render")
    async def render(self, inp: StageInput) -> TakeOutcome:
        """Render one take with one provider, unless an earlier run already did."""
        renderer = self.providers.renderers.get(inp.provider)
        if renderer is None:
            raise ApplicationError(
                f"{inp.provider}: not configured on this worker", type=ErrorKind.INVALID, non_retryable=True
            )
        model = getattr(renderer, "model", None)
        price = price_of("render", inp.provider, model, self.policy.prices)
        # In-process, a render waits for its turn before it is written down: a call waiting for
        # the worker's slot has not started, so a pause (or a budget) still holds it.
        async with self._limit(inp.provider) if activity.info().is_local else contextlib.nullcontext():
            start = await self._begin_render(inp, price, model)
            if not start.done:  # else rendered by an earlier attempt, or an identical earlier render reused
                await self._call(inp, renderer, start)
        provider = (start.take.provider or inp.provider) if start.done else inp.provider
        return await self._finish(inp, TakeOutcome(start.take.id, ok=True, provider=provider))

    async def _call(self, inp: StageInput, renderer: Renderer, start: RenderStart) -> None:
        """Make the render call ``start`` wrote down, and store its image (or record its failure)."""
        take = start.take
        if start.attempt_id is None:
            raise inconsistent(f"take {take.id}: its render call was not written down")
        attempt_id = start.attempt_id

        async def save_job(vendor_job: str) -> None:
            await asyncio.to_thread(self.catalog.set_attempt_job, attempt_id, vendor_job)

        request = await asyncio.to_thread(self._request, take, inp.provider, start, attempt_id)
        # Self-hosted nodes report queue position and steps; the heartbeats carry them.
        on_progress = progress_reporter(self.catalog, attempt_id, heartbeats=not activity.info().is_local)
        started = time.monotonic()
        try:
            kept = self._unsaved.kept(take.id, inp.provider)
            if kept is not None:  # made before an outage stopped it being stored: not paid for again
                result = kept
            elif activity.info().is_local:  # holding the worker's slot for it (render)
                result = await renderer.render(request, on_job=save_job, on_progress=on_progress)
            else:
                async with heartbeating():
                    result = await renderer.render(request, on_job=save_job, on_progress=on_progress)
        except ProviderError as err:
            await asyncio.to_thread(
                self.catalog.finish_attempt,
                attempt_id,
                status=CallStatus.FAILED,
                error_class=type(err).__name__,
                error=str(err)[:500],
                latency_ms=int((time.monotonic() - started) * 1000),
                cost_usd=0.0,
            )
            self._freed(inp.provider, start)
            raise provider_failure(err) from None
        latency_ms = int((time.monotonic() - started) * 1000)
        self._unsaved.keep(take.id, inp.provider, result)
        await asyncio.to_thread(self._store_render, inp.provider, take, attempt_id, result, latency_ms, start)
        self._unsaved.stored(take.id, inp.provider)
        self._freed(inp.provider, start)

    def _freed(self, provider: str, start: RenderStart) -> None:
        """The call's row is closed: its node is free for the renders this process has waiting."""
        if start.node is not None:
            self._node_wake.freed(provider)

    def _request(self, take: Take, provider: str, start: RenderStart, attempt_id: int) -> RenderRequest:
        """What to ask ``provider`` for: the take, the provider's own options, its node and graph (in a thread)."""
        params = provider_params(take.params, provider)
        init_image = self.assets.get(take.init_key) if take.init_key else None
        # A targeted edit goes as a mask to providers that take one, in words to those that edit
        # from an image and text, and as the take's prompt (note and pins' texts in it) to the rest.
        way = edit_way(provider, take.mask_key is not None)
        mask = self.assets.get(take.mask_key) if way == EditWay.MASK and take.mask_key and init_image else None
        return RenderRequest(
            prompt=edit_prompt(take, way),
            width=take.width,
            height=take.height,
            negative=take.negative,
            seed=take.seed,
            params=params,
            job_id=start.job_id,
            init_image=init_image,
            strength=take.strength if init_image is not None else None,
            mask=mask,
            workflow=load_workflow(self.assets, params),
            node=start.node,
            # Self-hosted renderers name their job after it, so a retry finds the job again.
            call_id=f"{take.id}/{attempt_id}",
        )

    async def _finish(self, inp: StageInput, rendered: TakeOutcome) -> TakeOutcome:
        """Upscale and review a rendered take in this activity when asked to (``inp.finish``).

        Each stage finds its earlier result as it would in an activity of its own. A failure
        hands the take back as merely rendered: the workflow then runs the stages one by one,
        with their own retries and the upscale chain, and records why they failed.
        """
        if not inp.finish:
            return rendered
        try:
            if inp.upscale > 1:
                await self.upscale(StageInput(rendered.take_id, "local", inp.upscale))
            return await self.review(StageInput(rendered.take_id, "local"))
        except (ApplicationError, StudioError, OSError, ValueError) as err:
            activity.logger.warning(
                "in-process stages of %s failed; the workflow runs them one by one: %s", rendered.take_id, err
            )
            return rendered

    async def _begin_render(self, inp: StageInput, price: float, model: str | None) -> RenderStart:
        """Reuse an identical render, or write the call down, waiting while the provider is busy; fail when blocked.

        Args:
            model: The model the renderer is configured with (part of the render cache's key).
        """
        info = activity.info()
        cache_model = configured_model(inp.provider, model)

        def recipe(take: Take) -> str | None:
            return take_recipe_hash(take, inp.provider, cache_model)

        while True:
            start = await asyncio.to_thread(
                begin_render,
                self.catalog,
                inp.take_id,
                provider=inp.provider,
                attempt=info.attempt,
                price=price,
                policy=self.policy,
                recipe=recipe,
            )
            if start.blocked is None:
                return start
            if start.blocked.reason != "busy":
                # Over budget: the workflow holds the shot at a budget gate. Circuit open: next provider.
                kind = BLOCKED_ERRORS[start.blocked.reason]
                hint = [start.blocked.retry_in] if start.blocked.retry_in else []
                raise ApplicationError(start.blocked.message, *hint, type=kind, non_retryable=True)
            if not info.is_local:
                activity.heartbeat()
            # Every node busy: a node freed by a render in this process wakes this one at once.
            await self._node_wake.wait(inp.provider, start.blocked.retry_in or BUSY_WAIT)

    def _store_render(
        self,
        provider: str,
        take: Take,
        attempt_id: int,
        result: RenderResult,
        latency_ms: int,
        start: RenderStart,
    ) -> None:
        """Store a rendered image and close its call with the take's recipe, in one transaction (in a thread).

        The recipe hash goes with it, so later takes with the same recipe reuse this render.
        """
        params = dict(result.params)
        delivered = image_size(result.image)
        if delivered != (take.width, take.height):
            # Vendors choose their own pixel sizes (by aspect ratio); review expects what came.
            params["delivered_size"] = list(delivered)
        way = edit_way(provider, take.mask_key is not None)
        if way is not None:  # the provider's params replace the take's: say how the edit was sent
            params["edit"] = str(way)
        take_fields = dict(
            status=TakeStatus.RENDERED,
            provider=provider,
            model=result.model,
            seed_used=result.seed,
            reproducible=result.reproducible,
            revised_prompt=result.revised_prompt,
            params=params,
            error=None,
            recipe_hash=start.recipe_hash,
        )
        key = self.assets.put(result.image, result.mime_type)
        cost = price_of("render", provider, result.model, self.policy.prices)
        self.catalog.complete_attempt(
            attempt_id,
            take.id,
            {**take_fields, "asset_key": key},
            latency_ms=latency_ms,
            job_id=result.job_id or start.job_id,
            cost_usd=cost,
        )
