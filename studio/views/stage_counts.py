"""A batch's stage board (storyboard to publish) from counts, the way `studio status` and the dashboard show it.

Shared by one batch's summary (:mod:`studio.views.status`) and a page of batches' headlines
(:mod:`studio.views.board`): both read counts in SQL (:mod:`studio.catalog.board_queries`), never
every shot and take of a batch.
"""

from __future__ import annotations

from collections import Counter

from studio.catalog.board_queries import TakeCounts
from studio.catalog.models import Batch
from studio.states import GateAction, ShotStage
from studio.views.summary import ApprovalProgress, StageBoard, StageProgress

__all__ = ["counted_board"]


def counted_board(batch: Batch, stages: Counter[str], takes: TakeCounts, decided: Counter[str]) -> StageBoard:
    """Per-stage progress of ``batch`` from its shots per stage, its take counts and its gate decisions.

    Only shots with ``upscale`` > 1 upscale (the others' final image is the render itself); before
    the storyboard stage has written the shots, every take is counted.
    """
    total_takes = takes.takes or batch.total_takes
    has_shots = sum(stages.values()) > 0
    return StageBoard(
        storyboard=StageProgress(done=sum(stages.values()), total=batch.total_shots),
        render=StageProgress(done=takes.rendered, failed=takes.failed, total=total_takes),
        upscale=StageProgress(done=takes.upscaled, total=takes.upscaling if has_shots else total_takes),
        review=StageProgress(done=takes.reviewed, passed=takes.passed, total=total_takes),
        approval=ApprovalProgress(
            required=batch.approval_required,
            waiting=stages.get(ShotStage.AWAITING_APPROVAL, 0),
            approved=decided.get(GateAction.APPROVE, 0),
            rejected=decided.get(GateAction.REJECT, 0),
        ),
        publish=StageProgress(done=stages.get(ShotStage.PUBLISHED, 0), total=batch.total_shots),
    )
