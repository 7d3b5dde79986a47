"""Every read a user waits on, timed on a small and a year-sized catalog. Run by hand: `make bench-scale`
or `.venv/bin/python bench/scale/reads.py [--runs 7] [--small 1000] [--large 100000] [--postgres]`.

Each read calls the functions the CLI and the dashboard call, in-process (no subprocess, no
browser): `studio status` (all batches, one batch), `studio find --prompt` (a common word, a word
only the oldest batch has, no filter), `studio show` (a 12-deep parent chain; a root with its
descendants), the dashboard's Batches, Batch, Shot and Approvals pages' queries, the budget,
circuit and in-flight checks a paid render runs before its call, and publishing a batch (its
manifest and contact sheet). The read is always of the newest batch, the same 200 takes in both
catalogs, so the ratio says how much the rest of the catalog costs it (the small catalog lists as
many batches as `studio status` and the Batches page show, smaller ones). Figures are medians of
--runs runs after one warm-up, the two catalogs' runs taken in turn (a busy machine weighs on both
alike); the goal is a ratio of at most 1.5, and find under 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text

from bench.scale.catalog_gen import Generated, generate, generate_one_batch
from bench.scale.words import RARE
from studio.batches.lineage import find_takes, take_lineage
from studio.batches.publish import write_manifest
from studio.catalog.call_guard import CallPolicy, check_call, lock_for_call
from studio.catalog.store import Catalog
from studio.views.batches import batches_board, budget_panel, shot_cards, shot_detail, shot_filter_counts
from studio.views.eta import batch_eta, capacity_of
from studio.views.gates import gate_signature, pending_gates
from studio.views.progress import shot_progress
from studio.views.status import batch_summary, batches_overview

COMMON = "lighthouse"
SHOWN = 30  # ui/app_pages/batches.py's page size
CAPACITY = capacity_of(4, {"gemini": 4})
POLICY = CallPolicy(max_in_flight={"gemini": 4}, breakers=frozenset({"gemini"}))

Read = Callable[[], object]


def _call_check(catalog: Catalog, batch_id: str) -> None:
    """What a paid render runs before its call (studio.catalog.stages.begin_render), rolled back."""
    with catalog.engine.connect() as conn, conn.begin() as tx:
        lock_for_call(conn, batch_id, "gemini")
        check_call(conn, batch_id=batch_id, budget=25.0, provider="gemini", price=0.039, policy=POLICY)
        tx.rollback()


def _batch_page(catalog: Catalog, batch_id: str) -> object:
    summary = batch_summary(catalog, batch_id, take_details=False)  # as ui/app_pages/batch.py reads it
    return (
        budget_panel(summary.cost.spend()),
        shot_grid(catalog, batch_id),
        batch_eta(catalog, batch_id, capacity=CAPACITY),
    )


def shot_grid(catalog: Catalog, batch_id: str) -> object:
    """The Batch page's grid as ui/app_pages/batch.py reads it: the filter counts and the first page."""
    return shot_filter_counts(catalog, batch_id), shot_cards(catalog, batch_id, "all", offset=0, limit=24)


def _shot_page(catalog: Catalog, batch_id: str, shot_key: str) -> object:
    return (
        catalog.batches(50),
        catalog.shot_ids(batch_id),
        shot_detail(catalog, shot_key),
        shot_progress(catalog, shot_key),
    )


def reads(catalog: Catalog, gen: Generated) -> dict[str, Read]:
    """The reads timed, by the name the table prints."""
    batch, shot_key = gen.newest, f"{gen.newest}/s050"
    return {
        "status (all batches)": lambda: batches_overview(catalog),
        "status BATCH": lambda: (batch_summary(catalog, batch), batch_eta(catalog, batch, capacity=CAPACITY)),
        f"find --prompt {COMMON}": lambda: find_takes(catalog, prompt=COMMON),
        f"find --prompt {RARE} (oldest batch)": lambda: find_takes(catalog, prompt=RARE),
        "find (newest 50)": lambda: find_takes(catalog),
        f"show (chain of {len(gen.batches) and 12} parents)": lambda: take_lineage(catalog, gen.chain_end),
        "show (root and descendants)": lambda: take_lineage(catalog, gen.chain_root),
        "Batches page": lambda: (catalog.batches(SHOWN), batches_board(catalog, limit=SHOWN)),
        "Batch page": lambda: _batch_page(catalog, batch),
        "Shot page": lambda: _shot_page(catalog, batch, shot_key),
        "Approvals page": lambda: (gate_signature(catalog), pending_gates(catalog)),
        "budget + circuit + in-flight check": lambda: _call_check(catalog, batch),
        "publish (manifest + contact sheet)": lambda: write_manifest(catalog, batch),
    }


def _ms(read: Read) -> float:
    began = time.perf_counter()
    read()
    return (time.perf_counter() - began) * 1000


def paired_medians(
    small: dict[str, Read], large: dict[str, Read], runs: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Each read's median milliseconds on both catalogs, after one warm-up call on each.

    The two catalogs' runs alternate, so a machine busy with something else for a while weighs on
    both figures of a ratio alike instead of on whichever catalog was being timed then.
    """
    f1, f2 = {}, {}
    for name in small:
        small[name](), large[name]()
        pairs = [(_ms(small[name]), _ms(large[name])) for _ in range(runs)]
        f1[name] = statistics.median(p[0] for p in pairs)
        f2[name] = statistics.median(p[1] for p in pairs)
    return f1, f2


def prepare(url: str, takes: int, out: Path) -> tuple[Generated, Catalog]:
    """Generate a catalog of ``takes`` takes at ``url`` and open it."""
    gen = generate(url, takes=takes, out=out)
    catalog = Catalog.open(url)
    if url.startswith("postgresql"):
        with catalog.engine.begin() as conn:
            conn.execute(text("ANALYZE"))  # autovacuum has not seen the bulk load yet
    return gen, catalog


def table(backend: str, small: tuple[Generated, dict[str, float]], large: tuple[Generated, dict[str, float]]) -> None:
    """Print one backend's figures: each read at both sizes and their ratio."""
    (g1, f1), (g2, f2) = small, large
    print(f"\n{backend}: {g1.takes} takes ({g1.seconds:.1f} s to generate) vs {g2.takes} takes ({g2.seconds:.1f} s)")
    head = f"{'read':44} {f'{g1.takes} ms':>12} {f'{g2.takes} ms':>12} {'ratio':>7}"
    print(head + "\n" + "-" * len(head))
    for name in f1:
        ratio = f2[name] / f1[name] if f1[name] else float("nan")
        flag = "" if ratio <= 1.5 else "  over 1.5"
        print(f"{name:44} {f1[name]:12.2f} {f2[name]:12.2f} {ratio:7.2f}{flag}")


@contextmanager
def postgres_urls() -> Iterator[tuple[str, str]]:
    """Two empty databases on a throwaway PostgreSQL server (as tests/pipelines/pg_server.py runs one)."""
    from tests.pipelines.pg_server import PgServer, pg_bindir

    bindir = pg_bindir()
    if bindir is None:
        raise SystemExit("--postgres: PostgreSQL is not installed (initdb not found)")
    server = PgServer(bindir)
    try:
        server.start()
        server.create_database()
        admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in ("scale_small", "scale_large"):
                conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        base = server.url.rsplit("/", 1)[0]
        yield f"{base}/scale_small", f"{base}/scale_large"
    finally:
        server.remove()


def _median_ms(read: Read, runs: int) -> float:
    read()  # warm-up
    return statistics.median(_ms(read) for _ in range(runs))


def big_batch_figures(work: Path, runs: int, sizes: tuple[int, ...] = (1000, 10_000)) -> None:
    """Print the Batch page's reads for one batch of each size (SQLite), `studio status BATCH`'s two
    reads (batch_summary with every take's row, batch_eta) apart, then publishing the largest:
    write_manifest's time (untraced) and its peak Python memory (tracemalloc, in separate runs)."""
    import tracemalloc

    for shots in sizes:
        catalog, batch = generate_one_batch(f"sqlite:///{work / f'big-{shots}.db'}", shots, work / f"big-{shots}")
        grid, page = (
            _median_ms(partial(shot_grid, catalog, batch), runs),
            _median_ms(partial(_batch_page, catalog, batch), runs),
        )
        print(
            f"{shots:6} shots: Batch page grid {grid:8.1f} ms, whole Batch page read {page:8.1f} ms (median of {runs})"
        )
        # `studio status BATCH` (every take's row, as the table and --json print them) and the ETA apart.
        summary, eta = (
            _median_ms(partial(batch_summary, catalog, batch), runs),
            _median_ms(partial(batch_eta, catalog, batch, capacity=CAPACITY), runs),
        )
        print(f"{shots:6} shots: batch_summary {summary:8.1f} ms, batch_eta {eta:8.1f} ms (median of {runs})")
    seconds, peaks = [], []
    for _ in range(3):
        seconds.append(_ms(lambda: write_manifest(catalog, batch)) / 1000)
        tracemalloc.start()
        write_manifest(catalog, batch)
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    print(
        f"write_manifest, {sizes[-1]} shots: {statistics.median(seconds):.2f} s, "
        f"peak {statistics.median(peaks):.1f} MB traced (median of 3)"
    )


def run(backend: str, urls: tuple[str, str], args: argparse.Namespace, work: Path) -> None:
    """Measure both sizes on one backend and print the table."""
    (g1, c1), (g2, c2) = (
        prepare(urls[0], args.small, work / f"{backend}-small"),
        prepare(urls[1], args.large, work / f"{backend}-large"),
    )
    f1, f2 = paired_medians(reads(c1, g1), reads(c2, g2), args.runs)
    table(backend, (g1, f1), (g2, f2))


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="runs per read (median; default 7)")
    parser.add_argument("--small", type=int, default=1000, help="takes in the small catalog (default 1000)")
    parser.add_argument("--large", type=int, default=100_000, help="takes in the large catalog (default 100000)")
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL server")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--big-batch", action="store_true", help="only the 1,000- and 10,000-shot batch figures")
    args: Any = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="studio-scale-") as tmp:
        work = Path(tmp)
        if args.big_batch:
            big_batch_figures(work, args.runs)
            return
        if not args.no_sqlite:
            run("SQLite", (f"sqlite:///{work / 'small.db'}", f"sqlite:///{work / 'large.db'}"), args, work)
        if args.postgres:
            with postgres_urls() as urls:
                run("PostgreSQL", urls, args, work)


if __name__ == "__main__":
    main()
