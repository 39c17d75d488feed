"""Progress reporting from services to whatever shows it (a command, a task, nothing).

A service calls ``progress(message)`` for a line, or ``progress(label, done=i, total=n)``
for a step of a long job; the receiver decides how to show it (a bar on a terminal)."""
from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, message: str, *, done: int | None = None, total: int | None = None) -> None: ...


def quiet(message: str, *, done: int | None = None, total: int | None = None) -> None:
    return None


class LineProgress:
    """Writes lines to ``write``; steps become a bar, redrawn in place on a terminal and
    printed at every quarter otherwise."""

    WIDTH = 30

    def __init__(self, write, is_terminal: bool = False):
        self.write = write
        self.is_terminal = is_terminal
        self._last_quarter: dict[str, int] = {}

    def __call__(self, message: str, *, done: int | None = None, total: int | None = None) -> None:
        if done is None or total is None:
            self.write(message)
            return
        if total <= 1:
            return  # a one-step job needs no bar
        filled = int(self.WIDTH * done / total) if total else self.WIDTH
        bar = f"{message} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total}"
        if self.is_terminal:
            self.write("\r" + bar + ("\n" if done == total else ""), ending="")
            return
        quarter = 4 * done // total if total else 4
        if done == total or quarter > self._last_quarter.get(message, -1) and total > 1:
            self._last_quarter[message] = quarter
            self.write(bar)
