"""The reference solutions of earlier assignments, for the notebooks that build on them.

Assignment 03 trains networks made of assignment 02's layers, 04 reuses 03's, and so on. Rather
than paste that code into every later notebook, a notebook loads it from the earlier assignment's
source notebook, the single source of truth:

    from assignments.previous import fully_connected   # source/02_fully_connected
    affine_forward, Solver = fully_connected.affine_forward, fully_connected.Solver

(an import, so that `assignments.notebooks.load_definitions` keeps it). In the student
distribution only the assignments the instructor has published (after their deadline) are there;
asking for another one raises NotPublishedError, which says what to do.
"""
from __future__ import annotations

import functools
import json
import types

from assignments import paths
from assignments.notebooks import NotebookError, load_definitions


class NotPublishedError(NotebookError):
    """The student distribution does not (yet) hold this assignment's reference solutions."""


@functools.cache
def reference_solutions(assignment: str) -> types.ModuleType:
    """The functions and classes of `source/<assignment>/<assignment>.ipynb`, as a module.

    Raises NotebookError when the kit's source/ notebooks are not available, NotPublishedError
    when the student distribution has not published them.
    """
    path = paths.SOURCE_DIR / assignment / f"{assignment}.ipynb"
    if not path.is_file() and paths.STUDENT_DISTRIBUTION:
        raise NotPublishedError(
            f"this notebook builds on the reference solutions of {assignment}, which your instructor "
            f"has not published yet (they are published after {assignment}'s deadline). Ask for the "
            f"course's new student distribution, install its wheel (pip install --force-reinstall "
            f"wheels/*.whl), restart the kernel and run this cell again.")
    if not path.is_file():
        raise NotebookError(f"{path} is missing: this notebook builds on the reference solutions of "
                            f"{assignment}, which ship in the kit's source/ folder")
    return load_definitions(path, module_name=f"reference_{assignment}")


def assignment_folders() -> list[str]:
    """Every assignment's folder name (NN_topic): source/'s folders in the kit, the manifest's list
    in the student distribution (which holds the published ones only)."""
    if paths.STUDENT_DISTRIBUTION:
        return json.loads((paths.STUDENT_DATA / "manifest.json").read_text())["assignments"]
    return sorted(p.name for p in paths.SOURCE_DIR.glob("[0-9]*_*") if p.is_dir())


def __getattr__(topic: str) -> types.ModuleType:
    """`from assignments.previous import fully_connected`: the assignment named NN_<topic>."""
    matches = [name for name in assignment_folders() if name.split("_", 1)[-1] == topic]
    if not matches:
        raise AttributeError(f"no assignment NN_{topic} among {', '.join(assignment_folders())}")
    return reference_solutions(matches[0])
