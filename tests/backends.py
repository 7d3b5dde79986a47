"""Storage backends for the test suite: SQLite + local files by default, Postgres and S3 on request.

``STUDIO_TEST_ASSETS=s3`` runs every test's asset store on a moto S3 server (one per session,
over HTTP, a fresh bucket per test); ``STUDIO_TEST_DATABASE_URL=postgresql+psycopg://…`` runs
every test's catalog on that server, in a fresh database per test. ``.ci/postgres.sh`` sets both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from pipelines.runtime.devserver import die_with_parent, free_port, port_open, stop_process
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore, LocalAssetStore
from studio.storage.s3 import S3AssetStore, s3_client

TEST_ASSETS = os.environ.get("STUDIO_TEST_ASSETS", "local")
TEST_DATABASE_URL = os.environ.get("STUDIO_TEST_DATABASE_URL") or None
# moto accepts any credentials; fixed ones keep a developer's real AWS keys away from it.
MOTO_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
# Variables that would point boto3 elsewhere than the test server, or at a profile that isn't there.
AWS_OVERRIDES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION")

if TEST_ASSETS not in ("local", "s3"):
    raise RuntimeError(f"STUDIO_TEST_ASSETS must be 'local' or 's3', not {TEST_ASSETS!r}")


def start_moto(log_file: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start moto's S3 server (``python -m moto.server``) on a free loopback port.

    Returns:
        The process (stop it with :func:`pipelines.runtime.devserver.stop_process`) and its endpoint URL.
    """
    port = free_port()
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    deadline = time.monotonic() + 30
    while not port_open(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc.pid)
            raise RuntimeError(f"moto_server did not listen on port {port}; see {log_file}")
        time.sleep(0.1)
    return proc, f"http://127.0.0.1:{port}"


def new_bucket(endpoint: str) -> str:
    """Create a bucket with a fresh name on ``endpoint`` and return the name."""
    name = f"t-{uuid.uuid4().hex[:16]}"
    s3_client(endpoint_url=endpoint).create_bucket(Bucket=name)
    return name


@contextmanager
def fresh_database(admin: Engine) -> Iterator[str]:
    """A new, empty database on ``admin``'s server for one test; dropped (connections and all) after."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin.url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            # FORCE: worker processes or cached engines may still hold connections to it.
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def admin_engine(url: str) -> Engine:
    """An autocommit engine on the server of ``url`` (CREATE DATABASE refuses to run in a transaction)."""
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1, pool_pre_ping=True)


def backend_env(settings: Settings) -> dict[str, str]:
    """The environment variables that carry ``settings``' catalog and asset store to a child process."""
    values = {
        "DATABASE_URL": settings.database_url,
        "STUDIO_ASSETS": settings.assets,
        "STUDIO_S3_ENDPOINT_URL": settings.s3_endpoint_url,
        "STUDIO_S3_REGION": settings.s3_region,
    }
    return {name: value for name, value in values.items() if value is not None}


def stored_keys(assets: AssetStore) -> set[str]:
    """Every asset key the store holds (thumbnail caches excluded)."""
    if isinstance(assets, LocalAssetStore):
        return {p.name for p in assets.root.glob("[0-9a-f][0-9a-f]/*") if p.is_file()}
    assert isinstance(assets, S3AssetStore)
    pages = assets.client.get_paginator("list_objects_v2").paginate(Bucket=assets.bucket, Prefix=assets.prefix)
    return {obj["Key"].rsplit("/", 1)[-1] for page in pages for obj in page.get("Contents", [])}


def catalog_dump(settings: Settings, catalog: Catalog) -> bytes:
    """Everything the catalog stores, as bytes to search for leaked secrets: the SQLite file, or
    every row of every table on another database."""
    if settings.catalog_url.startswith("sqlite"):
        path = Path(make_url(settings.catalog_url).database or "")
        return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    rows: list[Any] = []
    with catalog.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows.extend(dict(r._mapping) for r in conn.execute(table.select()))
    return json.dumps(rows, default=str).encode()
