"""Running a child process and measuring it: wall time, peak memory, and the JSON result it prints.

Two memory figures are kept because they answer different questions:

* ``maxrss_mb`` comes from ``os.wait4`` (the kernel's ``ru_maxrss``): the high-water mark of the
  child itself and of any descendant it waited for, whichever was largest. Exact, but a parent and
  a notebook kernel alive at the same time are not added up.
* ``tree_peak_mb`` samples ``/proc`` every 100 ms and adds the memory of the child and all its live
  descendants, as PSS (shared library pages split between the processes that map them): what the
  machine needed at once (Linux only; ``None`` elsewhere). Short spikes between two samples can be
  missed, and PSS leaves out the shared share, so it can read below maxrss. Sampling costs the
  harness about 3 % of one core (16 % at 20 ms, enough to slow what it measures on two cores).

``cpu_seconds`` is user + system CPU time of the child and of every descendant it waited for (from
the same ``os.wait4`` call): on a loaded machine it moves less than wall time, and beside the wall
time it shows how much of the work ran on both cores at once. A descendant left running (never
waited for) is not counted.

A child that prints a line ``BENCH_RESULT <json>`` hands structured figures back (see child.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

RESULT_PREFIX = "BENCH_RESULT "
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_PROC = Path("/proc")


@dataclass
class Measured:
    """One child run."""

    argv: list[str]
    returncode: int
    wall: float
    maxrss_mb: float
    tree_peak_mb: float | None
    stdout: str
    stderr: str
    result: dict = field(default_factory=dict)
    killed: str | None = None  # why the harness stopped it (timeout, memory limit), else None
    cpu_seconds: float = 0.0   # user + sys of the child and its waited-for descendants

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.killed is None

    def failure(self) -> str:
        """A one-line reason for a failed run (for the report)."""
        if self.killed:
            return self.killed
        tail = (self.stderr.strip() or self.stdout.strip()).splitlines()
        last = tail[-1] if tail else ""
        return f"exit status {self.returncode}: {last[:300]}"


def memory_total_mb() -> float | None:
    """Physical memory of the machine, from /proc/meminfo (None when unavailable)."""
    try:
        for line in (_PROC / "meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir(_PROC):
        if not entry.name.isdigit():
            continue
        try:
            stat = (_PROC / entry.name / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may itself contain spaces or parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _pss_bytes(pid: int) -> int | None:
    """Proportional set size: resident memory with pages shared by n processes counted 1/n each."""
    try:
        for line in (_PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return None


def _rss_bytes(pid: int) -> int:
    try:
        return int((_PROC / str(pid) / "statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_mb(root: int) -> float:
    """Memory of ``root`` and all its live descendants, in MB.

    Summed as PSS where the kernel provides it: several Python processes (the job, a notebook
    kernel) map the same libraries, and adding their plain RSS would count those pages twice.
    """
    children = _children_map()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        pss = _pss_bytes(pid)
        total += pss if pss is not None else _rss_bytes(pid)
        todo.extend(children.get(pid, ()))
    return total / 2**20


class _TreeSampler(threading.Thread):
    """Samples the tree's RSS until stopped; stops the tree when it passes ``limit_mb``."""

    def __init__(self, pid: int, interval: float, limit_mb: float | None):
        super().__init__(daemon=True)
        self.pid, self.interval, self.limit_mb = pid, interval, limit_mb
        self.peak: float | None = 0.0 if _PROC.is_dir() else None
        self.over_limit = False
        self._halt = threading.Event()

    def run(self) -> None:
        if self.peak is None:
            return
        while not self._halt.is_set():
            rss = tree_rss_mb(self.pid)
            self.peak = max(self.peak, rss)
            if self.limit_mb is not None and rss > self.limit_mb and not self.over_limit:
                self.over_limit = True
                _kill_group(self.pid)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _kill_group(pid: int) -> None:
    """Stop the child we started and its process group (it runs in a session of its own)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def parse_result(stdout: str) -> dict:
    """The last ``BENCH_RESULT`` line of a child's output, decoded (empty dict when there is none)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    return {}


def run_measured(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | str | None = None,
                 timeout: float | None = None, memory_limit_mb: float | None = None,
                 sample_interval: float = 0.1, inherit_env: bool = True) -> Measured:
    """Run ``argv`` to completion and measure it (see the module docstring).

    ``env`` entries are added to the current environment (or replace it: ``inherit_env=False``).
    Output goes to temporary files, not pipes, so a chatty child can never block. The child gets its
    own session so that a timeout or the memory limit stops it and everything it started, and
    nothing else.
    """
    full_env = {**(os.environ if inherit_env else {}), **(env or {})}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), env=full_env, cwd=cwd, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        sampler = _TreeSampler(proc.pid, sample_interval, memory_limit_mb)
        sampler.start()
        timer = threading.Timer(timeout, _kill_group, args=(proc.pid,)) if timeout else None
        if timer:
            timer.start()
        # wait4 (not Popen.wait) because it also returns the child's resource usage.
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # the harness itself is stopped: stop the child too, leave nothing behind
            _kill_group(proc.pid)
            os.waitpid(proc.pid, 0)
            sampler.stop()
            if timer:
                timer.cancel()
            raise
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        timed_out = bool(timer) and not timer.is_alive() and proc.returncode < 0
        if timer:
            timer.cancel()
        sampler.stop()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    killed = None
    if sampler.over_limit:
        killed = f"stopped: memory of the process tree passed {memory_limit_mb:.0f} MB"
    elif timed_out:
        killed = f"stopped: still running after {timeout:.0f} s"
    try:
        result = parse_result(stdout)
    except json.JSONDecodeError:
        result = {}
    # ru_maxrss is in kilobytes on Linux.
    return Measured(argv=list(argv), returncode=proc.returncode, wall=wall, maxrss_mb=usage.ru_maxrss / 1024,
                    tree_peak_mb=sampler.peak, stdout=stdout, stderr=stderr, result=result, killed=killed,
                    cpu_seconds=usage.ru_utime + usage.ru_stime)
