"""Fake vendor servers for adapter and end-to-end tests: no network, real wire formats.

Each fake is a stdlib ``ThreadingHTTPServer`` on ``127.0.0.1`` with a free port (bound to port
0), serving from a background thread. Use it as a context manager (or ``start()``/``stop()``;
``stop`` wakes slow handlers, shuts down and joins every thread)::

    from tests.providers.fakes import FakeGemini, FakeMistral, FakeReplicate, FakeFal

    with FakeGemini() as g:
        g.script(["429:2", "ok"])                      # the next two render answers
        renderer = GeminiRenderer("test-key-123", base_url=g.base_url)
        ...
        assert g.count("generate") == 2                # requests per route
        assert g.last("generate").headers["x-goog-api-key"] == "test-key-123"

Scripting:
    ``fake.script(steps, op=None)`` queues behaviours for the next requests of one *op*
    (default: the fake's first op, ``"render"``). Each request of that op consumes one step;
    an empty queue means ``"ok"``, so unscripted fakes just work. A step is a string
    ``"name"`` or ``"name:arg"``. Steps every fake understands:

    ==================  ==========================================================
    ``ok``              success with a real PNG made by Pillow (``fake.image_size``)
    ``429:N``           rate limited; ``N`` = Retry-After seconds (Gemini: RetryInfo
                        ``retryDelay "Ns"`` in the body instead of the header)
    ``500``, ``503``…   any 3-digit status, vendor-shaped error body
    ``slow:S``          sleep S seconds, then answer ``ok`` (for client timeouts)
    ``badimage``        success, but the image bytes do not decode
    ==================  ==========================================================

    Vendor-specific steps are listed in each class docstring (Gemini ``block``/``finish``/
    ``noimage``/``badkey``; Mistral ``notool``; Replicate ``processing:N``/``nsfw``/
    ``failed``/``aborted``/``canceled``/``hold`` (until ``release()``); fal ``queued:N``/``nsfw``/``fail:STATUS``; reviews
    ``badjson``).

Inspection:
    ``fake.requests`` (every :class:`Recorded` request: method, path, route, lower-cased
    ``headers``, raw ``body``, ``.json``, the ``step`` it consumed), ``fake.count(route)``,
    ``fake.received(route)``, ``fake.last(route)``, ``fake.pending(op)``, ``fake.reset()``,
    ``fake.crashes`` (bugs in the fake itself, answered as HTTP 599).

Auth:
    ``FakeX(key="...")`` makes the fake answer 401 to requests without that key (the error
    body echoes what was sent, so tests can prove adapters redact it). By default any key
    is accepted and simply recorded.

Schemas:
    ``FakeReplicate`` and ``FakeFal`` check every input against
    :mod:`tests.providers.model_schemas` (kept apart from the adapters' own table) and answer
    the vendor's 422 for an unknown field or a value outside an enum or range (Replicate at
    create; fal on the result fetch, as its runner validates). ``FakeMistral`` answers 406 to
    a file download that does not ask for ``application/octet-stream``.

Out-of-band jobs (for resume tests): ``FakeReplicate.add_prediction(...)`` and
``FakeFal.add_request(...)`` return the id of a job that an "earlier attempt" created.

Self-hosted renderers: ``tests.providers.fake_a1111.FakeA1111`` (import it from there) is an
AUTOMATIC1111 / Forge web API (``/sdapi/v1`` txt2img, img2img, extra-single-image, progress,
sd-models, samplers, upscalers; wire format in :mod:`tests.providers.a1111_wire`). Calls are
synchronous behind one global lock held for ``render_seconds``; images are deterministic PNGs
carrying the infotext in a ``parameters`` chunk (sd-parsers reads them); optional basic auth
(``auth=(user, password)``). Beyond the common steps it scripts ``hold`` (until ``release()``)
and ``drop`` (render, then close the connection unanswered); ``busy()`` holds the lock as a web
UI user would, ``down()``/``up()`` refuse connections and come back on the same port, and
``wait_until(predicate)`` waits for its state (``waiting``, ``log``, ``renders``) without sleeps.

``tests.providers.fake_comfyui.FakeComfyUI`` (import it from there) is a ComfyUI: HTTP and the
``/ws?clientId=`` websocket on one port (``ws_url``), a real queue run by one executor thread
(``POST /prompt`` with client-chosen ``prompt_id``, never de-duplicated: ``submissions(id)``
counts each), ``/queue`` (delete), ``/interrupt``, ``/history``, ``/view``, ``/upload/image``,
``/object_info`` (KSampler, CLIPTextEncode, EmptyLatentImage, SaveImage, LoadImage, EmptyImage,
ImageScale...) and ``/system_stats``. It validates like ComfyUI (400 ``no_prompt``,
``missing_node_type`` for a UI-format graph or unknown class, ``prompt_outputs_failed_validation``
with ``node_errors``), sends the JSON events only to the submitting client plus binary preview
frames, caches unchanged nodes, and writes PNGs whose bytes depend on seed and size only.
Steps ``error:NodeType:message`` (or ``fail_next()``), ``slow:S``, ``hold`` (until ``release()``);
``restart()`` forgets queue, history and the job in flight; ``down("refuse"|"hang")``/``up()``;
``pause()``/``resume()`` keep jobs pending; ``events`` records every websocket event sent.
"""

from tests.providers.fake_base import (
    BAD_IMAGE,
    FakeServer,
    Recorded,
    Reply,
    Step,
    image_size,
    make_png,
)
from tests.providers.fake_fal import FakeFal
from tests.providers.fake_gemini import FakeGemini
from tests.providers.fake_mistral import FakeMistral
from tests.providers.fake_replicate import FakeReplicate

__all__ = [
    "BAD_IMAGE",
    "FakeFal",
    "FakeGemini",
    "FakeMistral",
    "FakeReplicate",
    "FakeServer",
    "Recorded",
    "Reply",
    "Step",
    "image_size",
    "make_png",
]
