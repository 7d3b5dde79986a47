"""A batch's life outside the workflows: launching, the launch preview and estimate, replay and rerun,
lineage, publishing and closing."""

from studio.batches.launch import prepare_batch
from studio.batches.replay import ReplayRequest, plan_replay

__all__ = [
    "ReplayRequest",
    "plan_replay",
    "prepare_batch",
]
