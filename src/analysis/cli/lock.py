"""One lock per checkout: runs that write the store or the reports take turns.

``data/.lock`` is held with ``flock`` for the whole run and holds the holder's pid for the message
another run prints. The operating system drops an flock when its process ends, however it ends, so
the lock of a killed run is free at once: the next run takes it over and writes its own pid.

The main job passes the lock on to its step processes with ``ANALYSIS_LOCK_HELD`` (they run while it
holds the lock, so they must not wait for it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from analysis.core import paths
from analysis.core.errors import AnalysisError

HELD_ENV = "ANALYSIS_LOCK_HELD"
LOCK_NAME = ".lock"


class LockBusy(AnalysisError):
    """Another run holds the lock and the caller asked not to wait."""

    exit_code = 4


def lock_path() -> Path:
    return paths.data_dir() / LOCK_NAME


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 32).decode("ascii", "replace").strip()
    return text if text.isdigit() else "unknown"


def _claim(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))


@contextlib.contextmanager
def checkout_lock(wait: bool = True, say: Callable[[str], None] = print) -> Iterator[None]:
    """Hold ``data/.lock`` for the block; wait for another holder (saying so) or raise ``LockBusy``."""
    if os.environ.get(HELD_ENV):
        yield
        return
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by child processes
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            shown = paths.relative_to_root(path)
            if not wait:
                raise LockBusy(f"{shown}: another run (pid {holder}) is writing the store or the reports; "
                               "try again when it has finished, or run without --no-wait to wait for it") from None
            say(f"waiting for another run (pid {holder}, holding {shown}) to finish...")
            fcntl.flock(fd, fcntl.LOCK_EX)
        _claim(fd)
        yield
    finally:
        os.close(fd)  # releases the flock
