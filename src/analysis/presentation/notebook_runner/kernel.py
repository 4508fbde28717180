"""Executing one notebook with papermill, with kernels that keep quiet on a successful run."""

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


def execute(source: Path, parameters: Mapping[str, object] | None, cwd: Path) -> nbformat.NotebookNode:
    """Run ``source`` top to bottom in a fresh kernel (working directory ``cwd``); raises on a failing cell."""
    import papermill

    # papermill warns about every parameters-cell line it cannot read back (e.g. a list with None);
    # the runner checks the parameters it passes itself, so these warnings only add noise.
    logging.getLogger("papermill").setLevel(logging.ERROR)

    return papermill.execute_notebook(
        str(source), None, parameters=dict(parameters or {}), kernel_name=KERNEL, cwd=str(cwd),
        progress_bar=False, log_output=False, request_save_on_cell_execute=False,
        kernel_manager_class=quiet_kernel_manager(),
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
