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
  says what happened, and `nb.metadata[STATUS_KEY]` records the status for the grade table.
- That record also names, per test cell, the catalogued mistakes its failing hidden check
  recognised (`"mistakes": {grade_id: [{"function", "name", "hint"}, ...]}`), for
  `python -m assignments check --hidden`.

This module is the step itself: the scratch folder, the order of the cells and what a fault does
to the run. The rest is in `jailed_kernel` (starting and driving the kernel, through nbclient's
public API), `strays` (processes a cell left running), `hidden_tests` (running the hidden tests
with the notebook's names served) and `grading_record` (what the run writes into the notebook).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from threadpoolctl import threadpool_limits
from traitlets import Bool, Integer

from assignments.instructor.nbgrader_plugins import RESTORE_NOTES
from assignments.jail import remote
from assignments.jail.grading_record import GradingRecord, cell_name, error_output
from assignments.jail.hidden_tests import KernelRefused, run_hidden_tests, split_hidden_tests
from assignments.jail.jailed_kernel import JailedKernel, JailedKernelManager, one_blas_thread_unless_set
from assignments.jail.sandbox import Limits
from assignments.notebooks import EXECUTION_TIMEOUT, has_code


class IsolatedExecute(Execute):
    """nbgrader's Execute with a jailed kernel, hidden tests run by the grader, and fault records.

    The settings of nbgrader's Execute (`c.Execute.timeout`, `interrupt_on_timeout`, ...) are those
    of the nbclient NotebookClient that runs each notebook's cells.
    """

    jail = Bool(True, help="Start the student's kernel in the sandbox (assignments.jail.sandbox).").tag(config=True)
    cpu_seconds = Integer(Limits.cpu_seconds, help="CPU seconds the student's kernel may use in all.").tag(config=True)
    memory_bytes = Integer(Limits.memory_bytes,
                           help="Address space of the student's kernel (RLIMIT_AS).").tag(config=True)
    processes = Integer(Limits.processes, help="Processes and threads of the student's kernel.").tag(config=True)
    connect_timeout = Integer(30, help="Seconds the kernel gets to connect and serve the hidden tests."
                              ).tag(config=True)
    stop_grace = Integer(10, help="Seconds an interrupted cell gets to stop before the kernel is killed."
                         ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict, km=None) -> tuple[NotebookNode, dict]:
        """Grade `nb` (see the module docstring); the hidden checks' BLAS runs in one thread unless the
        environment sets a count (one_blas_thread_unless_set).

        Inputs: nb, the notebook nbgrader autogrades; resources, nbgrader's (`resources["nbgrader"]`
        names the student, assignment and notebook); km, unused: the kernel is always a jailed one.
        Returns (nb with outputs and the grading record, resources with the scratch folder as path).
        """
        with threadpool_limits(1 if one_blas_thread_unless_set() else None, user_api="blas"):
            return self._grade(nb, resources)

    def _grade(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        grading = resources.get("nbgrader", {})
        submitted = _submitted_folder(self.config, grading)
        with tempfile.TemporaryDirectory(prefix="dlkit-grading-") as scratch_name:
            scratch = Path(scratch_name)
            record = GradingRecord()
            for note in nb.metadata.pop(RESTORE_NOTES, []):  # cells RestoreMissingCells could not place
                record.note("damaged notebook", note.split(" ", 1)[0], note)
            resources = {**resources, "metadata": {**resources.get("metadata", {}), "path": str(scratch)}}
            link = _linked_notebook(submitted, grading.get("notebook", ""))
            if link:  # nbgrader read it through the link: it is not the student's work
                record.set_fault("links", "notebook", f"{link} is a symbolic link (to {os.readlink(link)}); "
                                                      "links in a submission are not followed")
                self._run_cells(nb, None, scratch, record)
            else:
                _copy_submission_files(submitted, scratch)
                kernel = JailedKernel(self._client(nb, resources), scratch, grading.get("assignment", ""),
                                      self._limits())
                try:
                    self._run_cells(nb, kernel, scratch, record)
                finally:
                    kernel.shutdown()
            record.write(nb)
        return nb, resources

    def _client(self, nb: NotebookNode, resources: dict) -> NotebookClient:
        """An nbclient NotebookClient of `nb` with this step's settings and a JailedKernelManager."""
        settings = {name: getattr(self, name) for name in NotebookClient.class_trait_names(config=True)}
        settings["kernel_manager_class"] = JailedKernelManager
        return NotebookClient(nb, config=self.config, resources=resources, **settings)

    def _limits(self) -> Limits | None:
        """The jail's limits, from this step's settings; None when the kernel is not jailed."""
        if not self.jail:
            return None
        return Limits(cpu_seconds=self.cpu_seconds, memory_bytes=self.memory_bytes, processes=self.processes)

    def _run_cells(self, nb: NotebookNode, kernel: JailedKernel | None, scratch: Path,
                   record: GradingRecord) -> None:
        """Run every code cell of `nb` in order, each as far as a fault allows; `kernel` is None when
        a fault is recorded before any cell runs."""
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            name = cell_name(cell, index)
            if record.fault:
                cell.outputs = [error_output("NotRun", f"not run: {record.fault['detail']}")]
                record.not_run.append(name)
                continue
            timed_out = False  # raised here, without an interrupt (nbclient's own timeouts interrupt)
            try:
                self._run_cell(cell, index, kernel, scratch, record)
            except (CellTimeoutError, remote.CallTimeout):
                timed_out = True
            except KernelRefused as refusal:
                record.set_fault("tampering", name, f"{name}: {refusal}")
                cell.outputs = [error_output("GradingRefused", str(refusal))]
            except (DeadKernelError, remote.ChannelClosed):
                self._after_kernel_loss(cell, name, kernel, record)
            errors = {o.get("ename") for o in cell.outputs if o.output_type == "error"}
            if timed_out or "CellTimeoutError" in errors:
                self._after_timeout(cell, name, kernel, record, interrupted=not timed_out)
            if "MemoryError" in errors:
                record.note("memory", name, f"{name} ran out of memory")
            strays = 0 if record.fault else kernel.stop_strays()
            if strays:
                record.note("processes", name, f"{name} left {strays} processes running; they were stopped")

    def _run_cell(self, cell: NotebookNode, index: int, kernel: JailedKernel, scratch: Path,
                  record: GradingRecord) -> None:
        """Run one code cell: a test cell's hidden tests here first, then the rest of it in the kernel
        (not when the hidden tests failed); any other cell in the kernel."""
        grading = cell.metadata.get("nbgrader", {})
        hidden, visible = split_hidden_tests(cell.source) if grading.get("grade") else ("", cell.source)
        if not hidden.strip():
            kernel.execute(cell, index)
            return
        printed, outcome, mistakes = run_hidden_tests(
            kernel, hidden, scratch, seconds=self.timeout or EXECUTION_TIMEOUT,
            connect_timeout=self.connect_timeout, stop_grace=self.stop_grace)
        if outcome and outcome[0].output_type == "error":
            cell.outputs = printed + outcome
            record.name_mistakes(cell_name(cell, index), mistakes)
            return
        cell.outputs = []
        if has_code(visible):  # the cell's value is its last visible statement's, as in the kernel
            outcome = []
            original = cell.source
            cell.source = visible
            try:
                kernel.execute(cell, index)
            finally:
                cell.source = original
        cell.outputs = printed + list(cell.outputs) + outcome

    def _after_kernel_loss(self, cell: NotebookNode, name: str, kernel: JailedKernel,
                           record: GradingRecord) -> None:
        """The kernel died, or the channel to it broke while it lives on (then it is stopped)."""
        if kernel.still_alive(2.0):
            kernel.kill()
            record.set_fault("tampering", name, f"the notebook's code broke its connection to the grader in {name}")
        else:
            kind = kernel.exit_kind()
            what = {"cpu": "used up its CPU time", "memory": "was killed, most likely for memory",
                    "crash": "died"}[kind]
            record.set_fault(kind, name, f"the kernel {what} while running {name}")
        cell.outputs.append(error_output("KernelDied" if record.fault["kind"] != "tampering" else "GradingRefused",
                                         record.fault["detail"]))

    def _after_timeout(self, cell: NotebookNode, name: str, kernel: JailedKernel, record: GradingRecord,
                       interrupted: bool) -> None:
        """A cell ran over its time: interrupt it (once: not when nbclient has, `interrupted`) and
        wait until the kernel has handled that; a kernel that stays busy is killed (a fault).
        Processes the cell started are stopped first: a fork bomb's would starve the kernel."""
        if interrupted:
            kernel.interrupt_pending = True
        else:
            kernel.interrupt()
        strays = kernel.stop_strays()
        if strays:  # the processes are the cause, however loaded the machine: that is the status
            record.note("processes", name, f"{name} left {strays} processes running; they were stopped")
        message = f"{name} ran longer than {self.timeout} s and was stopped"
        if not any(o.output_type == "error" for o in cell.outputs):
            cell.outputs.append(error_output("CellTimeoutError", message))
        if kernel.responsive(self.stop_grace):
            record.note("timeout", name, message)
            return
        with contextlib.suppress(Exception):
            kernel.kill()
        record.set_fault("processes" if strays else "timeout", name,
                         f"{name} ran longer than {self.timeout} s and could not be interrupted")


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
