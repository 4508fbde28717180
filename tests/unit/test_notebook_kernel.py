"""The reused-kernel session of the notebook runner (analysis.presentation.notebook_runner.kernel).

A fake kernel manager and client stand in for a real kernel (the integration tests run real ones):
what is tested is the session's own bookkeeping, i.e. one kernel and one connected client for all its
notebooks, a new pair after a failure, both closed at the end. The reset code itself runs in a real
IPython shell in a subprocess (it freezes the garbage collector, which must not happen to pytest).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.presentation.notebook_runner import kernel


class FakeClient:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.allow_stdin = True
        self.open = False

    def start_channels(self) -> None:
        self.open = True
        self.log.append("connect")

    def stop_channels(self) -> None:
        self.open = False
        self.log.append("disconnect")

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        self.log.append("ready")

    async def execute_interactive(self, code: str, **_kwargs) -> dict:
        self.log.append("reset")
        return {"content": {"status": "ok"}}


class FakeManager:
    def __init__(self, log: list[str], clients: list[FakeClient], **_kwargs) -> None:
        self.log, self.clients = log, clients
        self.alive = False

    async def start_kernel(self, **_kwargs) -> None:
        self.alive = True
        self.log.append("start")

    async def is_alive(self) -> bool:
        return self.alive

    async def shutdown_kernel(self, now: bool = False) -> None:
        self.alive = False
        self.log.append("shutdown")

    def client(self) -> FakeClient:
        self.clients.append(FakeClient(self.log))
        return self.clients[-1]


@pytest.fixture()
def fake_kernel(monkeypatch):
    """Records kernel starts, client connections and what each execution was given."""
    log: list[str] = []
    clients: list[FakeClient] = []
    executed: list[tuple[str, object, object]] = []
    monkeypatch.setattr(kernel, "quiet_kernel_manager",
                        lambda: lambda **kw: FakeManager(log, clients, **kw))

    def fake_execute(source, parameters, cwd, km=None, kc=None):
        if "fails" in str(source):
            raise RuntimeError("synthetic cell failure")
        executed.append((str(source), km, kc))
        log.append(f"run {source}")
        return {"source": str(source)}

    monkeypatch.setattr(kernel, "execute", fake_execute)
    return log, clients, executed


def test_one_kernel_and_one_client_serve_every_notebook(fake_kernel, tmp_path):
    log, clients, executed = fake_kernel
    with kernel.KernelSession(tmp_path) as session:
        for name in ("a", "b", "c"):
            session.execute(Path(name), {})
        assert len(clients) == 1 and clients[0].open
        assert clients[0].allow_stdin is False  # as nbclient sets its own clients
    assert log == ["start", "connect", "ready", "reset", "run a", "reset", "run b", "reset", "run c",
                   "disconnect", "shutdown"]
    assert {kc for _, _, kc in executed} == {clients[0]}
    assert len({id(km) for _, km, _ in executed}) == 1


def test_a_failed_notebook_gets_the_next_one_a_new_kernel_and_client(fake_kernel, tmp_path):
    log, clients, executed = fake_kernel
    with kernel.KernelSession(tmp_path) as session:
        session.execute(Path("a"), {})
        with pytest.raises(RuntimeError, match="synthetic cell failure"):
            session.execute(Path("fails"), {})
        assert not clients[0].open and log[-2:] == ["disconnect", "shutdown"]
        session.execute(Path("b"), {})
    assert len(clients) == 2 and log.count("start") == 2
    assert executed[-1][2] is clients[1]


def test_fresh_kernels_use_no_session_client(fake_kernel, tmp_path):
    log, clients, executed = fake_kernel
    with kernel.KernelSession(tmp_path, fresh=True) as session:
        session.execute(Path("a"), {})
    assert clients == [] and executed == [("a", None, None)]


RESET_TWICE = f"""
import gc
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_cell({kernel._PREPARE!r})  # the first call records the fresh state
shell.run_cell("LEFT_BEHIND = [object()]")
result = shell.run_cell({kernel._PREPARE!r})
result.raise_error()
print("left behind:", "LEFT_BEHIND" in shell.user_ns)
print("frozen:", gc.get_freeze_count() > 0)
"""


def test_the_reset_clears_the_namespace_and_freezes_what_outlives_notebooks():
    done = subprocess.run([sys.executable, "-c", RESET_TWICE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "left behind: False" in done.stdout
    assert "frozen: True" in done.stdout


# ---------------------------------------------------------------- what a runner worker imports


def test_a_worker_leaves_out_the_packages_it_never_needs_but_keeps_those_already_imported():
    from analysis.presentation.notebook_runner import runner

    missing = object()
    before = {name: sys.modules.get(name, missing) for name in runner._UNUSED_IN_WORKERS}
    try:
        for name in runner._UNUSED_IN_WORKERS:
            sys.modules.pop(name, None)
        runner._leave_out_unused_imports()
        for name in runner._UNUSED_IN_WORKERS:
            with pytest.raises(ImportError):
                __import__(name)
        kept = type(sys)("already imported")
        for name in runner._UNUSED_IN_WORKERS:
            sys.modules[name] = kept
        runner._leave_out_unused_imports()
        assert all(sys.modules[name] is kept for name in runner._UNUSED_IN_WORKERS)
    finally:
        for name, module in before.items():
            if module is missing:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def test_notebooks_validate_and_write_without_the_left_out_packages():
    # In a fresh process as a worker has it: nbformat (through jsonschema) imports without them, validates
    # and writes a notebook with outputs as it does with them.
    code = (
        "import sys\n"
        "from analysis.presentation.notebook_runner import runner\n"
        "runner._leave_out_unused_imports()\n"
        "import nbformat\n"
        "from nbformat import v4\n"
        "nb = v4.new_notebook(cells=[v4.new_code_cell('1', outputs=[v4.new_output('display_data', "
        "{'image/svg+xml': '<svg/>'})])])\n"
        "nbformat.validate(nb)\n"
        "print(all(sys.modules.get(n) is None for n in runner._UNUSED_IN_WORKERS))\n"
        "sys.stdout.write(nbformat.writes(nb))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    flag, _, written = done.stdout.partition("\n")
    assert flag == "True"
    assert json.loads(written)["cells"][0]["outputs"][0]["data"]["image/svg+xml"] in ("<svg/>", ["<svg/>"])
