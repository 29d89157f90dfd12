"""CLI subcommand ``app``: start the Streamlit app (``streamlit run`` on the packaged entry).

Streamlit serves the ``static/`` folder next to the main script (the app's own Leaflet, so the
maps work offline). Installed from a wheel, ``static/`` is ``gezondestad/app/static`` next to
``gezondestad/app/entry.py``; in the repository (editable install) it is ``static/`` next to
``streamlit_app.py``. :func:`app_script` picks the one that has it. The settings of the
repository's ``.streamlit/config.toml`` that the app needs are passed as flags, so an installed
app behaves the same.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import gezondestad.app as app_pkg
from gezondestad.model.errors import GezondeStadError

SETTINGS: tuple[tuple[str, str], ...] = (
    ("server.enableStaticServing", "true"),
    ("server.maxUploadSize", "200"),
    ("server.maxMessageSize", "200"),
    ("runner.magicEnabled", "false"),
    ("browser.gatherUsageStats", "false"),
    ("client.toolbarMode", "minimal"),  # no "clear cache" for visitors
    ("theme.base", "light"),
    ("theme.primaryColor", "#1b7f4b"),
)


def app_script() -> Path:
    """The main script to run: the packaged entry, or the repository's ``streamlit_app.py``."""
    here = Path(app_pkg.__file__).resolve().parent
    if (here / "static" / "leaflet").is_dir():
        return here / "entry.py"
    repo = here.parent
    if (repo / "streamlit_app.py").is_file() and (repo / "static" / "leaflet").is_dir():
        return repo / "streamlit_app.py"
    raise GezondeStadError(
        f"De statische bestanden van de app (Leaflet) ontbreken naast {here / 'entry.py'}; installeer het pakket "
        "opnieuw (pip install gezondestad)."
    )


def app_command(port: int, address: str, headless: bool) -> list[str]:
    """The ``streamlit run`` command line."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_script()),
           "--server.port", str(port), "--server.address", address,
           "--server.headless", "true" if headless else "false"]
    for key, value in SETTINGS:
        cmd += [f"--{key}", value]
    return cmd


def _add_app(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="de app starten in de browser (Streamlit)")
    p.add_argument("--port", "--server.port", dest="port", type=int, default=8501, help="poort (standaard 8501)")
    p.add_argument("--address", "--server.address", dest="address", default="127.0.0.1",
                   help="adres om op te luisteren (standaard 127.0.0.1: enkel deze computer)")
    p.add_argument("--headless", action="store_true", help="geen browser openen")
    p.add_argument("--server.headless", dest="server_headless", choices=("true", "false"), default=None,
                   help="zoals Streamlits eigen optie: true = geen browser openen")
    p.add_argument("--dry-run", action="store_true", help="het commando tonen in plaats van het uit te voeren")


def _run_app(args: argparse.Namespace) -> int:
    headless = args.headless or args.server_headless == "true"
    cmd = app_command(args.port, args.address, headless)
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    return subprocess.call(cmd, cwd=Path(cmd[4]).parent)


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "app": (_add_app, _run_app),
}
