"""One progress callback for long work (prepare, indicators, heat, water, screening).

A long-running library function takes ``progress: Progress | None`` and calls it as
``progress(done, total, message)`` after each step, with a short Dutch ``message`` saying what
runs next. The CLI passes a :class:`TqdmProgress` (a tqdm bar on stderr); the app passes a
function that moves ``st.progress``; tests and the screening pass nothing (:func:`no_progress`).
The library never prints.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

from tqdm import tqdm


class Progress(Protocol):
    """A callback ``(done, total, message) -> None``; ``0 <= done <= total``."""

    def __call__(self, done: int, total: int, message: str) -> None: ...


def no_progress(done: int, total: int, message: str) -> None:
    """The default: report nothing."""


def as_progress(progress: Progress | bool | None, desc: str = "") -> Progress:
    """A callable for ``progress``: None/False -> :func:`no_progress`, True -> a :class:`TqdmProgress`.

    ``True`` is accepted for callers written before the callback existed (``progress=True``).
    """
    if progress is None or progress is False:
        return no_progress
    if progress is True:
        return TqdmProgress(desc)
    return progress


class TqdmProgress:
    """The CLI's adapter: one tqdm bar (stderr) that follows the callback; closes itself at the end.

    Parameters
    ----------
    desc : str
        Label in front of the bar.
    unit : str
        Unit shown after the counts (Dutch: ``stap``).
    """

    def __init__(self, desc: str = "", unit: str = "stap", **tqdm_kwargs: Any) -> None:
        self.desc = desc
        self.unit = unit
        self._kwargs = tqdm_kwargs
        self._bar: tqdm | None = None

    def __call__(self, done: int, total: int, message: str) -> None:
        if self._bar is None or self._bar.total != total:
            self.close()
            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, **self._kwargs)
        self._bar.n = min(done, total)
        self._bar.set_postfix_str(message, refresh=False)
        self._bar.refresh()
        if done >= total:
            self.close()

    def close(self) -> None:
        """Close the bar (idempotent)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class Steps:
    """Report a fixed list of named steps to a :class:`Progress` and time each one.

    ``steps = Steps(progress, {"networks": "netwerken bouwen", ...})`` reports ``(0, n, first
    message)``; each ``steps.done("networks")`` records the seconds since the previous step in
    :attr:`timings_s` and reports the next message.
    """

    def __init__(self, progress: Progress | bool | None, steps: dict[str, str] | Sequence[str], desc: str = "") -> None:
        self._names = list(steps)
        self._messages = dict(steps) if isinstance(steps, dict) else {s: s for s in steps}
        self._progress = as_progress(progress, desc)
        self._done = 0
        self._t0 = time.perf_counter()
        self._t = self._t0
        self.timings_s: dict[str, float] = {}
        self._progress(0, len(self._names), self._messages[self._names[0]] if self._names else "")

    def done(self, name: str) -> None:
        """Mark step ``name`` finished (its time is the time since the previous :meth:`done`)."""
        now = time.perf_counter()
        self.timings_s[name] = now - self._t
        self._t = now
        self._done = min(self._done + 1, len(self._names))
        nxt = self._names[self._done] if self._done < len(self._names) else "klaar"
        self._progress(self._done, len(self._names), self._messages.get(nxt, nxt))

    def total_s(self) -> float:
        """Seconds since the steps started."""
        return time.perf_counter() - self._t0
