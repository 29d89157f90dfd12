"""``gezondestad``: the command-line entry point (a thin shell over layers/, spatial/, screening/).

Subcommands live next to the library code they call (``layers/cli.py``, ...), each module with a
``COMMANDS`` dict of ``name -> (add_parser, run)`` pairs, listed in :data:`COMMAND_MODULES`. A
subcommand only parses arguments, calls library functions and prints.
Errors of the library (bad input) are printed as one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable

COMMAND_MODULES: tuple[str, ...] = (
    "gezondestad.app.cli.toets",
    "gezondestad.app.cli.screen",
    "gezondestad.app.cli.network",
    "gezondestad.app.cli.area",
    "gezondestad.app.cli.climate",
    "gezondestad.app.cli.health",
    "gezondestad.app.cli.air",
)
"""Modules that each define ``COMMANDS = {name: (add_parser, run)}``; add one line per module."""


def _commands() -> dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]]:
    out: dict = {}
    for mod in COMMAND_MODULES:
        out.update(importlib.import_module(mod).COMMANDS)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gezondestad", description="Gezonde Stad: health in spatial planning.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add, _ in _commands().values():
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _, run = _commands()[args.command]
    try:
        return run(args)
    except (ValueError, OSError, KeyError) as exc:  # library errors carry a clear message
        print(f"gezondestad {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
