"""What a grading worker must share with the machine that sends it submissions, and its proof.

A worker on another machine grades with its own installed kit (hidden tests in `grader_tests`,
earlier reference solutions in `source/`), its own data (`assignments.data.locate_dataset`) and
the course directory at the head's path. If any of these differs, grades differ silently: a
fixture instead of the data set changes 05's held-out accuracy, another kit version other hidden
tests, a private copy of the course keeps its grades and statuses on the worker. So the head
describes its own environment (`GradingEnvironment.here`) and writes a random token into the course
(`write_course_token`); each task checks both (`check_worker`) before it grades, or raises
`WorkerMismatch` saying what differs.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from assignments import paths

TOKEN_DIR = Path("grading_status") / ".tokens"


class WorkerMismatch(RuntimeError):
    """This worker does not see the head's course, data or kit version; the message says which."""


@dataclass(frozen=True)
class GradingEnvironment:
    """The kit version and data a submission is graded with.

    `kit` is a sha256 over the kit's hidden tests, support package and reference source notebooks;
    `data` maps each data set ("mnist", "cifar10") to what `locate_dataset` picks, described by its
    SOURCE.txt line and its files' names and sizes.
    """

    kit: str
    data: tuple[tuple[str, str], ...]

    @classmethod
    def here(cls) -> "GradingEnvironment":
        """The environment of this machine."""
        return cls(kit_version(), tuple((name, dataset_identity(name)) for name in ("mnist", "cifar10")))

    def differences(self, other: "GradingEnvironment") -> list[str]:
        """One line per way `other` (a worker's) differs from this (the head's) environment."""
        found = []
        if other.kit != self.kit:
            found.append(f"kit version {other.kit[:12]} instead of the head's {self.kit[:12]} (install the same "
                         "commit of the kit on every machine)")
        for (name, expected), (_, actual) in zip(self.data, other.data):
            if actual != expected:
                found.append(f"{name} data '{actual}' instead of the head's '{expected}' (put the same data set in "
                             f"{paths.data_dir()} or $DLKIT_DATA_DIR)")
        return found


def kit_version() -> str:
    """sha256 of the kit's code and reference notebooks as installed here (paths and contents)."""
    digest = hashlib.sha256()
    root = paths.REPO_ROOT
    files = [*(root / "assignments").rglob("*.py"), *(root / "grader_tests").rglob("*.py"),
             *paths.SOURCE_DIR.rglob("*.ipynb")]
    for path in sorted(p for p in files if "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def dataset_identity(name: str) -> str:
    """The data set `name` a notebook would load here: its description and total size in bytes."""
    from assignments.data import locate_dataset

    directory, description = locate_dataset(name)
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    fixture = " (the bundled fixture)" if paths.FIXTURES_DIR in directory.parents else ""
    return f"{description}{fixture}, {len(files)} files, {sum(p.stat().st_size for p in files)} bytes"


def write_course_token(root: str | Path) -> str:
    """Write a new random token into course `root` for workers to find; returns it."""
    token = secrets.token_hex(16)
    path = Path(root) / TOKEN_DIR / token
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token, encoding="utf-8")
    return token


def remove_course_token(root: str | Path, token: str) -> None:
    (Path(root) / TOKEN_DIR / token).unlink(missing_ok=True)


def check_worker(root: str | Path, token: str | None, expected: GradingEnvironment | None) -> None:
    """Raise WorkerMismatch unless this machine sees the course `root` holding `token` (None: not
    checked) and has the `expected` environment (None: not checked)."""
    problems = []
    if token is not None and not _token_seen(Path(root) / TOKEN_DIR, token):
        problems.append(f"it does not see the head's course directory {root} (no token {token[:8]}… in "
                        f"{Path(root) / TOKEN_DIR}): mount the course at the same path on every machine")
    if expected is not None:
        problems += expected.differences(GradingEnvironment.here())
    if problems:
        raise WorkerMismatch(f"worker {socket.gethostname()} refuses to grade: " + "; ".join(problems))


def _token_seen(folder: Path, token: str, wait: float = 5.0) -> bool:
    """True when `folder` lists `token`, looked for up to `wait` s (NFS may cache a folder's listing)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if token in {entry.name for entry in os.scandir(folder)}:
                return True
        except OSError:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
