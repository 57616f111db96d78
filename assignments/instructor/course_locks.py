"""Locks in the course directory, seen by every grader on every machine that shares it.

Two grading commands started together must not both write the assignment's cells into an empty
gradebook (PostgreSQL then rejects one: `UniqueViolation ... grade_cell_type`), and one submission
must never be graded by two processes at once. `course_lock` takes an exclusive `flock` on
`<course>/grading_status/.locks/<name>.lock`: it excludes other processes and other threads of this
one, over NFS too (Linux maps flock to NFS byte-range locks), and the kernel releases it when its
holder dies, so a killed grader never leaves a lock behind.
"""
from __future__ import annotations

import fcntl
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

LOCK_DIR = Path("grading_status") / ".locks"


def lock_path(root: str | Path, name: str) -> Path:
    """The lock file of `name` (any text; e.g. "gradebook" or "01_softmax/alice") in course `root`."""
    return Path(root) / LOCK_DIR / (re.sub(r"[^\w.-]", "_", name) + ".lock")


@contextmanager
def course_lock(root: str | Path, name: str) -> Iterator[int]:
    """Hold the lock `name` of course `root` (waiting for it while another holds it).

    Yields the lock file's descriptor: a child process given it (`pass_fds`) keeps the lock held
    until the child ends too.
    """
    path = lock_path(root, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)
