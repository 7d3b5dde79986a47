"""What `make demo` prints last: how to reach `studio`, the dashboard, the published files, and how to stop.

Run as ``python -m studio.cli.next_steps VENV`` (the Makefile does). `make demo` runs `studio`
from the virtualenv it made, so a new user's shell does not have it on its PATH yet: the
first step says how to put it there.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from studio.catalog.store import Catalog
from studio.settings import Settings, load_settings


def next_steps(settings: Settings, venv: str = ".venv") -> list[str]:
    """The lines to print: what to do, then the command or place to do it with.

    Args:
        settings: The studio's settings (where the dashboard listens, where files are published).
        venv: The virtualenv `make demo` installed the studio into, as the Makefile names it.
    """
    batches = Catalog.open(settings.catalog_url).batches(1)  # the demo's batch: the newest
    published = batches[0].output_dir if batches else f"{settings.published_dir}/<batch>/"
    steps = [
        ("put `studio` on your PATH", f". {Path(venv) / 'bin' / 'activate'}"),
        ("open the dashboard", settings.dashboard_url),
        ("see every batch", "studio status"),
        ("the published images", f"{published}  (with manifest.json)"),
        ("stop the stack", "make down"),
    ]
    width = max(len(why) for why, _ in steps) + 1
    return ["what next:", *(f"  {(why + ':').ljust(width)}  {what}" for why, what in steps)]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the next steps; the one argument is the virtualenv's path (default ``.venv``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    print("\n".join(next_steps(load_settings(), *args[:1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
