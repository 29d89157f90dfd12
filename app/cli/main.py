"""``gezondestad``: the command-line entry point (a thin shell over layers/, spatial/, screening/).

Subcommands live in ``app/cli/<topic>.py``, each module with a ``COMMANDS`` dict of
``name -> (add_parser, run)`` pairs, listed in :data:`COMMAND_MODULES`. A subcommand only parses
arguments, calls library functions and prints. ``--help`` lists the commands in the order of the
workflow (:data:`WORKFLOW`), newer commands after them.

Errors of the library (:class:`~gezondestad.model.errors.GezondeStadError`, with a Dutch message)
and of the file system are printed as one line and exit with status 2, never with a traceback;
``--debug`` shows the traceback for a bug report.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable

from gezondestad.model.errors import GezondeStadError

logger = logging.getLogger(__name__)

COMMAND_MODULES: tuple[str, ...] = (
    "gezondestad.app.cli.toets",
    "gezondestad.app.cli.screen",
    "gezondestad.app.cli.network",
    "gezondestad.app.cli.area",
    "gezondestad.app.cli.climate",
    "gezondestad.app.cli.health",
    "gezondestad.app.cli.air",
    "gezondestad.app.cli.exposure",
    "gezondestad.app.cli.app",
)
"""Modules that each define ``COMMANDS = {name: (add_parser, run)}``; add one line per module."""


WORKFLOW: tuple[str, ...] = ("prepare", "export", "indicators", "heat", "water", "access", "toets", "screen")
"""Commands in the order a user needs them; other commands follow in :data:`COMMAND_MODULES` order."""

Command = tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]


def _commands() -> dict[str, Command]:
    found: dict[str, Command] = {}
    for mod in COMMAND_MODULES:
        found.update(importlib.import_module(mod).COMMANDS)
    order = [c for c in WORKFLOW if c in found] + [c for c in found if c not in WORKFLOW]
    return {c: found[c] for c in order}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gezondestad",
        description="Gezonde Stad: gezondheid in de ruimtelijke planning. Typische volgorde: prepare (studiegebied "
        "klaarzetten), export, indicators / heat / water / access (indicatoren per wijk), toets (ontwerp toetsen), "
        "screen (plan screenen).",
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback when something fails (for a bug report)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add, _ in _commands().values():
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _, run = _commands()[args.command]
    try:
        return run(args)
    except GezondeStadError as exc:
        _fail(args, str(exc))
    except OSError as exc:
        what = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        _fail(args, f"{what}{exc.strerror or exc} (controleer het pad en de rechten).")
    except Exception as exc:  # noqa: BLE001  (a bug: one line for the user, the traceback with --debug)
        _fail(args, f"onverwachte fout ({type(exc).__name__}: {exc}). Meld dit met het commando dat u gaf; --debug toont de details.")
    return 2


def _fail(args: argparse.Namespace, message: str) -> None:
    if args.debug:
        logger.exception("gezondestad %s", args.command)
    print(f"gezondestad {args.command}: {' '.join(message.split())}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
