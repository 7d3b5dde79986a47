"""`studio`: the command line. The one place in studio/ that reaches pipelines/ (to start things).

Every user mistake ends as one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from studio.errors import StudioError

USAGE_EXAMPLES = """\
examples:
  studio up                                   start the embedded stack (Ctrl-C stops it)
  studio run sample_projects/short-film       launch a batch and watch it (--detach to return at once)
  studio status                               every batch; `studio status BATCH --json` for one
  studio approve BATCH SHOT --take 3          answer an approval gate (or `studio reject BATCH SHOT`)
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from studio.cli import batches, dashboard, sharing, stack

    parser = argparse.ArgumentParser(
        prog="studio",
        description="A durable render studio: storyboard -> image -> upscale -> review -> publish.",
        epilog=USAGE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    stack.register(sub)
    batches.register(sub)
    sharing.register(sub)
    dashboard.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except StudioError as err:
        print(f"studio: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def entry() -> None:
    """Console-script entry: exit without interpreter finalization.

    The Temporal client's native runtime keeps threads that can abort the process while Python
    finalizes (a crash *after* the work is done, turning success into exit code 134), so the
    CLI flushes its output and leaves with ``os._exit``.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
