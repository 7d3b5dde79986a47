"""Weather or verdict: the plain decisions behind "an outage never fails a shot"."""

from __future__ import annotations

import errno
import logging
import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from studio.batches.close import close_batch
from studio.catalog.models import Batch, Shot
from studio.catalog.store import Catalog
from studio.outages.classify import (
    LOCAL_OUTAGE_ATTEMPTS,
    OutageLog,
    Resource,
    classify_outage,
    retry_allowed,
    retry_delay,
)
from studio.outages.notes import catalog_outage, clear_outage, current_outages, note_outage
from studio.rendering.failover import provider_wait
from studio.storage.local import AssetStoreError, AssetStoreUnavailable
from studio.storage.s3 import S3AssetStore, s3_client
from tests.pipelines.tcp_proxy import TcpProxy


def sqlite_error(tmp_path: Path, statement: str) -> OperationalError:
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}", connect_args={"timeout": 0.05})
    blocker = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
    blocker.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(OperationalError) as caught, engine.begin() as conn:
            conn.execute(text(statement))
        return caught.value
    finally:
        blocker.execute("ROLLBACK")


def test_a_locked_sqlite_catalog_is_weather_a_missing_table_is_not(tmp_path: Path) -> None:
    locked = classify_outage(sqlite_error(tmp_path, "INSERT INTO t VALUES (1)"))
    assert locked is not None and locked.resource is Resource.CATALOG and "locked" in locked.detail
    engine = create_engine(f"sqlite:///{tmp_path / 'd.db'}")
    with pytest.raises(OperationalError) as caught, engine.begin() as conn:
        conn.execute(text("SELECT * FROM nowhere"))
    assert classify_outage(caught.value) is None


def test_postgres_refusing_connections_is_weather() -> None:
    engine = create_engine("postgresql+psycopg://studio@127.0.0.1:1/studio", connect_args={"connect_timeout": 2})
    with pytest.raises(OperationalError) as caught:
        engine.connect()
    outage = classify_outage(caught.value)
    assert outage is not None and outage.resource is Resource.CATALOG
    assert "[SQL" not in outage.detail and "sqlalche.me" not in outage.detail  # one readable line
    assert catalog_outage(caught.value) == f"waiting for the catalog: {outage.detail}"
    assert (
        classify_outage(psycopg.OperationalError("server closed the connection unexpectedly")) is None
    )  # raw driver errors come wrapped


def test_disk_full_or_read_only_is_weather_a_missing_file_is_not() -> None:
    for code in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM):
        outage = classify_outage(OSError(code, "nope", "/studio/assets/ab/ab12.png"))
        assert outage is not None and outage.resource is Resource.DISK and "/studio/assets" in outage.detail
    assert classify_outage(FileNotFoundError(errno.ENOENT, "missing", "sketch.png")) is None
    assert classify_outage(ValueError("bad value")) is None


def test_an_outage_is_found_behind_the_errors_raised_from_it() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as err:
            raise RuntimeError("publishing failed") from err
    except RuntimeError as wrapped:
        outage = classify_outage(wrapped)
    assert outage is not None and outage.resource is Resource.DISK


def test_an_s3_server_that_does_not_answer_is_weather_a_missing_bucket_is_not(s3_endpoint: str) -> None:
    proxy = TcpProxy("127.0.0.1", int(s3_endpoint.rsplit(":", 1)[1]))
    proxy.up()
    client = s3_client(endpoint_url=f"http://127.0.0.1:{proxy.port}")
    client.create_bucket(Bucket="outage-bucket")
    store = S3AssetStore("outage-bucket", "a", client=client)
    key = store.put(b"hello", "text/plain")
    proxy.down()
    with pytest.raises(AssetStoreUnavailable) as caught:
        store.get(key)
    assert classify_outage(caught.value).resource is Resource.ASSETS  # type: ignore[union-attr]  # AssetStoreUnavailable always classifies as an outage
    proxy.up()
    assert store.get(key) == b"hello"
    missing = S3AssetStore("no-such-bucket", "", client=client)
    with pytest.raises(AssetStoreError) as refused:
        missing.put(b"x", "text/plain")
    assert not isinstance(refused.value, AssetStoreUnavailable) and classify_outage(refused.value) is None
    proxy.down()


def test_outages_retry_for_their_window_and_other_errors_keep_their_tries() -> None:
    assert all(retry_allowed("CatalogUnavailable", n) for n in (1, 50, 5000))
    assert retry_allowed("DiskUnavailable", LOCAL_OUTAGE_ATTEMPTS - 1, local=True)
    assert not retry_allowed("DiskUnavailable", LOCAL_OUTAGE_ATTEMPTS, local=True)  # then the server retries it
    assert retry_allowed("Unavailable", 2) and not retry_allowed("Unavailable", 3)  # then the next provider
    # A provider's own trouble by the kind failures carry now, and by the class name of older ones.
    for failure in ("unavailable", "rate_limited", "bad_image", "RateLimited", "BadImage"):
        assert retry_allowed(failure, 2) and not retry_allowed(failure, 3), failure
    assert retry_allowed("rejected", 4)  # not trouble: the ordinary tries (its retry policy makes it final anyway)
    assert retry_allowed("KeyError", 4) and not retry_allowed("KeyError", 5)
    assert [retry_delay(n) for n in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]


def test_a_dead_chain_is_tried_again_ever_less_often_but_never_before_the_vendor_says() -> None:
    assert [provider_wait(n) for n in range(1, 8)] == [10, 20, 40, 80, 160, 300, 300]
    assert provider_wait(1, hint=45) == 45 and provider_wait(6, hint=45) == 300
    assert provider_wait(3, cap=15) == 15


def test_the_worker_logs_one_line_when_an_outage_starts_and_one_when_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = OutageLog(quiet_for=5, note_every=20, clock=lambda: now[0])  # the worker's own is 0: any success ends it
    with caplog.at_level(logging.WARNING, logger="studio.outages"):
        for t in range(10):
            now[0] = float(t)
            log.failed("the catalog", "connection refused")
        assert log.due_notes() == ["the catalog"] and log.due_notes() == []
        now[0] = 12.0
        assert log.succeeded({"the catalog"}) == []  # 3 s after a failure: it may still be flapping
        now[0] = 15.0
        assert log.succeeded({"the asset store"}) == []  # a success elsewhere says nothing of the catalog
        assert log.succeeded({"the catalog"}) == ["the catalog"]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("the catalog is unavailable") and "connection refused" in lines[0]
    assert lines[1] == "the catalog is back after 9 s (10 failed tries)"


def test_outage_notes_are_shown_while_fresh(tmp_path: Path) -> None:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'n.db'}")
    log = OutageLog()
    log.failed("the asset store", "S3 is not answering (503)")
    note_outage(catalog, "the asset store", "S3 is not answering (503)", log.since("the asset store"))
    (shown,) = current_outages(catalog)
    assert shown["for"] == "the asset store" and shown["last_error"] == "S3 is not answering (503)"
    clear_outage(catalog, "the asset store")
    assert current_outages(catalog) == []


def test_closing_a_batch_records_shots_that_ended_without_an_outcome(tmp_path: Path) -> None:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'b.db'}")
    catalog.add_batch(
        Batch(
            id="b-1",
            project_name="P",
            project_slug="p",
            project_source="p",
            project_key="k",
            seed=1,
            output_dir=str(tmp_path / "out"),
            total_shots=3,
        )
    )
    shots = [
        Shot(
            batch_id="b-1",
            shot_id=sid,
            key=f"b-1/{sid}",
            position=i,
            prompt="x",
            width=8,
            height=8,
            variants=1,
            upscale=1,
            stage=stage,
        )
        for i, (sid, stage) in enumerate([("a", "failed"), ("b", "pending"), ("c", "rejected")])
    ]
    catalog.add_shots("b-1", shots, [])
    tally = close_batch(catalog, "b-1")
    assert tally.lost == ["b"] and tally.outcomes == {"failed": 2, "rejected": 1} and tally.state == "failed"
    lost = catalog.shot("b-1/b")
    assert lost.stage == "failed" and "studio rerun b-1 --only failed" in (lost.error or "")
    assert catalog.batch("b-1").state == "failed"


def test_an_outage_does_not_use_up_a_stage_s_tries_for_other_errors() -> None:
    # The guard's decision, inside an activity on its 40th attempt after a long outage: a first
    # ordinary error there still gets retried, and a fifth does not.
    import dataclasses

    from temporalio.exceptions import ApplicationError
    from temporalio.testing import ActivityEnvironment

    from pipelines.runtime.outage_guard import verdict

    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=40)
    log = OutageLog()
    first = env.run(lambda: verdict(KeyError("take"), log, None, failures=1))
    assert isinstance(first, KeyError)  # raised as is: Temporal retries it
    fifth = env.run(lambda: verdict(KeyError("take"), log, None, failures=5))
    assert isinstance(fifth, ApplicationError) and fifth.non_retryable and fifth.type == "KeyError"
    outage = env.run(lambda: verdict(OSError(errno.ENOSPC, "No space left on device"), log, None, failures=5))
    assert isinstance(outage, ApplicationError) and not outage.non_retryable and outage.type == "DiskUnavailable"
