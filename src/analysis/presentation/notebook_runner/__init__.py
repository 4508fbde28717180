"""Executing the research notebooks (papermill) and exporting them as HTML without code.

``run_notebooks`` executes ``notebooks/NN_*.ipynb`` in order with the ``python3`` kernel, working
directory ``notebooks/``:

* executed copies go to ``reports/notebooks/executed/`` (or over the committed notebooks with
  ``inplace=True``: ``make notebooks`` after a data refresh, so the committed outputs match the store);
* HTML without code cells goes to ``reports/notebooks/<name>.html`` for readers who do not use Python;
* the country-profile notebook runs once per focus country with the papermill parameter
  ``country=<ISO3>`` and is exported to ``reports/notebooks/profiles/<ISO3>.html``.

Outputs are deterministic: papermill's and nbclient's timing metadata are removed, cell ids are made
stable, consecutive printed chunks are merged into one output (the kernel splits them differently on
each run), and every output is scanned for machine paths, object addresses and timestamps (reported
as issues). Every file is written atomically: a failing notebook leaves the last good outputs in place.

Parameters are checked before any kernel starts: a name no selected notebook declares, or a profile
``country`` that is not one of the focus countries, is a ``NotebookError`` naming what is allowed.
Kernels talk over local sockets and are shut down without an interrupt, so a successful run prints
nothing of theirs. Charts a notebook exports go to ``paths.figures_dir()/<NOTEBOOK>/`` (a scratch
folder unless the main job says otherwise); that folder is emptied before the notebook runs again, so
charts it no longer draws disappear.

One kernel runs per usable core (``jobs``); each worker writes only its own files, and the run state
is recorded by the parent process. A worker reuses one kernel for its notebooks, put back into a fresh
kernel's state before each and reached through one client connection (``kernel.KernelSession``): the
outputs are the bytes a kernel per notebook gives (``fresh_kernels=True``), without paying the kernel
start, the imports and a new connection each time.

Work is skipped when nothing it depends on changed: the
store manifest, the notebook's sources (not its outputs), the package code and the parameters are
hashed into a key kept in ``reports/notebooks/run-state.json``; ``force=True`` re-executes everything.
"""

from analysis.presentation.notebook_runner.kernel import KERNEL
from analysis.presentation.notebook_runner.outputs import (
    VOLATILE_PATTERNS,
    clean_executed,
    find_volatile,
    merge_streams,
    title_of,
    to_html,
)
from analysis.presentation.notebook_runner.runner import (
    FIGURES_PARAMETER,
    NOTEBOOK_GLOB,
    PROFILE_NOTEBOOK,
    PROFILE_PARAMETER,
    STATE_FILE,
    FullRunStatus,
    NotebookError,
    NotebookRun,
    ParameterError,
    Progress,
    RunResult,
    check_countries,
    default_jobs,
    discover,
    focus_countries,
    full_run_status,
    notebook_source_hash,
    parameters_for,
    run_key,
    run_notebooks,
    store_hash,
)

__all__ = [
    "FIGURES_PARAMETER", "KERNEL", "NOTEBOOK_GLOB", "PROFILE_NOTEBOOK", "PROFILE_PARAMETER", "STATE_FILE",
    "VOLATILE_PATTERNS", "FullRunStatus", "NotebookError", "NotebookRun", "ParameterError", "Progress", "RunResult",
    "check_countries", "clean_executed", "default_jobs", "discover", "find_volatile", "focus_countries",
    "full_run_status", "merge_streams", "notebook_source_hash", "parameters_for", "run_key", "run_notebooks",
    "store_hash", "title_of", "to_html",
]
