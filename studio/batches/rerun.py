"""`studio rerun`: a new batch that keeps a batch's published shots and renders only some again.

The new batch reads the project file as it is now (so a prompt fixed since the first run is
used), falling back to the text the original batch launched with when the file is gone. Kept
shots are carried over as copies of their approved takes (linked to them by
``parent_take_id``) and published again into the new batch's folder, so the new output folder
is complete on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from studio.batches.close import ENDED_BATCH_STATES, mark_lost, rendered_shots
from studio.batches.launch import batch_row
from studio.catalog.models import Batch, Shot, Take
from studio.catalog.store import Catalog
from studio.errors import StudioError
from studio.ids import shot_key, take_id
from studio.project.loader import Project, load_project, parse_project
from studio.project.storyboard import new_batch_seed
from studio.settings import Settings
from studio.states import ShotStage
from studio.storage.local import AssetStore

STAGE_WORDS = (ShotStage.REJECTED, ShotStage.FAILED)  # `--only` words naming every shot in that stage


class RerunError(StudioError):
    """A rerun that cannot be planned.

    Attributes:
        batch_id: The batch asked for.
        reason: Why.
    """

    def __init__(self, batch_id: str, reason: str) -> None:
        super().__init__(f"cannot rerun {batch_id}: {reason}")
        self.batch_id = batch_id
        self.reason = reason


def shots_to_rerun(only: Sequence[str], parent_shots: Sequence[Shot], project: Project, batch_id: str) -> list[str]:
    """Expand ``--only`` (``rejected``, ``failed`` and shot ids) into shot ids, in project order.

    Raises:
        RerunError: A shot id the project does not have, or nothing to render.
    """
    known = [spec.id for spec in project.shots]
    wanted: set[str] = set()
    for word in only:
        if word in STAGE_WORDS:
            wanted |= {s.shot_id for s in parent_shots if s.stage == word}
        elif word in known:
            wanted.add(word)
        else:
            raise RerunError(
                batch_id,
                f"the project has no shot {word!r} (shots: {', '.join(known)}; or say {' / '.join(STAGE_WORDS)})",
            )
    chosen = [sid for sid in known if sid in wanted]
    if not chosen:
        raise RerunError(batch_id, f"no shot matches {' '.join(only)} (nothing to render again)")
    return chosen


def current_project(assets: AssetStore, parent: Batch) -> tuple[Project, Path, bytes, bool]:
    """The project as it is now on disk, else as the parent launched it.

    Returns:
        ``(project, source, text, from_disk)``.
    """
    source = Path(parent.project_source)
    if source.is_file():
        return load_project(source), source, source.read_bytes(), True
    text = assets.get(parent.project_key)
    project = parse_project(text.decode(), source=str(source), base_dir=source.parent, check_files=False)
    return project, source, text, False


def plan_rerun(
    settings: Settings, catalog: Catalog, assets: AssetStore, batch_id: str, only: Sequence[str]
) -> tuple[Batch, bool]:
    """Write the rerun batch's row; its storyboard stage renders ``rerun_only`` and carries the rest.

    Returns:
        ``(batch, from_disk)``: the new batch, and whether the project file on disk was used.
    """
    parent = catalog.batch(batch_id)
    if parent.kind == "replay":
        raise RerunError(batch_id, "it is a replay; replay its take again instead (studio replay TAKE)")
    project, source, text, from_disk = current_project(assets, parent)
    if parent.state in ENDED_BATCH_STATES:
        # Shots an older studio lost in an outage (the batch ended, they never did) count as failed.
        mark_lost(catalog, parent, rendered_shots(parent, catalog.shots(batch_id)))
    chosen = shots_to_rerun(only, catalog.shots(batch_id), project, batch_id)
    extra: dict[str, object] = dict(
        kind="rerun",
        parent_batch_id=parent.id,
        rerun_only=chosen,
        # New seeds: the same seed would render a rejected shot the same way again.
        seed=new_batch_seed(),
        budget_usd=parent.budget_usd if project.budget_usd is None else project.budget_usd,
    )
    if not from_disk:
        extra["references"] = parent.references
    batch = batch_row(settings, assets, project, source, text, **extra)
    return catalog.add_batch(batch), from_disk


def carried_rows(
    batch: Batch, parent_shots: Sequence[Shot], parent_takes: dict[str, Take], positions: dict[str, int]
) -> tuple[list[Shot], list[Take]]:
    """Copies of the parent's published shots that a rerun keeps, as rows of the new batch.

    Args:
        batch: The rerun batch.
        parent_shots: The original batch's shots.
        parent_takes: The original batch's takes by id.
        positions: Storyboard position of each shot id in the project as it is now; shots no
            longer in the project are not carried.
    """
    shots: list[Shot] = []
    takes: list[Take] = []
    for old in parent_shots:
        if old.shot_id in batch.rerun_only or old.shot_id not in positions:
            continue
        chosen = parent_takes.get(old.final_take_id or "")
        if old.stage != ShotStage.PUBLISHED or chosen is None:
            continue
        key = shot_key(batch.id, old.shot_id)
        copy = take_id(key, 1)
        # New rows from plain field values: a model_copy of a loaded row would share its identity.
        shots.append(
            Shot(
                **{
                    **old.model_dump(),
                    **dict(
                        key=key,
                        batch_id=batch.id,
                        position=positions[old.shot_id],
                        stage=ShotStage.PUBLISHED,
                        final_take_id=copy,
                        variants=1,
                    ),
                }
            )
        )
        takes.append(
            Take(
                **{
                    **chosen.model_dump(exclude={"created_at"}),
                    **dict(
                        id=copy,
                        batch_id=batch.id,
                        shot_key=key,
                        number=1,
                        round=1,
                        parent_take_id=chosen.id,
                        cost_usd=0.0,
                    ),
                }
            )
        )
    return shots, takes


def project_positions(project: Project) -> dict[str, int]:
    """Each shot id's position in the project."""
    return {spec.id: n for n, spec in enumerate(project.shots)}
