"""Generating release/ from source/ and proving the committed release/ is current."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from assignments import paths
from assignments.instructor.grading import Course


def release(assignments: list[str]) -> list[Path]:
    """Regenerate release/<assignment>/ for each assignment with nbgrader (leak-checked)."""
    course = Course(paths.REPO_ROOT)
    return [course.generate(name) for name in assignments]


def release_differences(assignment: str) -> list[str]:
    """How the committed release/<assignment>/ differs from a fresh generation (empty when equal)."""
    committed = paths.RELEASE_DIR / assignment
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Course.scratch(Path(scratch) / "course", [assignment]).generate(
            assignment, release_dir=Path(scratch) / "release")
        names = sorted({p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file()}
                       | {p.relative_to(committed).as_posix() for p in committed.rglob("*") if p.is_file()})
        differences = []
        for name in names:
            old, new = committed / name, fresh / name
            if not old.is_file():
                differences.append(f"release/{assignment}/{name} is missing")
            elif not new.is_file():
                differences.append(f"release/{assignment}/{name} is not generated from source/")
            elif _content(old) != _content(new):
                differences.append(f"release/{assignment}/{name} differs from a fresh generation")
    return differences


def _content(path: Path) -> object:
    if path.suffix == ".ipynb":
        return json.loads(path.read_text(encoding="utf-8"))
    return path.read_bytes()
