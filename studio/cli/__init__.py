"""`studio`: the command line. The one place in studio/ that reaches pipelines/ (to start things).

Every user mistake ends as one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from studio.errors import StudioError

USAGE_EXAMPLES = """\
examples:
  studio up                                   start the embedded stack (Ctrl-C stops it)
  studio run sample_projects/short-film       launch a batch and watch it (--detach to return at once)
  studio status                               every batch; `studio status BATCH --json` for one
  studio approve BATCH SHOT --take 3          answer an approval gate (or `studio reject BATCH SHOT`)
  studio priority BATCH rush                  move a running batch's shots not yet started ahead of others' (or low)
  studio pause BATCH                          no new render starts until `studio resume BATCH`
  studio weight acme 3                        give a client three times the default share of the providers
  studio budget BATCH --raise-to 20           let a batch waiting at its budget spend more (or --stop)
  studio replay published/b/s01.png           make that image again (--mode remix|vary-subtle|vary-strong)
  studio rerun BATCH --only rejected          keep the published shots, render the rejected ones again
  studio repair                               find shots a past outage left without an outcome (then rerun them)
  studio storyboard brief.md -o my-film       draft a project file from a written brief
  studio schema -o project.schema.json        the JSON Schema of project.toml, for TOML editors
  studio show BATCH/SHOT/2                    a take's recipe, what it came from, what was made from it
  studio find --prompt lighthouse --approved  search takes (--seed, --provider, --batch)
  studio cancel BATCH                         stop a batch; removes what it published (or --keep-published)
  studio queue                                batches in dispatch order with their ETAs, and the workers
  studio nodes                                your render nodes (COMFYUI_URLS, A1111_URLS): up, queue, jobs, s/image
  studio verify out/s01.png                   a published image's content credentials: signer, recipe, sources
  studio db upgrade                           bring the catalog's schema up to date (`studio db current`: where it is)
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from studio.cli import (
        batches,
        budget,
        dashboard,
        db,
        lineage,
        nodes,
        pausing,
        priority,
        queue,
        repair,
        replay,
        schema,
        sharing,
        stack,
        storyboard,
        verify,
        weights,
    )

    parser = argparse.ArgumentParser(
        prog="studio",
        description="A durable render studio: storyboard -> image -> upscale -> review -> publish.",
        epilog=USAGE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    stack.register(sub)
    batches.register(sub)
    budget.register(sub)
    replay.register(sub)
    sharing.register(sub)
    dashboard.register(sub)
    storyboard.register(sub)
    lineage.register(sub)
    db.register(sub)
    repair.register(sub)
    schema.register(sub)
    nodes.register(sub)
    queue.register(sub)
    priority.register(sub)
    pausing.register(sub)
    verify.register(sub)
    weights.register(sub)
    return parser


def settings_problem(err: Any) -> str:
    """One line saying which settings are wrong (a pydantic ``ValidationError`` of :class:`Settings`).

    Names each variable as the user set it (``STUDIO_SHOTS_IN_FLIGHT``, ``COMFYUI_URLS``), not
    the field behind it, and says what is wrong, without pydantic's links and input dumps.
    """
    from studio.settings import Settings

    parts = []
    for problem in err.errors():
        field = str(problem["loc"][0]) if problem.get("loc") else ""
        info = Settings.model_fields.get(field)
        name = (info.alias if info is not None and info.alias else f"STUDIO_{field.upper()}") if field else ""
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{name}: {message}" if name else message)
    return "bad settings: " + "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging()
    try:
        return int(args.func(args) or 0)
    except StudioError as err:
        print(f"studio: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        from pydantic import ValidationError

        from studio.outages.classify import classify_outage

        if isinstance(err, ValidationError) and err.title == "Settings":
            print(f"studio: {settings_problem(err)}", file=sys.stderr)
            return 2
        outage = classify_outage(err)
        if outage is None:
            raise
        print(f"studio: {outage} (batches wait and go on by themselves once it is back)", file=sys.stderr)
        return 3


def _configure_logging() -> None:
    """JSON log lines when ``STUDIO_LOG_FORMAT=json`` (warnings and errors; `studio worker` logs more)."""
    from pydantic import ValidationError

    from studio.log_format import configure_logging
    from studio.settings import load_settings

    try:
        settings = load_settings()
    except ValidationError:
        return  # the command that reads the settings says what is wrong with them
    configure_logging(settings, level=logging.WARNING)


def entry() -> None:
    """Console-script entry: exit without interpreter finalization.

    The Temporal client's native runtime keeps threads that can abort the process while Python
    finalizes (a crash *after* the work is done, turning success into exit code 134), so the
    CLI flushes its output and leaves with ``os._exit``.
    """
    code = main()
    tracing = sys.modules.get("pipelines.runtime.tracing")  # imported only by a process that traces
    if tracing is not None:
        tracing.flush_tracing()  # os._exit skips OpenTelemetry's own export at exit
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
