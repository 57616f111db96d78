"""The student's kernel while one notebook is graded: started in its jail, driven through nbclient.

`JailedKernel` starts the kernel with nbclient's public `NotebookClient` API (its kernel manager is
a `JailedKernelManager`, which wraps the kernel's command in `assignments.jail.sandbox.sandboxed`)
and keeps what grading needs to know about it: whether an interrupt the grader sent is still to
arrive, which processes are the jail's own, and how the kernel ended.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from pathlib import Path
from queue import Empty

import matplotlib
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.util import run_sync
from nbformat import NotebookNode

from assignments import paths
from assignments.instructor.submission import BLAS_THREAD_VARIABLES
from assignments.jail.sandbox import Limits, prepare_scratch
from assignments.jail.strays import jail_processes, stop_strays

KERNEL_ENV = ("PATH", "LANG", "LC_ALL", "DLKIT_DATA_DIR", "DLKIT_DATASET", *BLAS_THREAD_VARIABLES)
"""The only variables of the grader's environment a student's kernel sees (no tokens, no keys)."""


class JailedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel is started through `assignments.jail.sandbox.sandboxed`.

    The kernel talks over `ipc://` files in the scratch folder: the jail has no network.
    """

    def configure_jail(self, scratch: Path, readable: list[Path], limits: Limits | None) -> None:
        """Start the kernel in `scratch`, able to read `readable` besides Python, within `limits`
        (None: not jailed at all)."""
        self.scratch, self.readable, self.limits = scratch, readable, limits
        self.transport = "ipc"
        self.ip = str(scratch / "kernel")
        self.connection_file = str(scratch / "kernel.json")

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """The kernel's command line, in its jail unless unjailed; SandboxUnavailable says how to
        grade unjailed where jails cannot run."""
        command = super().format_kernel_cmd(extra_arguments)
        if self.limits is None:
            return command
        # In its own PID namespace the kernel's parent is the jail's init: its check that the
        # grader still runs would stop it at once. The jail dies with the grader instead.
        command.append("--IPKernelApp.parent_handle=0")
        from assignments.data import heldout_files
        from assignments.jail.sandbox import SandboxUnavailable, sandboxed

        prepare_scratch(self.scratch)  # the connection file, just written, must be the kernel's to read
        try:
            return sandboxed(command, self.scratch, readable=self.readable, hidden=heldout_files(),
                             limits=self.limits)
        except SandboxUnavailable as error:
            raise SandboxUnavailable(
                f"{error}\nThe student's kernel is not started without its jail. To grade unjailed "
                f"anyway (only for trusted notebooks), set c.IsolatedExecute.jail = False in "
                f"nbgrader_config.py.") from None


class JailedKernel:
    """A started student kernel and the nbclient `client` that runs cells in it.

    Inputs:
    - client: a NotebookClient of the notebook, whose kernel_manager_class is JailedKernelManager
      (and which has no kernel yet).
    - scratch: the kernel's working directory, its home and the only place it may write.
    - assignment: the assignment graded (the kernel may read the source notebooks before it).
    - limits: the jail's limits, or None to start the kernel unjailed.
    Starting records the notebook's `language_info` as nbclient does.
    """

    def __init__(self, client: NotebookClient, scratch: Path, assignment: str, limits: Limits | None):
        env = kernel_env(scratch)
        if limits is not None:
            prepare_scratch(scratch)
        self.client = client
        client.create_kernel_manager().configure_jail(scratch, readable_paths(assignment), limits)
        client.start_new_kernel(cwd=str(scratch), env=env)
        client.start_new_kernel_client()
        info = client.wait_for_reply(client.kc.kernel_info())
        client.nb.metadata["language_info"] = info["content"]["language_info"]
        self.own_processes = {p.pid for p in jail_processes(self._launcher())}
        self.interrupt_pending = False  # an interrupt was sent, and no request has ended in it yet

    @property
    def kc(self):
        """The kernel client (nbclient's `client.kc`)."""
        return self.client.kc

    def execute(self, cell: NotebookNode, index: int) -> None:
        """Run `cell` (the `index`-th of the notebook) in the kernel, as nbclient does; once more when
        it ended in a KeyboardInterrupt the grader had sent before it started (to stop an earlier
        cell, arriving late)."""
        pending = self.interrupt_pending
        self.client.execute_cell(cell, index, store_history=True)
        errors = {o.get("ename") for o in cell.outputs if o.output_type == "error"}
        if "KeyboardInterrupt" in errors and "CellTimeoutError" not in errors:
            self.interrupt_pending = False
            if pending:
                cell.outputs = []
                self.client.execute_cell(cell, index, store_history=True)

    def shell_reply(self, msg_id: str, seconds: float) -> dict | None:
        """The kernel's reply to request `msg_id` within `seconds`, or None. Replies to earlier
        requests read on the way are dropped; one that ended in KeyboardInterrupt means the
        interrupt the grader sent has arrived."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                reply = run_sync(self.kc.shell_channel.get_msg)(timeout=max(0.01, deadline - time.monotonic()))
            except Empty:
                return None
            if reply["content"].get("ename") == "KeyboardInterrupt":
                self.interrupt_pending = False
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply
            if time.monotonic() >= deadline:
                return None

    def responsive(self, seconds: float) -> bool:
        """Whether the kernel answers a kernel_info request within `seconds` (it is idle again:
        it answers only after every request sent before, an interrupted cell included)."""
        try:
            return self.shell_reply(self.kc.kernel_info(), seconds) is not None
        except Exception:
            return False

    def interrupt(self) -> None:
        """Interrupt the kernel; the interrupt is pending until a request ends in it."""
        with contextlib.suppress(Exception):
            run_sync(self.client.km.interrupt_kernel)()
        self.interrupt_pending = True

    def stop_strays(self) -> int:
        """Kill the processes the notebook started that outlived their cell; return how many.

        The jail's own processes (its launchers and the kernel) are those that ran when the kernel
        first answered; anything newer would compete with grading or tamper with it.
        """
        return stop_strays(self._launcher(), self.own_processes)

    def still_alive(self, seconds: float) -> bool:
        """Whether the kernel process is still running after waiting up to `seconds` for it to end."""
        process = self._launcher()
        deadline = time.monotonic() + seconds
        while process is not None and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        return process is not None and process.poll() is None

    def exit_kind(self) -> str:
        """How the kernel ended, from its exit status: 'cpu' (CPU-time limit), 'memory' or 'crash'."""
        process = self._launcher()
        code = process.poll() if process is not None else None
        signum = -code if code is not None and code < 0 else (code - 128 if code and code > 128 else None)
        if signum == signal.SIGXCPU:
            return "cpu"
        if signum == signal.SIGKILL:
            return "memory"
        return "crash"

    def kill(self) -> None:
        """Shut the kernel down at once (it would not stop, or broke its channel)."""
        run_sync(self.client.km.shutdown_kernel)(now=True)

    def shutdown(self) -> None:
        """Close the channels and shut the kernel down, whatever state it is in."""
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        with contextlib.suppress(Exception):
            self.kill()

    def _launcher(self):
        """The process the kernel manager started (the jail's launcher), a Popen, or None."""
        return getattr(getattr(self.client.km, "provisioner", None), "process", None)


def readable_paths(assignment: str) -> list[Path]:
    """What a jailed kernel may read besides Python: the support package, the course's settings
    (its data set), the data, and the source notebooks of the assignments before this one (later
    notebooks build on them)."""
    package = Path(paths.__file__).resolve().parent
    earlier = [p for p in sorted(paths.SOURCE_DIR.iterdir()) if p.is_dir() and p.name < assignment] \
        if paths.SOURCE_DIR.is_dir() and assignment else []
    return [package, paths.COURSE_SETTINGS, paths.FIXTURES_DIR, *[p for p in [paths.data_dir()] if p.is_dir()],
            *earlier]


def one_blas_thread_unless_set() -> bool:
    """True when the environment sets no BLAS thread count: grading then uses one BLAS thread in
    the kernel and in the grader, as the hub's student kernels do. OpenBLAS threads that wait for a
    core other work keeps busy spin; on a quiet machine a second thread gained nothing measurable
    in grading (benchmarks/bench_autograde.py and bench_grading.py)."""
    return not any(name in os.environ for name in BLAS_THREAD_VARIABLES)


def kernel_env(scratch: Path) -> dict[str, str]:
    """The environment of a kernel working in `scratch`: the KERNEL_ENV variables the grader has,
    one BLAS thread unless the environment sets a count, and its home, IPython and Matplotlib
    folders in `scratch` (with the grader's Matplotlib font list, so it is not rebuilt)."""
    env = {name: os.environ[name] for name in KERNEL_ENV if name in os.environ}
    if one_blas_thread_unless_set():
        env.update(dict.fromkeys(BLAS_THREAD_VARIABLES, "1"))
    env.update(HOME=str(scratch), TMPDIR="/tmp", IPYTHONDIR=str(scratch / ".ipython"),
               MPLCONFIGDIR=str(scratch / ".matplotlib"), NBGRADER_EXECUTION="autograde",
               PYTHONDONTWRITEBYTECODE="1")
    cache = Path(matplotlib.get_cachedir())
    (scratch / ".matplotlib").mkdir(exist_ok=True)
    for fontlist in cache.glob("fontlist-*.json"):
        shutil.copy(fontlist, scratch / ".matplotlib" / fontlist.name)
    return env
