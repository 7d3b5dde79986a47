"""A validated project as data: the project, its shots, and its approval and publishing settings.

Kept apart from :mod:`studio.project.loader`, which builds them from ``project.toml`` and exports
them too (``from studio.project.loader import Project`` is how the studio names them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.priority import DEFAULT_PRIORITY
from studio.project.fields import DEFAULT_REFERENCE_STRENGTH

__all__ = ["ApprovalSpec", "Project", "PublishSpec", "ShotSpec"]


@dataclass(frozen=True)
class ShotSpec:
    """One shot of the storyboard, with project defaults already applied.

    Attributes:
        id: Unique shot id (``[A-Za-z0-9_-]{1,40}``).
        prompt: The prompt as written, without the style.
        negative: Negative prompt ("" when none).
        width: Image width in pixels.
        height: Image height in pixels.
        variants: Takes to render for this shot (1..16).
        seed: This shot's own seed, or None to derive one from the batch seed.
        upscale: Upscale factor (1 = none, up to 4).
        chain: Provider chain for this shot (its own, else the project's), or None.
        reference: Absolute path of a storyboard sketch image, or None.
        style: Style appended to the prompt ("" when none).
        reference_strength: How far a render may move from the sketch (0..1; 1 = ignore it).
        workflow: Absolute path of the ComfyUI workflow this shot renders with (its own, else the
            project's), or None.
    """

    id: str
    prompt: str
    negative: str
    width: int
    height: int
    variants: int
    seed: int | None
    upscale: int
    chain: tuple[str, ...] | None
    reference: str | None
    style: str = ""
    reference_strength: float = DEFAULT_REFERENCE_STRENGTH
    workflow: str | None = None

    @property
    def full_prompt(self) -> str:
        """The prompt sent to providers: ``"<prompt>, <style>"``, or the prompt alone."""
        return f"{self.prompt}, {self.style}" if self.style else self.prompt


@dataclass(frozen=True)
class ApprovalSpec:
    """Whether a human must approve takes before publishing, and what happens if nobody does.

    Attributes:
        required: Hold the batch for review before publishing.
        deadline_seconds: How long to wait for a review, or None to wait forever.
        on_expiry: ``"hold"``, ``"approve-best"`` or ``"reject"`` once the deadline passes.
        watermark: Clients see watermarked previews until a take is approved.
    """

    required: bool = False
    deadline_seconds: int | None = None
    on_expiry: str = "hold"
    watermark: bool = False


@dataclass(frozen=True)
class PublishSpec:
    """Where approved takes go.

    Attributes:
        target: Publishing target; only ``"folder"`` exists for now.
        path: Absolute output folder, or None to let the studio choose.
        credentials: Sign published files with C2PA content credentials.
    """

    target: str = "folder"
    path: str | None = None
    credentials: bool = True


@dataclass(frozen=True)
class Project:
    """A validated project file.

    Attributes:
        name: Display name.
        slug: Folder-safe name derived from ``name`` (``a-z``, ``0-9`` and ``-``).
        seed: Batch seed, or None to draw one per batch.
        chain: Project-wide provider chain, or None for the studio default.
        approval: Review settings.
        publish: Publishing settings.
        budget_usd: Spending cap for a batch in US dollars, or None for no cap.
        shots: The shots, in file order.
        source: Path of the TOML file as given.
        options: The options of each self-hosted provider that has any (``[providers.a1111]``
            ``steps``, ...), by provider; the ComfyUI workflow is per shot (``ShotSpec.workflow``).
        workflows: Each workflow file the shots name, read and checked (API format, placeholders
            unfilled), by absolute path; empty when the project was parsed without its files.
        priority: Where its renders queue: ``"rush"``, ``"normal"`` or ``"low"``.
        client: Who the batch is for (the fairness key), or None for the project's slug.
        cache: Whether its takes may reuse identical earlier renders (``[project] cache``).
    """

    name: str
    slug: str
    seed: int | None
    chain: tuple[str, ...] | None
    approval: ApprovalSpec
    publish: PublishSpec
    budget_usd: float | None
    shots: tuple[ShotSpec, ...]
    source: str
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    workflows: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    priority: str = DEFAULT_PRIORITY
    client: str | None = None
    cache: bool = True

    @property
    def total_takes(self) -> int:
        """Number of images a batch renders: the sum of every shot's variants."""
        return sum(shot.variants for shot in self.shots)
