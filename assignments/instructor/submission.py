"""Autograding one submission: the task a grading worker runs, on this machine or another one.

`grade_submission` runs `nbgrader autograde ASSIGNMENT --student=ID --force` in its own process
under a wall-time limit, retries when the shared gradebook is locked, finds a renamed notebook
first, and records what happened in `<course>/grading_status/<assignment>/<student>.json` (outside
`autograded/`, which nbgrader deletes when a submission fails). It is a plain top-level function of
picklable arguments, so a process pool or a Dask cluster can ship it to any machine that sees the
course directory at the same path (which, with the kit version and data, it checks first, see
assignments.instructor.grading_environment). One submission is graded by one process at a time
(assignments.instructor.course_locks), and everything nbgrader starts ends with it (assignments.jail.reaper).
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from assignments.instructor.course_locks import course_lock
from assignments.instructor.grading_environment import GradingEnvironment, check_worker
from assignments.jail.reaper import guarded, kill_descendants

STATUS_DIR = "grading_status"
DEFAULT_TIME_LIMIT = 3 * 3600
# Statuses of a submission that could not be graded (the others are the student's code's doing).
NOT_GRADED = frozenset({"nbgrader failed", "time limit", "database locked", "database unavailable", "error"})
DB_URL_VARIABLE = "DLKIT_GRADEBOOK_URL"
"""The environment variable that hands nbgrader the gradebook URL (read by nbgrader_config.py): on
the command line, its password would show in every process listing."""
DB_UNAVAILABLE = ("could not connect to server", "connection refused", "server closed the connection",
                  "terminating connection", "the database system is", "connection already closed",
                  "ssl syscall error", "could not receive data from server", "no connection to the server")
"""Phrases of PostgreSQL drivers' errors (lower case) when the server is down or the connection was lost."""


@dataclass(frozen=True)
class SubmissionOutcome:
    """What grading one submission came to.

    `status` is "ok" or one word or phrase for the first problem: a hardened-executor status of the
    notebook ("timeout", "crash", "memory", ...), "missing notebook", or a grading failure of
    NOT_GRADED. `detail` is one line saying what happened (also for "ok": a renamed notebook).
    `attempts` counts nbgrader runs (0: nothing to grade), `seconds` the wall time of all.
    `copies` maps each notebook this kit copied into the submission to the student's file it was
    copied from, with the copy's sha256, so a later run knows the copy is its own.
    `removed` maps each symbolic link (or other non-regular file) taken out of the submission
    before grading, by its path in `submitted/<student>/`, to what it was (the link's target).
    """

    student: str
    assignment: str
    status: str = "ok"
    detail: str = ""
    attempts: int = 1
    seconds: float = 0.0
    copies: dict[str, dict[str, str]] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)

    @property
    def graded(self) -> bool:
        """True when nbgrader graded the submission (whatever the student's code did)."""
        return self.status not in NOT_GRADED

    @property
    def summary(self) -> str:
        return status_summary(self.status, self.detail)


def status_summary(status: str, detail: str) -> str:
    """`status` or `status: detail`, for a table cell or a message."""
    return f"{status}: {detail}" if detail else status


@dataclass(frozen=True)
class NbgraderRun:
    """One nbgrader process: its exit code, its log (stdout and stderr) and whether it was killed."""

    returncode: int
    log: str
    timed_out: bool = False

    @property
    def failed(self) -> bool:
        """Killed, a non-zero exit, or an error nbgrader reported. Errors its executor logs
        about a student's cell (a timeout, a dead kernel) are faults it records, not failures."""
        return self.timed_out or self.returncode != 0 or any(
            marker in self.log for marker in ("There was an error processing", "[ERROR]", "| ERROR] No "))

    @property
    def locked(self) -> bool:
        return "database is locked" in self.log

    @property
    def database_unavailable(self) -> bool:
        """The gradebook's server was down or dropped the connection (worth trying again)."""
        log = self.log.lower()
        return ("operationalerror" in log or "interfaceerror" in log) and any(p in log for p in DB_UNAVAILABLE)


BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
STATUS_KEY = "dlkit_grading"  # the notebook metadata key of IsolatedExecute's grading record


def run_nbgrader(root: str | Path, args: list[str], threads: int | None = None,
                 time_limit: float | None = None, db_url: str | None = None,
                 pass_fds: tuple[int, ...] = ()) -> NbgraderRun:
    """Run `nbgrader ARGS` in the course `root` and wait for it.

    Inputs:
    - threads: BLAS/OpenMP threads of the process and its kernels (inherited when None).
    - time_limit: seconds after which the process and every process it started (kernels start
      their own sessions) are killed.
    - db_url: the gradebook, handed over in the environment (DB_URL_VARIABLE), never in argv; the
      course's nbgrader_config.py must read it from there.
    - pass_fds: descriptors the run keeps open until it has ended (a course lock).
    nbgrader runs under assignments.jail.reaper: whatever it starts ends with it, and with us.
    Returns the run; never raises for nbgrader's own failures.
    """
    env = dict(os.environ)
    # nbgrader runs `alembic` and kernels by name: they live beside this interpreter.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop(DB_URL_VARIABLE, None)
    if db_url:
        _check_config_reads_db_url(Path(root))
        env[DB_URL_VARIABLE] = db_url
    if threads:
        env.update({name: str(threads) for name in BLAS_THREAD_VARIABLES})
    process = subprocess.Popen(guarded([sys.executable, "-m", "nbgrader", *args]), cwd=root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, pass_fds=pass_fds)
    try:
        log, _ = process.communicate(timeout=time_limit)
        return NbgraderRun(process.returncode, log)
    except subprocess.TimeoutExpired:
        process.terminate()  # the reaper kills everything below it and removes the scratch folders
        try:
            log, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            _kill_tree(process.pid)
            log, _ = process.communicate()
        return NbgraderRun(process.returncode, log, timed_out=True)


def _check_config_reads_db_url(root: Path) -> None:
    """Refuse a course whose nbgrader_config.py would ignore the gradebook URL (and grade into SQLite)."""
    config = root / "nbgrader_config.py"
    if DB_URL_VARIABLE not in (config.read_text(encoding="utf-8") if config.is_file() else ""):
        raise ValueError(f"{config} does not read the gradebook URL from ${DB_URL_VARIABLE}: copy the kit's "
                         "nbgrader_config.py lines that do")


def _kill_tree(pid: int) -> None:
    """Kill a process and all its descendants."""
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    kill_descendants(parent)
    try:
        parent.kill()
        parent.wait(10)
    except psutil.NoSuchProcess:
        pass


def grade_submission(course_root: str | Path, assignment: str, student: str, db_url: str | None = None,
                     time_limit: float = DEFAULT_TIME_LIMIT, threads: int | None = None,
                     attempts: int = 8, backoff: float = 2.0, token: str | None = None,
                     environment: GradingEnvironment | None = None) -> SubmissionOutcome:
    """Autograde `submitted/<student>/<assignment>/` (the gradebook must know the assignment).

    Inputs:
    - course_root: the course directory, at the same path on every machine that grades.
    - db_url: the gradebook (nbgrader's `CourseDirectory.db_url`); default SQLite in the course.
    - time_limit: wall-time seconds for the whole submission, all attempts together.
    - threads: BLAS/OpenMP threads for the grading kernel; None: the environment's setting, or
      one thread when it sets none (assignments.jail.jailed_kernel.one_blas_thread_unless_set).
    - attempts, backoff: while the gradebook is locked or its server unreachable, try up to
      `attempts` times, waiting `backoff`, 2 `backoff`, 4 `backoff`, ... (at most MAX_WAIT) seconds,
      with jitter, in between.
    - token, environment: what the head wrote into the course and the environment it grades with
      (assignments.instructor.grading_environment); None: not checked.
    Returns the outcome, also written to `<course>/grading_status/<assignment>/<student>.json`.
    Raises WorkerMismatch, before touching anything, when this machine does not see the head's
    course, data or kit version.
    """
    check_worker(course_root, token, environment)
    root = Path(course_root)
    with course_lock(root, f"{assignment}/{student}") as lock:  # a second grader waits here
        start = time.monotonic()
        previous = read_outcome(root, assignment, student)
        removed = {**(previous.removed if previous else {}), **remove_links(root, assignment, student)}
        notebooks = _notebook_names(root, assignment)
        copies, notes, missing = resolve_notebooks(root, assignment, student, previous.copies if previous else {})
        status, problem, attempt = "ok", "", 0
        if len(missing) < len(notebooks):  # nbgrader grades a missing notebook 0, but needs one
            run, attempt = _autograde(root, assignment, student, db_url, threads, start + time_limit, attempts,
                                      backoff, lock)
            status, problem = _run_status(run, attempt, time_limit)
        if status in ("ok", "nbgrader failed") and missing:
            status, problem = "missing notebook", "; ".join(missing)
        if status == "ok":
            status, problem = executor_status(root / "autograded" / student / assignment, notebooks)
        if removed and status in ("ok", "missing notebook"):
            status = "links removed"
        links = ["links and special files removed from the submission, neither followed nor graded: "
                 + ", ".join(f"{path} -> {target}" for path, target in sorted(removed.items()))] if removed else []
        outcome = SubmissionOutcome(student, assignment, status, "; ".join(p for p in [*links, problem, *notes] if p),
                                    attempt, round(time.monotonic() - start, 1), copies, removed)
        write_outcome(root, outcome)
    return outcome


MAX_WAIT = 30.0
"""Longest wait, in seconds, between two attempts at a locked or unreachable gradebook."""


def _autograde(root: Path, assignment: str, student: str, db_url: str | None, threads: int | None,
               deadline: float, attempts: int, backoff: float, lock: int) -> tuple[NbgraderRun, int]:
    """`nbgrader autograde` of one submission until `deadline` (time.monotonic), tried again with
    exponential backoff while the gradebook is locked or its server unreachable. The run keeps the
    course `lock` (a descriptor) held until it has ended. Returns the last run and its number."""
    args = ["autograde", assignment, "--force", f"--student={glob.escape(student)}"]
    for attempt in range(1, attempts + 1):
        run = run_nbgrader(root, args, threads, max(1.0, deadline - time.monotonic()), db_url, (lock,))
        transient = run.failed and (run.locked or run.database_unavailable) and not run.timed_out
        if not transient or attempt == attempts:
            break
        _wait(min(MAX_WAIT, backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5))
    return run, attempt


def _wait(seconds: float) -> None:
    """Sleep between attempts (its own function, so a test can act while grading waits)."""
    time.sleep(seconds)


def _run_status(run: NbgraderRun, attempt: int, time_limit: float) -> tuple[str, str]:
    """The status and detail of an nbgrader run ("ok", "" when it graded the submission)."""
    if run.timed_out:
        return "time limit", f"grading ran over the {time_limit:g} s wall-time limit and was killed"
    if run.failed and run.locked:
        return "database locked", f"the gradebook was locked in all {attempt} attempts"
    if run.failed and run.database_unavailable:
        return "database unavailable", f"the gradebook's server was unreachable in all {attempt} attempts: " \
                                       + failure_reason(run.log)
    if run.failed:
        return "nbgrader failed", failure_reason(run.log)
    return "ok", ""


def failure_reason(log: str) -> str:
    """The one line of an nbgrader log that says why it failed: the last exception raised."""
    tracebacks = log.split("Traceback (most recent call last):")
    if len(tracebacks) > 1:
        lines = [line.strip() for line in tracebacks[-1].splitlines()]
        raised = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b", line)]
        if raised:
            return raised[-1][:300]
    errors = [line.split("ERROR]", 1)[1].strip() for line in log.splitlines() if "ERROR]" in line]
    return (errors[0] if errors else "nbgrader exited with an error and no message")[:300]


def executor_status(autograded: Path, notebooks: list[str]) -> tuple[str, str]:
    """The hardened executor's verdict on the autograded notebooks of one submission.

    Reads `metadata[STATUS_KEY]` of each notebook (absent: "ok"). Returns the first status that
    is not "ok" (else "ok") and one line of detail joining every notebook's.
    """
    verdicts = []
    for name in notebooks:
        path = autograded / name
        metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}) if path.is_file() else {}
        verdicts.append(describe_verdict(metadata.get(STATUS_KEY) or {}))
    statuses = [status for status, _ in verdicts if status != "ok"]
    return (statuses[0] if statuses else "ok"), "; ".join(detail for _, detail in verdicts if detail)


def describe_verdict(verdict: dict) -> tuple[str, str]:
    """(status, one-line detail) of one notebook's `dlkit_grading` record.

    The detail is the executor's own; without one, its faults ("cell test_x: timeout (...)") and
    how many cells were not run.
    """
    faults = [f"cell {f.get('cell', '?')}: {f.get('kind', '?')}" + (f" ({f['detail']})" if f.get("detail") else "")
              for f in verdict.get("faults", [])]
    not_run = len(verdict.get("not_run", []))
    counted = [f"{not_run} cell{'s' if not_run > 1 else ''} not run"] if not_run else []
    return verdict.get("status", "ok"), verdict.get("detail") or "; ".join(faults + counted)


def remove_links(root: Path, assignment: str, student: str) -> dict[str, str]:
    """Take every symbolic link and every file that is neither regular nor a folder (a FIFO, a
    socket, a device) out of `submitted/<student>/<assignment>/`, before nbgrader sees it.

    nbgrader, and anything that reads the submission, follows links: a notebook linked to the
    source notebook would be graded as the reference, a link to the gradebook copied out as a
    plain file. Links arrive naturally (git clones, tar and zip intake); the student's folder
    itself, or the assignment folder in it, may be one. A link holds nothing but its target, which
    the returned record keeps, so no work is lost.
    Returns {path relative to submitted/<student>/: "the link's target" or "a fifo" ...}.
    """
    student_folder = root / "submitted" / student
    removed = {}
    for path in (student_folder, student_folder / assignment):
        if path.is_symlink():
            removed[path.relative_to(student_folder).as_posix()] = os.readlink(path)
            path.unlink()
            return removed
    for folder, dirs, files in os.walk(student_folder / assignment):
        for name in dirs + files:
            path = Path(folder, name)
            what = _irregular(path)
            if what:
                removed[path.relative_to(student_folder).as_posix()] = what
                path.unlink()
        dirs[:] = [name for name in dirs if Path(folder, name).is_dir()]
    return removed


def _irregular(path: Path) -> str | None:
    """What `path` is when it is neither a regular file nor a real folder (a link: its target)."""
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        return os.readlink(path)
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return {stat.S_IFIFO: "a fifo", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
            stat.S_IFBLK: "a block device"}.get(stat.S_IFMT(mode), "a special file")


def resolve_notebooks(root: Path, assignment: str, student: str, own_copies: dict[str, dict[str, str]]
                      ) -> tuple[dict[str, dict[str, str]], list[str], list[str]]:
    """Put a renamed copy of each of the assignment's notebooks under its expected name.

    A notebook `<nb>.ipynb` the submission lacks (or that is a copy this kit made earlier, per
    `own_copies`) is looked for among the submission's other .ipynb files: the one carrying more
    than half of the source notebook's grade_ids, most of them, ties going to the most recently
    modified, is copied to `<nb>.ipynb`; the student's file is kept as it is.
    Returns (copies made, notes "graded X as Y", problems "no notebook Y; found: ...").
    """
    folder = root / "submitted" / student / assignment
    expected = _notebook_names(root, assignment)
    copies, notes, missing = {}, [], []
    for name in expected:
        target = folder / name
        if target.is_file() and not _is_own_copy(target, own_copies.get(name)):
            continue
        others = sorted(p for p in folder.glob("*.ipynb") if p.name not in expected)
        found = best_match(others, grade_ids(root / "source" / assignment / name))
        if found:
            shutil.copy2(found, target)
            copies[name] = {"from": found.name, "sha256": _sha256(target)}
            notes.append(f"graded {found.name} as {name}")
        else:
            target.unlink(missing_ok=True)  # only ever the kit's own, now stale, copy
            missing.append(f"no notebook {name}; found: {', '.join(p.name for p in others) or 'no notebooks'}")
    return copies, notes, missing


def best_match(candidates: list[Path], ids: set[str]) -> Path | None:
    """The candidate notebook carrying more than half of `ids`, most of them, then the newest."""
    scored = [(len(ids & grade_ids(path)), path.stat().st_mtime, path) for path in candidates]
    scored = [entry for entry in scored if entry[0] * 2 > len(ids)]
    return max(scored, key=lambda entry: entry[:2])[2] if scored else None


def grade_ids(path: Path) -> set[str]:
    """The nbgrader grade_ids of a notebook's cells (none when the file is not a notebook)."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in cells if isinstance(c, dict)} - {None}


def _is_own_copy(path: Path, copy: dict[str, str] | None) -> bool:
    return bool(copy) and _sha256(path) == copy["sha256"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _notebook_names(root: Path, assignment: str) -> list[str]:
    return sorted(p.name for p in (root / "source" / assignment).glob("*.ipynb"))


def status_path(root: str | Path, assignment: str, student: str) -> Path:
    """Where the outcome of grading `student`'s `assignment` is recorded."""
    return Path(root) / STATUS_DIR / assignment / f"{student}.json"


def write_outcome(root: str | Path, outcome: SubmissionOutcome) -> Path:
    """Record an outcome atomically (a reader sees the old record or the new one, never half)."""
    path = status_path(root, outcome.assignment, outcome.student)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(asdict(outcome), indent=1), encoding="utf-8")
    os.replace(partial, path)
    return path


def read_outcome(root: str | Path, assignment: str, student: str) -> SubmissionOutcome | None:
    """The recorded outcome of grading `student`'s `assignment`, if any."""
    path = status_path(root, assignment, student)
    return SubmissionOutcome(**json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None
