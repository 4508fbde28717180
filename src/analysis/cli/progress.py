"""Counters a step prints while it works: one line per event, or one updated line on a terminal."""

from __future__ import annotations

import shutil
import sys
from typing import TextIO


class Counter:
    """``[step] text`` lines. On a terminal each update replaces the previous one; in a log every
    update is a line of its own, so a log shows the whole progression."""

    def __init__(self, step: str, stream: TextIO | None = None, quiet: bool = False):
        self.step = step
        self.stream = stream or sys.stdout
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self._open = False

    def update(self, text: str) -> None:
        if self.quiet:
            return
        line = f"[{self.step}] {text}"
        if self.tty:
            width = shutil.get_terminal_size().columns - 1
            self.stream.write("\r\x1b[2K" + line[:width])
            self._open = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def say(self, text: str) -> None:
        """A line that stays on a terminal too (a failure, a warning)."""
        self.close()
        if not self.quiet:
            self.stream.write(f"[{self.step}] {text}\n")
            self.stream.flush()

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


def notebook_line(event) -> str:
    """A notebook runner ``Progress`` event as one counter line."""
    running = f"; running {', '.join(event.running)}" if event.running else ""
    if event.finished is None:
        return f"{event.total} notebook run(s) to execute{running}"
    run = event.finished
    what = "FAILED" if run.status == "failed" else "done"
    return f"{event.done} of {event.total} executed: {run.name} {what} ({run.seconds:.1f} s){running}"
