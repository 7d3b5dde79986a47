"""Traces and JSON logs of a real batch: spans for the batch, its shots, their activities and the
provider's HTTP calls, one trace per batch, the studio's ids on every span; OTLP/HTTP export to a
local collector; nothing at all when the settings leave telemetry off."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.opentelemetry import OpenTelemetryInterceptor
from temporalio.runtime import Runtime

from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import connect
from pipelines.runtime.telemetry import ActivityIdsInterceptor, client_plugins, setup_process
from pipelines.runtime.tracing import (
    build_tracer_provider,
    install_tracing,
    installed_provider,
    stop_httpx_tracing,
)
from pipelines.runtime.worker import build_workers
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.pipelines.processes import kill_hard, spawn_worker, worker_env
from tests.providers.fakes import FakeGemini
from tests.support.projects import write_project
from tests.support.workers import running_workers

ROOT = Path(__file__).resolve().parents[2]
GEMINI_KEY = "gemini-secret-key-for-traces-41c9"
PROJECT = """
[project]
name = "Traced"
seed = 3
chain = ["gemini"]
[defaults]
size = "64x64"
upscale = 1
[[shots]]
id = "harbour"
prompt = "a harbour at dawn"
[[shots]]
id = "lighthouse"
prompt = "a lighthouse in fog"
"""


@pytest.fixture(scope="module")
def exported() -> Iterator[InMemorySpanExporter]:
    """This process's tracer provider, exporting to memory instead of OTLP (installed once: the
    global provider can be set only once per process)."""
    exporter = InMemorySpanExporter()
    provider = installed_provider()
    if provider is None:
        install_tracing(Settings(_env_file=None), service="studio-test", exporter=exporter)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    else:  # another module of this run installed it first: listen to it too
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        provider.add_span_processor(SimpleSpanProcessor(exporter))
        install_tracing(Settings(_env_file=None), service="studio-test")  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    yield exporter
    stop_httpx_tracing()  # the rest of the run sees httpx as it was


def finished_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    provider = installed_provider()
    assert provider is not None and provider.force_flush(10_000)
    return list(exporter.get_finished_spans())


@asynccontextmanager
async def workers_of(settings: Settings) -> AsyncIterator[Client]:
    """The workers of one `studio worker` process, in this process; yields their client."""
    client = await connect(settings)
    async with running_workers(client, settings):
        yield client


@pytest.fixture
def json_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The root logger as a JSON-lines stream for the test; logging is restored afterwards.

    The Temporal runtime that JSON mode installs (core logs forwarded to Python) is recorded, not
    installed: it would stay this test process's default for every later test.
    """
    monkeypatch.setattr(Runtime, "set_default", staticmethod(lambda runtime, **_: RUNTIMES.append(runtime)))
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    on_message = (activity.logger.activity_info_on_message, workflow.logger.workflow_info_on_message)
    stream = io.StringIO()
    yield stream
    root.handlers[:], root.level = saved
    activity.logger.activity_info_on_message, workflow.logger.workflow_info_on_message = on_message


RUNTIMES: list[Runtime] = []


def attrs(span: ReadableSpan) -> dict[str, object]:
    return dict(span.attributes or {})


@pytest.mark.temporal  # connects its own client and workers to the session's server
async def test_a_batch_is_one_trace_with_ids_on_every_span(
    settings: Settings, exported: InMemorySpanExporter, json_log: io.StringIO, tmp_path: Path
) -> None:
    """A batch is one trace, with the batch, shot and take ids on every span.

    Long because one batch's trace is checked span kind by span kind.
    """
    exported.clear()
    with FakeGemini() as gemini:
        gemini.script(["503", "ok"], op="render")  # one failed attempt: a warning from Temporal
        traced = settings.model_copy(
            update={
                "otlp_endpoint": "http://127.0.0.1:9",
                "log_format": "json",
                "gemini_api_key": SecretStr(GEMINI_KEY),
                "gemini_base_url": gemini.base_url,
            }
        )
        vendor_url = gemini.base_url
        setup_process(traced, service="studio-worker", level=logging.INFO)
        assert len(RUNTIMES) == 1  # the core's own log lines go through the JSON formatter too
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(json_log)
        catalog = Catalog.open(traced.catalog_url)
        batch, _ = prepare_batch(traced, catalog, open_asset_store(traced), write_project(tmp_path / "p", PROJECT))
        async with workers_of(traced) as client:
            await start_batch(client, traced, batch.id)
            assert await wait_batch(client, batch.id) == {"published": 2}
        spans = finished_spans(exported)

    by_name: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    for name in (
        "StartWorkflow:BatchWorkflow",
        "RunWorkflow:BatchWorkflow",
        "StartChildWorkflow:ShotWorkflow",
        "RunActivity:storyboard",
        "RunActivity:render",
        "RunActivity:review",
        "RunActivity:publish",
    ):
        assert name in by_name, f"no {name} span among {sorted(by_name)}"
    assert len(by_name["RunWorkflow:ShotWorkflow"]) == 2

    # One batch, one trace: the CLI's start, the batch, both shots and every activity under it.
    (start,) = by_name["StartWorkflow:BatchWorkflow"]
    trace_id = start.context.trace_id
    ours = [s for s in spans if attrs(s).get("studio.batch_id") == batch.id]
    assert {s.context.trace_id for s in ours} == {trace_id}
    for shot in ("harbour", "lighthouse"):
        shot_spans = [s for s in ours if attrs(s).get("studio.shot_id") == shot]
        names = {s.name for s in shot_spans}
        assert {"RunWorkflow:ShotWorkflow", "RunActivity:render", "RunActivity:review", "RunActivity:publish"} <= names
        take = f"{batch.id}/{shot}/1"
        for span in shot_spans:
            if span.name in ("RunActivity:render", "RunActivity:review", "RunActivity:publish"):
                assert attrs(span)["studio.take_id"] == take, span.name
        renders = [s for s in shot_spans if s.name == "RunActivity:render"]
        assert {attrs(s)["studio.provider"] for s in renders} == {"gemini"}

    # The provider's HTTP calls are spans under their render/review activity, with the take's id.
    activity_ids = {s.context.span_id for s in spans if s.name.startswith("RunActivity:")}
    http = [s for s in spans if str(attrs(s).get("http.url") or attrs(s).get("url.full") or "").startswith(vendor_url)]
    assert len(http) >= 5  # per shot: a failed and a good render, a review
    for span in http:
        assert span.parent is not None and span.parent.span_id in activity_ids
        assert str(attrs(span)["studio.take_id"]).startswith(batch.id + "/")
    statuses = sorted(attrs(s).get("http.status_code") or attrs(s).get("http.response.status_code") for s in http)
    assert 503 in statuses and 200 in statuses

    # No span carries a key, not even the HTTP ones (headers are not recorded).
    assert GEMINI_KEY not in json.dumps([attrs(s) for s in spans], default=str)

    # JSON logs: one object per line, with the ids, trace ids inside spans, and no key.
    text = json_log.getvalue()
    assert GEMINI_KEY not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    # A vendor's 503 is weather: one line from the outage log (no traceback per try), with the ids.
    failed = [line for line in lines if line["logger"] == "studio.outages" and line["level"] == "WARNING"]
    assert failed and failed[0]["batch_id"] == batch.id and failed[0]["activity"] == "render"
    assert failed[0]["message"].startswith("provider gemini is unavailable") and "exception" not in failed[0]
    assert failed[0]["take_id"].startswith(f"{batch.id}/") and "{" not in failed[0]["message"].split("\n")[0]
    requests = [line for line in lines if line["logger"] == "httpx"]
    assert requests and all(line["take_id"].startswith(f"{batch.id}/") for line in requests)
    assert all(line["trace_id"] == format(trace_id, "032x") for line in requests)


async def test_without_the_settings_no_tracing_is_wired(settings: Settings, client: Client) -> None:
    assert client_plugins(settings) == []
    assert client.config()["plugins"] == [] and client.config(active_config=True)["interceptors"] == []
    for worker in build_workers(client, settings):
        config = worker.config(active_config=True)
        assert not [
            i
            for i in config.get("interceptors", [])
            if isinstance(i, OpenTelemetryInterceptor | ActivityIdsInterceptor)
        ]
        assert not config.get("plugins")

    # A fresh process that connects and builds workers never loads OpenTelemetry at all.
    probe = (
        "import sys\n"
        "from pipelines.runtime.telemetry import client_plugins\n"
        "import pipelines.runtime.worker, pipelines.runtime.connection, studio.cli, studio.cli.stack\n"
        "from studio.settings import Settings\n"
        "for fmt in ('text', 'json'):\n"
        "    plugins = client_plugins(Settings(_env_file=None, log_format=fmt))\n"
        "    print(fmt, [p.name() for p in plugins])\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=worker_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = done.stdout.splitlines()
    assert out == ["text []", "json ['studio.activity-ids']", "[]"]


class Collector:
    """A stand-in OTLP/HTTP collector: records what is POSTed to /v1/traces."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                collector.requests.append((self.path, self.headers.get("Content-Type", ""), body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the test output clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def spans(self) -> list[tuple[str, dict[str, str], dict[str, object]]]:
        """(span name, resource attributes, span attributes) of everything received."""
        found = []
        for path, content_type, body in self.requests:
            assert path == "/v1/traces" and content_type == "application/x-protobuf"
            request = ExportTraceServiceRequest.FromString(body)
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        values = {a.key: a.value.string_value or a.value.int_value for a in span.attributes}
                        found.append((span.name, resource, values))
        return found


def test_spans_are_posted_to_the_otlp_endpoint() -> None:
    with Collector() as collector:
        settings = Settings(otlp_endpoint=collector.url, service_name="studio-probe", _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
        provider = build_tracer_provider(settings, service="studio-worker")
        with provider.get_tracer("test").start_as_current_span("probe", attributes={"temporalWorkflowID": "b7/s2"}):
            pass
        assert provider.force_flush(10_000)
        provider.shutdown()
        ((name, resource, values),) = collector.spans()
    assert name == "probe" and resource["service.name"] == "studio-probe"
    assert values["studio.batch_id"] == "b7" and values["studio.shot_id"] == "s2"


async def test_the_cli_exports_its_spans_before_it_exits(settings: Settings, client: Client, tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", PROJECT.replace('chain = ["gemini"]', 'chain = ["local"]'))
    with Collector() as collector:
        env = worker_env(settings, STUDIO_OTLP_ENDPOINT=collector.url + "/")
        run = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "studio.cli", "run", str(project), "--detach"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        batch_id = run.stdout.strip().splitlines()[-1]
        try:
            spans = collector.spans()
        finally:  # nobody serves this batch's queue: stop it rather than leave it waiting
            await client.get_workflow_handle(batch_id).terminate("test over")
    (start,) = [s for s in spans if s[0] == "StartWorkflow:BatchWorkflow"]
    assert start[1]["service.name"] == "studio-cli" and start[2]["studio.batch_id"] == batch_id


async def test_a_worker_process_logs_json_lines_and_exports_its_spans(
    settings: Settings, client: Client, launch, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "p", PROJECT.replace('chain = ["gemini"]', 'chain = ["local"]'))
    log = tmp_path / "worker.log"
    with Collector() as collector:
        worker = spawn_worker(settings, log, STUDIO_LOG_FORMAT="json", STUDIO_OTLP_ENDPOINT=collector.url)
        try:
            batch_id = await launch(project)
            assert await asyncio.wait_for(wait_batch(client, batch_id), 120) == {"published": 2}
            worker.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(worker.wait, 30) == 0
        finally:
            if worker.poll() is None:
                kill_hard(worker)
        spans = collector.spans()
    # Exported before the process left (it exits with os._exit, past OpenTelemetry's atexit).
    (batch,) = [s for s in spans if s[0] == "RunWorkflow:BatchWorkflow"]
    assert batch[1]["service.name"] == "studio-worker" and batch[2]["studio.batch_id"] == batch_id
    assert len([s for s in spans if s[0] == "RunWorkflow:ShotWorkflow"]) == 2
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]  # every line is JSON
    assert any(line["logger"] == "studio.worker" and line["message"].startswith("worker on") for line in lines)
