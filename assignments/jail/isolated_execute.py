"""nbgrader's Execute step, hardened: the notebook runs jailed, the hidden tests run in the grader.

`nbgrader_config.py` puts `IsolatedExecute` in place of nbgrader's `Execute`, so `nbgrader
autograde` (and formgrader's autograde button, and `python -m assignments autograde`) grade this way:

- The student's kernel starts in a scratch folder holding a copy of the regular files of the
  student's `submitted/` folder (never a link, never the notebook with the restored hidden tests),
  jailed by `assignments.jail.sandbox`: no network, no view of source/, grader_tests/, the gradebook or
  other submissions, and CPU, memory and process limits. Nothing it writes outlives the scratch
  folder. A notebook nbgrader read through a link is not run at all.
- Student cells, and the visible part of each test cell, run in that kernel as usual.
- The hidden part of a test cell runs here, in the grader's process, with the notebook's names
  (the student's functions and classes) reached through `assignments.jail.remote` proxies. Numpy,
  builtins and the checks it uses are the grader's own, whatever the notebook changed in its kernel.
- A cell over its time is interrupted once, and the next request waits until the kernel has
  handled that interrupt; a request that a late interrupt of the grader's still stopped is run again.
- A fault (a cell that will not stop, a kernel that dies, exhausted memory or CPU time) ends
  the run, but every cell graded before it keeps its result; the cells after it get an error that
  says what happened, and `nb.metadata["dlkit_grading"]` records the status for the grade table.
- That record also names, per test cell, the catalogued mistakes its failing hidden check
  recognised (`"mistakes": {grade_id: [{"function", "name", "hint"}, ...]}`), for
  `python -m assignments check --hidden`.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import os
import shutil
import signal
import socket
import stat
import tempfile
import time
from pathlib import Path
from queue import Empty
from typing import Any, NamedTuple

import matplotlib
import psutil
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from threadpoolctl import threadpool_limits
from traitlets import Bool, Integer

from assignments import paths
from assignments.instructor import markers
from assignments.jail import remote
from assignments.instructor.nbgrader_plugins import RESTORE_NOTES
from assignments.notebooks import EXECUTION_TIMEOUT, has_code
from assignments.jail.sandbox import Limits
from assignments.instructor.submission import BLAS_THREAD_VARIABLES, STATUS_KEY
from grader_tests.checking import GradingFailure

KERNEL_ENV = ("PATH", "LANG", "LC_ALL", "DLKIT_DATA_DIR", "DLKIT_DATASET", *BLAS_THREAD_VARIABLES)
"""The only variables of the grader's environment a student's kernel sees (no tokens, no keys)."""


def split_hidden_tests(source: str) -> tuple[str, str]:
    """(hidden test code, the rest of the cell) of a test cell's source.

    The hidden test code is the lines of the cell's hidden-test regions, without their markers;
    the rest is every other line. An unterminated region is no hidden test: it stays in the rest.
    """
    lines = markers.parse(source)
    hidden = [line.region == markers.HIDDEN and line.terminated for line in lines]
    return ("".join(line.text for line, inside in zip(lines, hidden) if inside and not line.marker),
            "".join(line.text for line, inside in zip(lines, hidden) if not inside))


class KernelRefused(BaseException):
    """The student's kernel did not connect to serve the hidden tests (its code execution was tampered with)."""


class _GraderInterrupt(KernelRefused):
    """The kernel's serving of the hidden tests ended in KeyboardInterrupt while an interrupt the
    grader sent earlier was still to arrive: the grader's own doing, so the request is tried again."""


class JailedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel is started through `assignments.jail.sandbox.sandboxed`.

    The kernel talks over `ipc://` files in the scratch folder: the jail has no network.
    """

    def configure_jail(self, scratch: Path, readable: list[Path], limits: Any, jailed: bool) -> None:
        self.scratch, self.readable, self.limits, self.jailed = scratch, readable, limits, jailed
        self.transport = "ipc"
        self.ip = str(scratch / "kernel")
        self.connection_file = str(scratch / "kernel.json")

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command = super().format_kernel_cmd(extra_arguments)
        if not self.jailed:
            return command
        # In its own PID namespace the kernel's parent is the jail's init: its check that the
        # grader still runs would stop it at once. The jail dies with the grader instead.
        command.append("--IPKernelApp.parent_handle=0")
        from assignments.data import heldout_files
        from assignments.jail.sandbox import SandboxUnavailable, prepare_scratch, sandboxed

        prepare_scratch(self.scratch)  # the connection file, just written, must be the kernel's to read
        try:
            return sandboxed(command, self.scratch, readable=self.readable, hidden=heldout_files(),
                             limits=self.limits)
        except SandboxUnavailable as error:
            raise SandboxUnavailable(
                f"{error}\nThe student's kernel is not started without its jail. To grade unjailed "
                f"anyway (only for trusted notebooks), set c.IsolatedExecute.jail = False in "
                f"nbgrader_config.py.") from None


class IsolatedExecute(Execute):
    """nbgrader's Execute with a jailed kernel, hidden tests run by the grader, and fault records."""

    jail = Bool(True, help="Start the student's kernel in the sandbox (assignments.jail.sandbox).").tag(config=True)
    cpu_seconds = Integer(Limits.cpu_seconds, help="CPU seconds the student's kernel may use in all.").tag(config=True)
    memory_bytes = Integer(Limits.memory_bytes,
                           help="Address space of the student's kernel (RLIMIT_AS).").tag(config=True)
    processes = Integer(Limits.processes, help="Processes and threads of the student's kernel.").tag(config=True)
    connect_timeout = Integer(30, help="Seconds the kernel gets to connect and serve the hidden tests."
                              ).tag(config=True)
    stop_grace = Integer(10, help="Seconds an interrupted cell gets to stop before the kernel is killed."
                         ).tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", JailedKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb: NotebookNode, resources: dict, km=None) -> tuple[NotebookNode, dict]:
        """Grade `nb` (see the module docstring); the hidden checks' BLAS runs in one thread unless the
        environment sets a count (one_blas_thread_unless_set)."""
        with threadpool_limits(1 if one_blas_thread_unless_set() else None, user_api="blas"):
            return self._preprocess(nb, resources, km)

    def _preprocess(self, nb: NotebookNode, resources: dict, km=None) -> tuple[NotebookNode, dict]:
        grading = resources.get("nbgrader", {})
        assignment = grading.get("assignment", "")
        submitted = _submitted_folder(self.config, grading)
        with tempfile.TemporaryDirectory(prefix="dlkit-grading-") as scratch_name:
            scratch = Path(scratch_name)
            run = _Run(scratch)
            for note in nb.metadata.pop(RESTORE_NOTES, []):  # cells RestoreMissingCells could not place
                run.note("damaged notebook", note.split(" ", 1)[0], note)
            resources = {**resources, "metadata": {**resources.get("metadata", {}), "path": str(scratch)}}
            NotebookClient.__init__(self, nb, km)  # as nbconvert's ExecutePreprocessor.preprocess does
            self.reset_execution_trackers()
            self._check_assign_resources(resources)
            link = _linked_notebook(submitted, grading.get("notebook", ""))
            if link:  # nbgrader read it through the link: it is not the student's work
                run.set_fault("links", "notebook", f"{link} is a symbolic link (to {os.readlink(link)}); "
                                                   "links in a submission are not followed")
                self._run_cells(run)
            else:
                _copy_submission_files(submitted, scratch)
                self._start_jailed_kernel(scratch, assignment)
                try:
                    self._run_cells(run)
                finally:
                    self._shutdown()
            nb.metadata[STATUS_KEY] = run.record()
        return nb, self.resources

    # -- kernel ---------------------------------------------------------------------------------
    def _start_jailed_kernel(self, scratch: Path, assignment: str) -> None:
        env = _kernel_env(scratch)
        limits = None
        if self.jail:
            from assignments.jail.sandbox import prepare_scratch

            limits = Limits(cpu_seconds=self.cpu_seconds, memory_bytes=self.memory_bytes,
                            processes=self.processes)
            prepare_scratch(scratch)
        self.km = self.create_kernel_manager()
        self.km.configure_jail(scratch, _readable_paths(assignment), limits, self.jail)
        run_sync(self.async_start_new_kernel)(cwd=str(scratch), env=env)
        run_sync(self.async_start_new_kernel_client)()
        info = self.wait_for_reply(self.kc.kernel_info())
        self.nb.metadata["language_info"] = info["content"]["language_info"]
        self._own_processes = {p.pid for p in self._jail_processes()}
        self._interrupt_pending = False  # an interrupt was sent, and no request has ended in it yet

    def _shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        with contextlib.suppress(Exception):
            run_sync(self.km.shutdown_kernel)(now=True)

    def _kernel_process(self):
        """The process the kernel manager started (the jail's launcher), a Popen, or None."""
        return getattr(getattr(self.km, "provisioner", None), "process", None)

    def _kernel_exit(self) -> str:
        """How the kernel ended, from its exit status: 'cpu' (CPU-time limit), 'memory' or 'crash'."""
        process = self._kernel_process()
        code = process.poll() if process is not None else None
        signum = -code if code is not None and code < 0 else (code - 128 if code and code > 128 else None)
        if signum == signal.SIGXCPU:
            return "cpu"
        if signum == signal.SIGKILL:
            return "memory"
        return "crash"

    def _jail_processes(self) -> list[psutil.Process]:
        """Every process under the one the kernel manager started (launchers, kernel, strays)."""
        process = self._kernel_process()
        if process is None or process.poll() is not None:
            return []
        try:
            return psutil.Process(process.pid).children(recursive=True)
        except psutil.Error:
            return []

    def _stop_stray_processes(self) -> int:
        """Kill the processes the notebook started that outlived their cell; return how many.

        The jail's own processes (its launchers and the kernel) are those that ran when the kernel
        first answered; anything newer (a fork bomb's copies of the kernel, a background job)
        would compete with grading or tamper with it.
        """
        strays = [p for p in self._jail_processes() if p.pid not in self._own_processes and _running(p)]
        for stray in strays:
            with contextlib.suppress(psutil.Error):
                stray.kill()
        return len(strays)

    def _responsive(self, seconds: float) -> bool:
        """Whether the kernel answers a kernel_info request within `seconds` (it is idle again:
        it answers only after every request sent before, an interrupted cell included)."""
        try:
            return self._shell_reply(self.kc.kernel_info(), seconds) is not None
        except Exception:
            return False

    def _shell_reply(self, msg_id: str, seconds: float) -> dict | None:
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
                self._interrupt_pending = False
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply
            if time.monotonic() >= deadline:
                return None

    def _interrupt(self) -> None:
        with contextlib.suppress(Exception):
            run_sync(self.km.interrupt_kernel)()
        self._interrupt_pending = True

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None) -> dict | None:
        """nbclient's reaction to a cell over its time; with interrupt_on_timeout it interrupts the kernel."""
        reply = await super()._async_handle_timeout(timeout, cell)
        self._interrupt_pending = self._interrupt_pending or self.interrupt_on_timeout
        return reply

    # -- cells ----------------------------------------------------------------------------------
    def _run_cells(self, run: "_Run") -> None:
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code":
                continue
            if run.fault:
                cell.outputs = [_error("NotRun", f"not run: {run.fault['detail']}")]
                run.not_run.append(_cell_name(cell, index))
                continue
            name = _cell_name(cell, index)
            timed_out = False  # raised here, without an interrupt (nbclient's own timeouts interrupt)
            try:
                self._run_cell(cell, index, run)
            except (CellTimeoutError, remote.CallTimeout):
                timed_out = True
            except KernelRefused as refusal:
                run.set_fault("tampering", name, f"{name}: {refusal}")
                cell.outputs = [_error("GradingRefused", str(refusal))]
            except (DeadKernelError, remote.ChannelClosed):
                self._after_kernel_loss(cell, name, run)
            errors = {o.get("ename") for o in cell.outputs if o.output_type == "error"}
            if timed_out or "CellTimeoutError" in errors:
                self._after_timeout(cell, name, run, interrupted=not timed_out)
            if "MemoryError" in errors:
                run.note("memory", name, f"{name} ran out of memory")
            strays = 0 if run.fault else self._stop_stray_processes()
            if strays:
                run.note("processes", name, f"{name} left {strays} processes running; they were stopped")

    def _after_kernel_loss(self, cell: NotebookNode, name: str, run: "_Run") -> None:
        """The kernel died, or the channel to it broke while it lives on (then it is stopped)."""
        if self._still_alive(2.0):
            run_sync(self.km.shutdown_kernel)(now=True)
            run.set_fault("tampering", name, f"the notebook's code broke its connection to the grader in {name}")
        else:
            kind = self._kernel_exit()
            what = {"cpu": "used up its CPU time", "memory": "was killed, most likely for memory",
                    "crash": "died"}[kind]
            run.set_fault(kind, name, f"the kernel {what} while running {name}")
        cell.outputs.append(_error("KernelDied" if run.fault["kind"] != "tampering" else "GradingRefused",
                                   run.fault["detail"]))

    def _still_alive(self, seconds: float) -> bool:
        """Whether the kernel process is still running after waiting up to `seconds` for it to end."""
        process = self._kernel_process()
        deadline = time.monotonic() + seconds
        while process is not None and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        return process is not None and process.poll() is None

    def _run_cell(self, cell: NotebookNode, index: int, run: "_Run") -> None:
        grading = cell.metadata.get("nbgrader", {})
        hidden, visible = split_hidden_tests(cell.source) if grading.get("grade") else ("", cell.source)
        if not hidden.strip():
            self._execute(cell, index)
            return
        printed, outcome, mistakes = self._run_hidden_tests(hidden, run)
        if outcome and outcome[0].output_type == "error":
            cell.outputs = printed + outcome
            run.name_mistakes(_cell_name(cell, index), mistakes)
            return
        cell.outputs = []
        if has_code(visible):  # the cell's value is its last visible statement's, as in the kernel
            outcome = []
            original = cell.source
            cell.source = visible
            try:
                self._execute(cell, index)
            finally:
                cell.source = original
        cell.outputs = printed + list(cell.outputs) + outcome

    def _execute(self, cell: NotebookNode, index: int) -> None:
        """Run a cell in the kernel; once more when it ended in a KeyboardInterrupt the grader had
        sent before it started (to stop an earlier cell, arriving late)."""
        pending = self._interrupt_pending
        self.execute_cell(cell, index, store_history=True)
        errors = {o.get("ename") for o in cell.outputs if o.output_type == "error"}
        if "KeyboardInterrupt" in errors and "CellTimeoutError" not in errors:
            self._interrupt_pending = False
            if pending:
                cell.outputs = []
                self.execute_cell(cell, index, store_history=True)

    def _run_hidden_tests(self, code: str, run: "_Run") -> "HiddenTests":
        """Run hidden test code here, with the notebook's names served by the student's kernel;
        once more when the serving ended in the grader's own late interrupt."""
        try:
            return self._serve_hidden_tests(code, run)
        except _GraderInterrupt:
            return self._serve_hidden_tests(code, run)

    def _serve_hidden_tests(self, code: str, run: "_Run") -> "HiddenTests":
        """One attempt of `_run_hidden_tests`; raises _GraderInterrupt when the kernel's serving
        ended in an interrupt the grader had sent before."""
        pending = self._interrupt_pending
        path = run.scratch / "grader.sock"
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        os.chmod(path, 0o666)
        listener.listen(1)
        listener.settimeout(0.1)
        msg_id = self.kc.execute(f"__import__('assignments.jail.remote').jail.remote.serve({str(path)!r})",
                                 silent=True, store_history=False)
        stdout, connection = io.StringIO(), None
        try:
            deadline = time.monotonic() + self.connect_timeout
            while connection is None:
                with contextlib.suppress(socket.timeout):
                    connection, _ = listener.accept()
                if connection is None:
                    reply = self._shell_reply(msg_id, 0.1)
                    if reply is not None or time.monotonic() > deadline:
                        self._raise_refusal(reply, pending)
            endpoint = remote.Endpoint(connection, trusting=False)
            endpoint.deadline = time.monotonic() + (self.timeout or EXECUTION_TIMEOUT)
            try:
                with contextlib.redirect_stdout(stdout), contextlib.chdir(run.scratch):
                    outcome, mistakes = _execute_hidden(code, _NotebookNames(endpoint))
            except remote.ChannelClosed:
                if not _interrupted(self._shell_reply(msg_id, self.stop_grace)):
                    raise
                if pending:
                    self._interrupt_pending = False
                    raise _GraderInterrupt("the grader's own interrupt stopped the hidden tests") from None
                outcome = [_error("KeyboardInterrupt", "the notebook's code raised KeyboardInterrupt while "
                                                       "the hidden tests ran")]
                return HiddenTests(_printed(stdout), outcome)
            endpoint.close()
            if self._shell_reply(msg_id, self.stop_grace + 5) is None:
                raise CellTimeoutError("the student's kernel did not finish serving the hidden tests")
        finally:
            listener.close()
            if connection is not None:
                connection.close()
        return HiddenTests(_printed(stdout), outcome, mistakes)

    def _raise_refusal(self, reply: dict | None, pending: bool) -> None:
        """The kernel ended its request to serve the hidden tests (`reply`), or never connected."""
        if pending and _interrupted(reply):
            self._interrupt_pending = False
            raise _GraderInterrupt("the grader's own interrupt stopped the request to serve the hidden tests")
        raise KernelRefused("the notebook's kernel did not run the grader's request to serve the hidden tests: "
                            "something in the notebook changed how its kernel runs code")

    def _after_timeout(self, cell: NotebookNode, name: str, run: "_Run", interrupted: bool) -> None:
        """A cell ran over its time: interrupt it (once: not when nbclient has, `interrupted`) and
        wait until the kernel has handled that; a kernel that stays busy is killed (a fault).
        Processes the cell started are stopped first: a fork bomb's would starve the kernel."""
        if interrupted:
            self._interrupt_pending = True
        else:
            self._interrupt()
        strays = self._stop_stray_processes()
        if strays:  # the processes are the cause, however loaded the machine: that is the status
            run.note("processes", name, f"{name} left {strays} processes running; they were stopped")
        message = f"{name} ran longer than {self.timeout} s and was stopped"
        if not any(o.output_type == "error" for o in cell.outputs):
            cell.outputs.append(_error("CellTimeoutError", message))
        if self._responsive(self.stop_grace):
            run.note("timeout", name, message)
            return
        with contextlib.suppress(Exception):
            run_sync(self.km.shutdown_kernel)(now=True)
        run.set_fault("processes" if strays else "timeout", name,
                      f"{name} ran longer than {self.timeout} s and could not be interrupted")


class HiddenTests(NamedTuple):
    """What a test cell's hidden tests did.

    - printed: the outputs showing what they printed (none when they printed nothing).
    - outcome: [] when they passed, [an error output] when they failed, or [the value of their
      last expression] when that is not None (nbgrader reads a number there as partial credit).
    - mistakes: the catalogued mistakes (`grader_tests.checking.Mutant`) their GradingFailure named.
    """

    printed: list
    outcome: list
    mistakes: tuple = ()


def _printed(stdout: io.StringIO) -> list:
    """The outputs showing what the hidden tests printed (none when they printed nothing)."""
    return [NotebookNode(output_type="stream", name="stdout", text=stdout.getvalue())] if stdout.getvalue() else []


def _interrupted(reply: dict | None) -> bool:
    """Whether a kernel's reply says its request ended in KeyboardInterrupt."""
    return reply is not None and reply["content"].get("ename") == "KeyboardInterrupt"


def _execute_hidden(code: str, names: "_NotebookNames") -> tuple[list, tuple]:
    """exec the hidden tests.

    Returns (outcome, mistakes): the outcome is [] when they pass, [error output] when they fail,
    [execute_result] with the last expression's value when it is not None; the mistakes are those
    a GradingFailure names (else none).
    """
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    scope = {"__builtins__": builtins, "__name__": "__hidden_tests__"}
    try:
        exec(compile(tree, "<hidden tests>", "exec"), scope, names)
        value = eval(compile(ast.Expression(last.value), "<hidden tests>", "eval"), scope, names) if last else None
    except (remote.ChannelClosed, remote.CallTimeout):
        raise
    except BaseException as error:  # any failure of the hidden tests fails the cell
        return [_error(type(error).__name__, str(error))], error.mistakes if isinstance(error, GradingFailure) else ()
    if value is None:
        return [], ()
    return [NotebookNode(output_type="execute_result", execution_count=None, metadata={},
                         data={"text/plain": repr(value)})], ()


class _NotebookNames(dict):
    """The hidden tests' local names: their own imports first, then the notebook's (remote) names.

    Builtins always resolve to the grader's own, whatever the notebook rebound them to.
    """

    def __init__(self, endpoint: remote.Endpoint):
        super().__init__()
        self.endpoint = endpoint

    def __missing__(self, name: str) -> Any:
        if hasattr(builtins, name):
            raise KeyError(name)
        value = self.endpoint.lookup(name)
        self[name] = value
        return value


class _Run:
    """What happened while one notebook ran: notes (the run went on) and at most one fatal fault."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.notes: list[dict] = []
        self.fault: dict | None = None
        self.not_run: list[str] = []
        self.mistakes: dict[str, list[dict]] = {}

    def name_mistakes(self, cell: str, mistakes: tuple) -> None:
        """Record the catalogued mistakes (Mutants) a failing check of `cell` named, if any."""
        if mistakes:
            self.mistakes[cell] = [{"function": m.function, "name": m.name, "hint": m.hint} for m in mistakes]

    def note(self, kind: str, cell: str, detail: str) -> None:
        if not any(n["cell"] == cell and n["kind"] == kind for n in self.notes):
            self.notes.append({"cell": cell, "kind": kind, "detail": detail})

    def set_fault(self, kind: str, cell: str, detail: str) -> None:
        self.fault = {"cell": cell, "kind": kind, "detail": detail}

    def record(self) -> dict:
        faults = self.notes + ([self.fault] if self.fault else [])
        if not faults:
            return {"status": "ok", "detail": "", "faults": [], "not_run": [], "mistakes": self.mistakes}
        main = self.fault or faults[0]
        detail = main["detail"] + (f"; {len(self.not_run)} cells not run" if self.not_run else "")
        return {"status": main["kind"], "detail": detail, "faults": faults, "not_run": self.not_run,
                "mistakes": self.mistakes}


def _running(process: psutil.Process) -> bool:
    """Alive and not a zombie (a killed child its parent has not reaped)."""
    with contextlib.suppress(psutil.Error):
        return process.status() != psutil.STATUS_ZOMBIE
    return False


def _cell_name(cell: NotebookNode, index: int) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"


def _error(name: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=name, evalue=message, traceback=[f"{name}: {message}"])


def _submitted_folder(config: Any, grading: dict) -> Path | None:
    """`submitted/<student>/<assignment>/` of the notebook nbgrader grades (None outside autograde)."""
    if not grading.get("student") or not grading.get("assignment"):
        return None
    course = CourseDirectory(config=config)
    return Path(course.format_path(course.submitted_directory, grading["student"], grading["assignment"]))


def _linked_notebook(submitted: Path | None, notebook: str) -> Path | None:
    """The symbolic link nbgrader followed to read the submitted notebook `notebook`.ipynb, if any:
    the notebook itself, or a folder on its way from the course's submitted/ folder."""
    if submitted is None:
        return None
    path = submitted / f"{notebook}.ipynb"
    return next((p for p in [path, submitted, submitted.parent] if p.is_symlink()), None)


def _copy_submission_files(submitted: Path | None, scratch: Path) -> None:
    """The submission's own files (a saved model, say) from `submitted/`, but no notebook (the
    autograded notebooks hold the restored hidden tests), and only regular files in real folders:
    a link or a copy nbgrader made of one could bring anything of the machine into the jail."""
    if submitted is None or submitted.is_symlink() or not submitted.is_dir():
        return
    for folder, dirs, files in os.walk(submitted):
        target = scratch / Path(folder).relative_to(submitted)
        dirs[:] = [d for d in dirs if not d.startswith(".") and stat.S_ISDIR(os.lstat(Path(folder, d)).st_mode)]
        for name in files:
            path = Path(folder, name)
            if name.startswith(".") or path.suffix == ".ipynb" or not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / name, follow_symlinks=False)


def _readable_paths(assignment: str) -> list[Path]:
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


def _kernel_env(scratch: Path) -> dict[str, str]:
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
