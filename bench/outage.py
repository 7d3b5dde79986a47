"""Benchmark: a catalog outage in the middle of a 200-shot batch. Run by hand:
`.venv/bin/python bench/outage.py [--runs 3] [--shots 200] [--hold 20]`.

The scenario of the issue that asked for it: a 200-shot batch on a PostgreSQL catalog (local
provider, 0.1 s per render), PostgreSQL stopped with a fast shutdown once 90 shots are published,
started again ``--hold`` seconds later. Reported per run and as medians:

- recovery: seconds from the database's return to the next shot published (goal <= 5 s);
- repeated renders: renders beyond one per take (goal: only those in flight at the stop);
- that every shot was published and the batch's outcome equals the catalog's.

Needs PostgreSQL's server binaries (Debian's ``postgresql``). Each run uses a fresh dev server,
cluster, home and in-process worker (counting its renders).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.runtime.devserver import free_port, start_dev_server, stop_process
from studio.settings import Settings
from tests.pipelines.outage_checks import outage_batch
from tests.pipelines.pg_server import PgServer, pg_bindir

CONCURRENCY = 2  # renders at once: 200 shots take ~10 s, so the stop lands mid-batch


async def one_run(shots: int, hold: float, after: int) -> tuple[float, int]:
    bindir = pg_bindir()
    if bindir is None:
        raise SystemExit("bench/outage.py needs PostgreSQL's server binaries (apt-get install postgresql)")
    work = Path(tempfile.mkdtemp(prefix="studio-outage-"))
    pg = PgServer(bindir)
    port = free_port()
    server = start_dev_server(port=port, ui_port=None, db_file=work / "t.db", log_file=work / "s.log")
    try:
        pg.start()
        pg.create_database()
        settings = Settings(
            home=work / "home",
            temporal_address=f"127.0.0.1:{port}",
            database_url=pg.url,
            task_queue=f"outage-{uuid.uuid4().hex[:6]}",
            local_latency=0.1,
            provider_concurrency=CONCURRENCY,
            _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
        )
        await asyncio.sleep(2)  # the dev server answers a moment after its port opens
        ended = await outage_batch(settings, work, shots, after=after, hold=hold, down=pg.stop, up=pg.start)
        ended.assert_whole(shots=shots, in_flight=CONCURRENCY * 2)
        return ended.recovery, ended.renders - shots
    finally:
        stop_process(server.pid)
        pg.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shots", type=int, default=200)
    parser.add_argument("--hold", type=float, default=20.0, help="seconds the database stays down")
    parser.add_argument("--after", type=int, default=90, help="published shots before the stop")
    args = parser.parse_args()
    recoveries, repeats = [], []
    for n in range(args.runs):
        recovery, repeated = asyncio.run(one_run(args.shots, args.hold, args.after))
        recoveries.append(recovery)
        repeats.append(repeated)
        print(f"run {n + 1}: next shot {recovery:.2f} s after the database returned; {repeated} render(s) repeated")
    print(
        f"median over {args.runs} runs ({args.shots} shots, database down {args.hold:.0f} s): recovery "
        f"{statistics.median(recoveries):.2f} s (goal <= 5 s), repeated renders {statistics.median(repeats):g} "
        f"(in flight at the stop: at most {CONCURRENCY})"
    )


if __name__ == "__main__":
    main()
