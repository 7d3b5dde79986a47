"""The catalog, the asset store or the disk going away mid-batch loses no shot, and the batch tells the truth.

Each test starts a batch on real parts, breaks one of them when some shots are published, mends
it after a while, and then asserts that every shot was published once, no take was rendered
twice beyond the calls in flight, and the batch's outcome equals the catalog's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import make_url

from studio.settings import Settings
from tests.backends import TEST_ASSETS, TEST_DATABASE_URL, new_bucket
from tests.pipelines.outage_checks import outage_batch
from tests.pipelines.pg_server import PgServer, pg_bindir
from tests.pipelines.tcp_proxy import TcpProxy


def saw_outage(caplog: pytest.LogCaptureFixture, what: str) -> None:
    """The worker logged the outage of ``what`` once, and its end once: it was real, and quiet."""
    lines = [r.getMessage() for r in caplog.records if r.name == "studio.outages"]
    assert sum(line.startswith(f"{what} is unavailable") for line in lines) >= 1, lines
    assert sum(line.startswith(f"{what} is back") for line in lines) >= 1, lines
    assert len(lines) <= 6, lines  # a line per outage (workers log each spell), not per retry


# Renders take 0.3 s, two at a time: a batch lasts long enough to be broken in the middle.
SLOW = dict(local_latency=0.3, provider_concurrency=2)


def settings_for(tmp_path: Path, temporal_address: str, **fields: object) -> Settings:
    return Settings(
        home=tmp_path / "home",
        temporal_address=temporal_address,
        task_queue=f"o-{uuid.uuid4().hex[:8]}",
        **SLOW,
        **fields,
        _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    )


@pytest.fixture
def own_postgres() -> PgServer:
    # The Postgres pass (make test-postgres, CI's second) runs these: a cluster of their own to stop.
    if TEST_DATABASE_URL is None:
        pytest.skip("Postgres pass only (make test-postgres)")
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("needs PostgreSQL's server binaries (Debian's postgresql; .ci/postgres.sh installs them)")
    server = PgServer(bindir)
    server.start()
    server.create_database()
    yield server
    server.remove()


@pytest.mark.parametrize("hold", [20, 180], ids=["20s", "3min"])
async def test_postgres_stopped_mid_batch(
    own_postgres: PgServer, temporal_address: str, tmp_path: Path, hold: float, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path, temporal_address, database_url=own_postgres.url)
    ended = await outage_batch(
        settings, tmp_path, 24, after=6, hold=hold, down=own_postgres.stop, up=own_postgres.start
    )
    ended.assert_whole(shots=24, in_flight=2)
    saw_outage(caplog, "the catalog")
    # A figure for the outage benchmark (bench/outage.py measures it properly), not a limit.
    print(f"postgres down {hold:.0f}s: next shot published {ended.recovery:.2f}s after it came back")


@pytest.mark.skipif(TEST_DATABASE_URL is not None, reason="the catalog is SQLite only in the default pass")
async def test_sqlite_locked_past_its_busy_timeout(
    temporal_address: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path, temporal_address)
    database = make_url(settings.catalog_url).database
    holder: list[subprocess.Popen[bytes]] = []
    ready = tmp_path / "locked"
    # Another process takes SQLite's write lock and keeps it 40 s, past the 30 s busy timeout; "up"
    # is its letting go (35 s in, the test starts waiting for that).
    script = (
        "import sqlite3, sys, time, pathlib\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)\n"
        "db.execute('BEGIN EXCLUSIVE'); pathlib.Path(sys.argv[2]).touch(); time.sleep(40); db.execute('ROLLBACK')\n"
    )

    def lock() -> None:
        holder.append(subprocess.Popen([sys.executable, "-c", script, str(database), str(ready)]))
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert time.monotonic() < deadline and holder[0].poll() is None, "the lock was not taken"
            time.sleep(0.05)

    def wait_unlocked() -> None:
        assert holder[0].wait(timeout=60) == 0

    try:
        ended = await outage_batch(settings, tmp_path, 24, after=6, hold=35, down=lock, up=wait_unlocked)
    finally:
        for proc in holder:
            proc.kill()
    ended.assert_whole(shots=24, in_flight=2)
    saw_outage(caplog, "the catalog")


async def test_s3_server_down_mid_batch(
    s3_endpoint: str, temporal_address: str, tmp_path: Path, backend: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    target = make_url(s3_endpoint.replace("http://", "s3://"))
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 80)
    proxy.up()
    endpoint = f"http://127.0.0.1:{proxy.port}"
    fields = {k: v for k, v in backend.items() if k == "database_url"}
    settings = settings_for(
        tmp_path, temporal_address, assets=f"s3://{new_bucket(s3_endpoint)}/assets", s3_endpoint_url=endpoint, **fields
    )
    try:
        ended = await outage_batch(settings, tmp_path, 24, after=6, hold=25, down=proxy.down, up=proxy.up)
    finally:
        proxy.down()
    ended.assert_whole(shots=24, in_flight=2)
    saw_outage(caplog, "the asset store")


@pytest.mark.skipif(TEST_ASSETS != "local", reason="the asset store is a directory only in the default pass")
@pytest.mark.skipif(shutil.which("chattr") is None, reason="needs chattr (e2fsprogs)")
async def test_asset_directory_read_only_for_a_while(
    temporal_address: str, tmp_path: Path, backend: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path, temporal_address, **backend)
    assets_dir = settings.assets_dir
    assets_dir.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(["chattr", "+i", str(assets_dir)], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"this file system has no immutable flag: {probe.stderr.decode().strip()}")
    subprocess.run(["chattr", "-i", str(assets_dir)], check=True)

    # Immutable, not chmod: the tests may run as root, whom permission bits do not stop.
    def freeze() -> None:
        subprocess.run(["chattr", "-R", "+i", str(assets_dir)], check=True)

    def thaw() -> None:
        subprocess.run(["chattr", "-R", "-i", str(assets_dir)], check=True)

    try:
        ended = await outage_batch(settings, tmp_path, 24, after=6, hold=20, down=freeze, up=thaw)
    finally:
        thaw()
    ended.assert_whole(shots=24, in_flight=2)
    saw_outage(caplog, "the disk")
