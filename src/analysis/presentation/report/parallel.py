"""Independent report tasks (charts, profiles, the data download) on every usable core, results in order.

Workers are forked from the report process, so they start with its store reads, catalogue and caches and
nothing of that is pickled; only each task and its result cross between processes. Each task writes its own
files, so the outputs are the bytes a sequential run gives; ``jobs=1`` runs the tasks in this process (for
tests and debugging). A task's exception is raised in the caller with its own type and message, as a
sequential run raises it.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from analysis.presentation.notebook_runner import default_jobs

_worker: Callable[[Any], Any] | None = None  # the task function of this worker process (set when it starts)


def _install(worker: Callable[[Any], Any]) -> None:
    global _worker
    _worker = worker


def _call(task: Any) -> Any:
    assert _worker is not None, "a report worker runs tasks only after it was started with its task function"
    return _worker(task)


def jobs_or_default(jobs: int | None) -> int:
    """Worker processes: ``jobs`` when given, else one per usable core (as the notebook runner counts them)."""
    return default_jobs() if jobs is None else max(1, int(jobs))


def start_order(tasks: Sequence[Any], key: Callable[[Any], Any] | None) -> list[int]:
    """The tasks' positions in the order they are started: by ``key`` (ties: as given), else as given."""
    positions = range(len(tasks))
    return list(positions) if key is None else sorted(positions, key=lambda k: key(tasks[k]))


@contextmanager
def ordered_results(worker: Callable[[Any], Any], tasks: Sequence[Any], jobs: int,
                    first: Callable[[Any], Any] | None = None) -> Iterator[Iterator[Any]]:
    """``worker(task)`` for every task, on ``jobs`` forked processes; yields an iterator of the results in the
    order of ``tasks``. Every task is submitted on entry, so the caller can do other work before reading them.

    ``first``: a sort key over the tasks: the workers take them in its order (e.g. the heaviest first, so
    that they finish together rather than one drawing the last big task alone); results still come in the
    order of ``tasks``. ``worker`` may be any callable (a closure over the report's context): forked workers
    inherit it instead of receiving it pickled. Leaving the block early (an exception) cancels the tasks
    not yet started.
    """
    if jobs <= 1 or len(tasks) <= 1:
        yield (worker(task) for task in tasks)
        return
    context = multiprocessing.get_context("fork")  # the workers inherit the loaded store: nothing to re-read
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context, initializer=_install,
                             initargs=(worker,)) as pool:
        submitted = {k: pool.submit(_call, tasks[k]) for k in start_order(tasks, first)}
        futures = [submitted[k] for k in range(len(tasks))]
        try:
            yield (future.result() for future in futures)
        finally:
            for future in futures:
                future.cancel()  # no-op for finished ones; spares the rest after a failure
