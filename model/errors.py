"""The one root error of the library.

Every error that the library raises on bad input or missing data derives from
:class:`GezondeStadError` and carries a Dutch message for the user (``str(exc)``). The app shows
that message; the CLI prints it on one line and exits with status 2, never with a traceback.
"""

from __future__ import annotations


class GezondeStadError(ValueError):
    """Root of all library errors; ``str(exc)`` is a Dutch message saying what is wrong and what to do.

    It stays a :class:`ValueError` so that callers catching bad input the standard way still work.
    """
