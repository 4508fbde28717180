"""Executing notebooks with papermill, in kernels that keep quiet on a successful run and may be reused."""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat

KERNEL = "python3"


def quiet_kernel_manager() -> type:
    """A kernel manager whose kernels print nothing on a successful run.

    ipykernel warns at every start that TCP is unencrypted (local ipc sockets have no such warning),
    and jupyter_client interrupts a kernel before asking it to shut down, which makes ipykernel log
    "KeyboardInterrupt caught in kernel" when the signal lands in a message handler. A finished
    notebook has nothing to interrupt, so only the shutdown request is sent.

    The ipc sockets get a prefix of their own: jupyter_client's default is ``kernel-ipc`` in the
    working directory, where two kernels running at once would read each other's messages.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class QuietKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self) -> str:
            return "tcp" if os.name == "nt" else "ipc"  # Windows has no ipc sockets

        @default("ip")
        def _default_ip(self) -> str:
            if self.transport != "ipc":
                return super()._ip_default()
            return os.path.join(tempfile.gettempdir(), f"analysis-kernel-{uuid.uuid4().hex}")

        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

        interrupt_kernel = _async_interrupt_kernel

    return QuietKernelManager


def execute(source: Path, parameters: Mapping[str, object] | None, cwd: Path, km=None,
            kc=None) -> nbformat.NotebookNode:
    """Run ``source`` top to bottom (working directory ``cwd``); raises on a failing cell.

    Without ``km`` in a kernel of its own, started and shut down here; with ``km``, in that running
    kernel, which stays running (``KernelSession``), through its client ``kc`` (connected and ready).
    """
    import papermill

    # papermill warns about every parameters-cell line it cannot read back (e.g. a list with None);
    # the runner checks the parameters it passes itself, so these warnings only add noise.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    given = {"kernel_manager_class": quiet_kernel_manager()} if km is None else {
        "km": km, "kc": kc, "engine_name": _reused_kernel_engine()}
    return papermill.execute_notebook(
        str(source), None, parameters=dict(parameters or {}), kernel_name=KERNEL, cwd=str(cwd),
        progress_bar=False, log_output=False, request_save_on_cell_execute=False, **given,
    )


def declared_parameters(source: Path) -> list[str]:
    """The names the notebook's ``parameters`` cell assigns (what papermill may set)."""
    import papermill

    return list(papermill.inspect_notebook(str(source)))


def error_text(exc: BaseException) -> str:
    """A failed execution in one line: the exception, the cell and the message."""
    name = getattr(exc, "ename", type(exc).__name__)
    value = getattr(exc, "evalue", str(exc))
    cell = getattr(exc, "exec_count", None)
    where = f" in cell [{cell}]" if cell is not None else ""
    return f"{name}{where}: {value}".strip()


#: ``nbclient`` starts its kernels with an in-memory history (no sqlite file shared by two kernels);
#: a reused kernel must be started the same way to behave like a fresh one.
_KERNEL_ARGUMENTS = ("--HistoryManager.hist_file=:memory:",)

#: Run silently in a reused kernel before each notebook after its first: the state a fresh kernel
#: would have. The first call records what a fresh kernel starts with (warning filters, working
#: directory); later calls clear the namespace and execution counter and restore the global state the
#: notebooks change (matplotlib rc, pandas options, warning filters and "shown once" registries,
#: open pyplot figures). Imported modules stay: that is the saving. A library that adds warning filters
#: when it is imported adds them once per kernel, so those filters are recorded with the fresh state:
#: numpy's (every notebook imports it, through pandas) are taken in by importing it before recording;
#: a filter some other library adds at import in one notebook is not kept for the next notebooks.
#: What is still alive after the reset (modules, the store's caches) is then frozen out of the cyclic
#: garbage collector (``gc.freeze``): it outlives every notebook, and each collection would otherwise walk
#: it again (about 0.1 CPU-s per full collection with pandas and matplotlib loaded, several per notebook).
#: Objects are still freed by reference counting; outputs do not depend on when the collector runs.
_PREPARE = """
def __analysis_prepare():
    import gc, os, sys, types, warnings
    fresh = sys.modules.get("__analysis_fresh_kernel__")
    if fresh is None:
        import numpy  # its import adds warning filters; taken in before they are recorded (see above)
        fresh = types.ModuleType("__analysis_fresh_kernel__")
        fresh.filters, fresh.cwd = list(warnings.filters), os.getcwd()
        sys.modules[fresh.__name__] = fresh
        return
    get_ipython().reset(new_session=True)
    warnings.resetwarnings()
    warnings.filters[:] = fresh.filters
    warnings.onceregistry.clear()
    os.chdir(fresh.cwd)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].rc_file_defaults()
    if "pandas" in sys.modules:
        sys.modules["pandas"].reset_option("all")
    gc.collect()
    gc.freeze()
__analysis_prepare()
globals().pop("__analysis_prepare", None)  # gone already after a reset
"""


class KernelSession:
    """One kernel reused for the executions of this process, reset between them.

    Starting a kernel and importing pandas, matplotlib and the package costs about 2 CPU-seconds
    per notebook; a reused kernel pays it once. Before each notebook but the first the kernel is put
    back into the state of a fresh one (``_PREPARE``); a notebook that fails may have left anything
    behind, so its kernel is shut down and the next notebook gets a new one. ``fresh=True`` starts a
    kernel per notebook (what papermill does on its own).

    One client stays connected to the kernel for all its notebooks: a new client waits for the
    kernel's reply and then for its output channel to stay quiet for 0.2 s (``wait_for_ready``),
    about 0.5 s of idle wall time per notebook when the reset and papermill each connected anew.
    """

    def __init__(self, cwd: Path, fresh: bool = False) -> None:
        self.cwd = Path(cwd)
        self.fresh = fresh
        self._km = None
        self._kc = None

    def execute(self, source: Path, parameters: Mapping[str, object] | None) -> nbformat.NotebookNode:
        if self.fresh:
            return execute(source, parameters, self.cwd)
        try:
            self._prepare()
            return execute(source, parameters, self.cwd, km=self._km, kc=self._kc)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Disconnect and shut the kernel down (without the interrupt; see ``quiet_kernel_manager``)."""
        kc, self._kc = self._kc, None
        if kc is not None:
            kc.stop_channels()
        km, self._km = self._km, None
        if km is not None:
            from jupyter_core.utils import run_sync

            run_sync(km.shutdown_kernel)(now=False)

    def _prepare(self) -> None:
        from jupyter_core.utils import run_sync

        if self._km is None or not run_sync(self._km.is_alive)():
            self.close()
            self._km = quiet_kernel_manager()(kernel_name=KERNEL)
            run_sync(self._km.start_kernel)(extra_arguments=list(_KERNEL_ARGUMENTS), cwd=str(self.cwd))
            self._kc = run_sync(_connect)(self._km)
        run_sync(_run_silently)(self._kc, _PREPARE)

    def __enter__(self) -> KernelSession:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


async def _connect(km, timeout: float = 60):
    """A client of ``km``'s kernel, its channels open and the kernel answering; no input requests
    (nbclient's own client settings)."""
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=timeout)
    except BaseException:
        client.stop_channels()
        raise
    client.allow_stdin = False
    return client


async def _run_silently(client, code: str, timeout: float = 60) -> None:
    """Run ``code`` through ``client`` without output, history or execution count; raise if it fails."""
    reply = await client.execute_interactive(code, silent=True, store_history=False, allow_stdin=False,
                                             timeout=timeout, output_hook=lambda _msg: None)
    content = reply["content"]
    if content.get("status") != "ok":
        raise RuntimeError(f"resetting the kernel failed: {content.get('ename')}: {content.get('evalue')}")


def _reused_kernel_engine() -> str:
    """A papermill engine that executes in a running kernel through the session's client and leaves
    both running (see KernelSession).

    papermill's own engine does the same when given ``km``, but connects a new client for each
    notebook (and leaves its channels open).
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    class ReusedKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, kc=None,
                                     **kwargs):
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            client = PapermillNotebookClient(nb_man, **merge_kwargs(
                kwargs, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                log=logging.getLogger("papermill"), log_output=log_output, stdout_file=stdout_file,
                stderr_file=stderr_file))
            client.kc = kc  # nbclient connects a client of its own only when it has none
            try:
                return client.execute()
            finally:
                if kc is None and client.kc is not None:
                    client.kc.stop_channels()  # the one nbclient connected for this notebook alone

    papermill_engines.register(_REUSED_ENGINE, ReusedKernelEngine)
    return _REUSED_ENGINE


_REUSED_ENGINE = "analysis-reused-kernel"
