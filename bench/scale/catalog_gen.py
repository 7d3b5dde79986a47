"""A year of studio history in a catalog, written fast: bulk Core INSERTs, nothing rendered.

    .venv/bin/python bench/scale/catalog_gen.py --url sqlite:////tmp/year.db --takes 100000

A year is 500 batches of 200 takes (100 shots of two variants) launched a working day apart.
A smaller catalog keeps at least :data:`MIN_BATCHES` batches (more than a page of the Batches page
and `studio status` shows) by making the older ones smaller, so both catalogs list as many
batches; the newest batch (the one the read benchmarks open) is always 200 takes, the same in a
1k-take and a 100k-take catalog. Each take has its
render and review calls (some renders failed over first), gated batches have their approvals,
published shots their publications, replay and rerun batches point at earlier batches' takes,
and the newest batch holds shots waiting at their gate plus a lineage chain :data:`CHAIN` deep
whose root is a take of the oldest batch.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PIL import Image
from sqlalchemy import Table, insert, inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from bench.scale.words import RARE, prompt
from studio.catalog.models import Approval, Batch, ProviderAttempt, Publication, Shot, Take
from studio.catalog.store import Catalog
from studio.catalog.tables import row_values

TAKES_PER_BATCH = 200
MIN_BATCHES = 50  # status shows 50 batches, the Batches page 30: a small catalog fills both
VARIANTS = 2
CHAIN = 12  # the newest batch's lineage chain: `studio show` walks this many parents
WAITING_SHOTS = 10  # shots of the newest batch waiting at their approval gate
PROVIDERS = (("local", 0.0, 0.55), ("gemini", 0.039, 0.2), ("mistral", 0.04, 0.15), ("comfyui", 0.0, 0.1))
PROJECTS = ("harbour-lights", "night-market", "orbit", "field-notes", "catalog-spring", "the-long-road")
YEAR = timedelta(days=365)


@dataclass
class Generated:
    """What was written, and the rows the read benchmarks open.

    Attributes:
        batches: Batch ids, oldest first.
        takes: Takes written.
        chain_end: The deepest take of the lineage chain (its parents reach the oldest batch).
        chain_root: The oldest batch's take the chain starts from.
        seconds: Wall time of the writes.
        shots: Shots per batch.
    """

    batches: list[str] = field(default_factory=list)
    takes: int = 0
    chain_end: str = ""
    chain_root: str = ""
    seconds: float = 0.0
    shots: dict[str, int] = field(default_factory=dict)

    @property
    def newest(self) -> str:
        """The newest batch (same shape at every catalog size)."""
        return self.batches[-1]


def _table(model: type[SQLModel]) -> Table:
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


def _base(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """Every column's default, once per table: rows are this dict plus what differs."""
    row = row_values(_table(model), model(**values))
    if model in (ProviderAttempt, Approval, Publication):
        del row["id"]  # serial: the database numbers them
    return row


class _Rows:
    """One chunk of batches' rows, table by table, inserted together."""

    def __init__(self) -> None:
        self.by_table: dict[type[SQLModel], list[dict[str, Any]]] = {
            m: [] for m in (Batch, Shot, Take, ProviderAttempt, Approval, Publication)
        }
        self.base = {
            Batch: _base(
                Batch, id="", project_name="", project_slug="", project_source="", project_key="", seed=0, output_dir=""
            ),
            Shot: _base(Shot, key="", batch_id="", shot_id="", position=0, prompt="", width=0, height=0, variants=0),
            Take: _base(Take, id="", batch_id="", shot_key="", number=0, prompt="", width=0, height=0),
            ProviderAttempt: _base(ProviderAttempt, take_id="", batch_id="", stage="", provider=""),
            Approval: _base(Approval, shot_key="", batch_id="", decision=""),
            Publication: _base(Publication, batch_id="", shot_key="", take_id="", path=""),
        }

    def add(self, kind: type[SQLModel], /, **values: Any) -> None:
        self.by_table[kind].append({**self.base[kind], **values})

    def write(self, conn: Connection) -> None:
        for model, rows in self.by_table.items():
            for start in range(0, len(rows), 5000):
                conn.execute(insert(_table(model)), rows[start : start + 5000])
            rows.clear()


def _provider(rng: random.Random) -> tuple[str, float]:
    name, price, _ = rng.choices(PROVIDERS, weights=[w for _, _, w in PROVIDERS])[0]
    return name, price


def _calls(rows: _Rows, rng: random.Random, take: dict[str, Any], at: datetime) -> None:
    """A take's calls: maybe a failed render on another provider first, its render, its review."""
    if rng.random() < 0.08:
        rows.add(
            ProviderAttempt,
            take_id=take["id"],
            batch_id=take["batch_id"],
            stage="render",
            provider="gemini",
            status="failed",
            error_class="Unavailable",
            error="503 from the vendor",
            latency_ms=900,
            started_at=at - timedelta(seconds=3),
            finished_at=at - timedelta(seconds=2),
        )
    for stage, provider, cost, ms in (
        ("render", take["provider"], take["cost_usd"], 2400),
        ("review", "local", 0.0, 40),
    ):
        start = at if stage == "render" else at + timedelta(seconds=3)
        rows.add(
            ProviderAttempt,
            take_id=take["id"],
            batch_id=take["batch_id"],
            stage=stage,
            provider=provider,
            status="succeeded",
            latency_ms=ms,
            cost_usd=cost,
            started_at=start,
            finished_at=start + timedelta(milliseconds=ms),
        )


@dataclass(frozen=True)
class _BatchPlan:
    index: int
    shots: int
    batch_id: str
    created: datetime
    gated: bool
    newest: bool
    parent_batch: str | None
    kind: str
    out_dir: Path


def _plan(i: int, count: int, shots: int, rng: random.Random, start: datetime, out: Path, ids: list[str]) -> _BatchPlan:
    slug = PROJECTS[i % len(PROJECTS)]
    batch_id = f"{slug}-{i:06x}"
    kind = "project" if i == 0 or rng.random() < 0.85 else rng.choice(("replay", "rerun"))
    return _BatchPlan(
        index=i,
        shots=TAKES_PER_BATCH // VARIANTS if i == count - 1 else shots,
        batch_id=batch_id,
        created=start + YEAR * i / max(count, 1),
        gated=i == count - 1 or rng.random() < 0.3,
        newest=i == count - 1,
        parent_batch=rng.choice(ids) if kind != "project" and ids else None,
        kind=kind if ids else "project",
        out_dir=out / batch_id,
    )


def _batch(rows: _Rows, rng: random.Random, plan: _BatchPlan, gen: Generated) -> None:
    """Long because it writes one batch's rows of every kind, in the order a real run leaves them."""
    shots = plan.shots
    finished = plan.created + timedelta(minutes=40)
    rows.add(
        Batch,
        id=plan.batch_id,
        project_name=plan.batch_id.rsplit("-", 1)[0].replace("-", " ").title(),
        project_slug=plan.batch_id.rsplit("-", 1)[0],
        project_source="project.toml",
        project_key=f"{plan.index:064x}",
        seed=plan.index,
        approval_required=plan.gated,
        client=plan.batch_id.rsplit("-", 1)[0],
        output_dir=str(plan.out_dir),
        parent_batch_id=plan.parent_batch,
        budget_usd=25.0 if plan.index % 3 == 0 else None,
        kind=plan.kind,
        state="waiting" if plan.newest else "published",
        total_shots=shots,
        total_takes=shots * VARIANTS,
        created_at=plan.created,
        finished_at=None if plan.newest else finished,
    )
    for n in range(shots):
        key, text = f"{plan.batch_id}/s{n:03d}", prompt(rng)
        if plan.index == 0 and n == 0:
            text += f", a {RARE} overhead"
        waiting = plan.newest and n >= shots - WAITING_SHOTS
        at = plan.created + timedelta(seconds=20 * n)
        chosen = f"{key}/1"
        rows.add(
            Shot,
            key=key,
            batch_id=plan.batch_id,
            shot_id=f"s{n:03d}",
            position=n,
            prompt=text,
            width=1024,
            height=1024,
            variants=VARIANTS,
            stage="awaiting_approval" if waiting else "published",
            final_take_id=None if waiting else chosen,
            updated_at=at + timedelta(minutes=1),
        )
        changed = plan.gated and not waiting and rng.random() < 0.1
        for number in range(1, VARIANTS + 1):
            _take(rows, rng, plan, key, number, text, at, waiting=waiting, changed=changed, gen=gen)
        if plan.gated and not waiting:
            if changed:
                rows.add(
                    Approval,
                    shot_key=key,
                    batch_id=plan.batch_id,
                    round=1,
                    decision="changes",
                    note="warmer light",
                    decided_at=at + timedelta(seconds=30),
                )
            rows.add(
                Approval,
                shot_key=key,
                batch_id=plan.batch_id,
                round=2 if changed else 1,
                decision="approve",
                take_id=chosen,
                decided_at=at + timedelta(seconds=50),
            )
        if not waiting:
            rows.add(
                Publication,
                batch_id=plan.batch_id,
                shot_key=key,
                take_id=chosen,
                path=str(plan.out_dir / f"s{n:03d}.png"),
                published_at=at + timedelta(minutes=1),
            )


def _take(
    rows: _Rows, rng: random.Random, plan: _BatchPlan, key: str, number: int, text: str, at: datetime, **how: Any
) -> None:
    """One take, its lineage link (replays, reworks, the newest batch's chain) and its calls."""
    gen: Generated = how["gen"]
    take_id = f"{key}/{number}"
    provider, price = _provider(rng)
    parent = None
    shot_n = int(key.rsplit("/s", 1)[1])
    if plan.kind == "replay" and gen.takes and number == 1:
        source = gen.batches[rng.randrange(len(gen.batches) - 1 or 1)]
        parent = f"{source}/s{rng.randrange(min(50, gen.shots[source])):03d}/1"
    elif how["changed"] and number == 2:
        parent = f"{key}/1"  # a rework of the first take, in round 2
    if plan.newest and number == 1 and shot_n < CHAIN:
        parent = gen.chain_root if shot_n == 0 else f"{plan.batch_id}/s{shot_n - 1:03d}/1"
        gen.chain_end = take_id
    status = "reviewed" if how["waiting"] else ("approved" if number == 1 else "reviewed")
    row = dict(
        id=take_id, batch_id=plan.batch_id, shot_key=key, number=number, round=2 if how["changed"] and number == 2 else 1,
        status=status, seed=rng.randrange(2**31), seed_used=None, provider=provider, model=f"{provider}-v1",
        reproducible=provider in ("local", "comfyui"), prompt=text + (", warmer light" if parent == f"{key}/1" else ""),
        width=1024, height=1024, asset_key=f"{rng.getrandbits(128):032x}", review_score=round(rng.random(), 2),
        review_passed=True, review_model="local", parent_take_id=parent, cost_usd=price,
        created_at=at + timedelta(seconds=number),
    )  # fmt: skip
    row["seed_used"] = row["seed"] if row["reproducible"] else None
    rows.add(Take, **row)
    _calls(rows, rng, row, at + timedelta(seconds=number))
    gen.takes += 1


def _published_files(plan: _BatchPlan, shots: int) -> None:
    """Small real images for the newest batch's published shots, so publishing it reads files."""
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    for n in range(shots - WAITING_SHOTS):
        Image.new("RGB", (64, 64), (n % 256, 90, 160)).save(plan.out_dir / f"s{n:03d}.png")


def _plans(takes: int, rng: random.Random, out: Path) -> Iterator[_BatchPlan]:
    """The batches, oldest first: the newest of 200 takes, the others sharing the rest evenly."""
    count = max(1, round(takes / TAKES_PER_BATCH))
    if count < MIN_BATCHES and takes > TAKES_PER_BATCH:
        count = MIN_BATCHES
    # The older batches' shots, shared out evenly (the first ones one more) so the total is exact.
    older_shots = max(takes - TAKES_PER_BATCH, 0) // VARIANTS
    shots, extra = divmod(older_shots, max(count - 1, 1))
    start = datetime.now(UTC) - YEAR
    ids: list[str] = []
    for i in range(count):
        plan = _plan(i, count, max(1, shots + (i < extra)), rng, start, out, ids)
        ids.append(plan.batch_id)
        yield plan


def generate(url: str, *, takes: int = 100_000, out: Path, seed: int = 1) -> Generated:
    """Fill the (new, empty) catalog at ``url`` with about ``takes`` takes of history.

    Args:
        url: The catalog's SQLAlchemy URL; its schema is created first, as the studio does.
        takes: About how many takes (a multiple of 200 exactly at 200 batches or more).
        out: The folder batches publish into (only the newest batch's files are written).
        seed: The random seed: the same arguments write the same catalog.
    """
    began = time.perf_counter()
    catalog = Catalog.open(url)
    rng, gen, rows = random.Random(seed), Generated(), _Rows()
    with catalog.engine.begin() as conn:
        for plan in _plans(takes, rng, out):
            _batch(rows, rng, plan, gen)
            gen.batches.append(plan.batch_id)
            gen.shots[plan.batch_id] = plan.shots
            if plan.index == 0:
                gen.chain_root = f"{plan.batch_id}/s000/1"
            if len(rows.by_table[Take]) >= 20_000:
                rows.write(conn)
            if plan.newest:
                _published_files(plan, plan.shots)
        rows.write(conn)
    gen.seconds = time.perf_counter() - began
    return gen


def generate_one_batch(url: str, shots: int, out: Path) -> tuple[Catalog, str]:
    """A catalog of one batch of ``shots`` shots written as :func:`generate` writes its newest batch
    (two takes a shot, their calls, approvals, the last 10 shots at their gate, the others
    published with files); returns the catalog and the batch's id."""
    catalog, rows, gen = Catalog.open(url), _Rows(), Generated(chain_root="root/s000/1")
    batch_id = f"big-{shots}"
    plan = _BatchPlan(0, shots, batch_id, datetime.now(UTC), True, True, None, "project", out / batch_id)
    with catalog.engine.begin() as conn:
        _batch(rows, random.Random(1), plan, gen)
        rows.write(conn)
    _published_files(plan, shots)
    return catalog, batch_id


def main() -> None:
    """Generate a catalog from the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="catalog URL: sqlite:///PATH or postgresql+psycopg://…")
    parser.add_argument("--takes", type=int, default=100_000, help="about this many takes (default 100000)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/studio-scale-published"), help="publish folder")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    gen = generate(args.url, takes=args.takes, out=args.out, seed=args.seed)
    print(f"{gen.takes} takes in {len(gen.batches)} batches written in {gen.seconds:.1f} s; newest {gen.newest}")


if __name__ == "__main__":
    main()
