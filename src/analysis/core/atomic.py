"""Atomic outputs: a failed run never leaves a half-written file or a half-replaced set of files.

Single files are written to a temporary sibling and moved into place with ``os.replace`` (atomic on
POSIX within one filesystem). A set of files that must change together (the store) is staged in a
temporary directory and committed only after every file of the set has been written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates 0600 files; outputs are ordinary files, readable like any other the user writes.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def write_with(target: Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and move the result into place only if it returned normally."""
    with atomic_path(target) as tmp:
        writer(tmp)


@contextlib.contextmanager
def staged_directory(target_dir: Path) -> Iterator[Path]:
    """Stage a set of files; on success each staged file replaces its namesake in ``target_dir``.

    Files are first written in full to a staging directory on the same filesystem, so the only
    window in which the set is mixed is the sequence of ``os.replace`` calls at the end, each atomic.
    """
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=target_dir))
    try:
        yield stage
        for path in sorted(stage.rglob("*")):
            if path.is_file():
                dest = target_dir / path.relative_to(stage)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
