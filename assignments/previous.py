"""The reference solutions of earlier assignments, for the notebooks that build on them.

Assignment 03 trains networks made of assignment 02's layers, 04 reuses 03's, and so on. Rather
than paste that code into every later notebook, a notebook loads it from the earlier assignment's
source notebook, the single source of truth:

    from assignments.previous import fully_connected   # source/02_fully_connected
    affine_forward, Solver = fully_connected.affine_forward, fully_connected.Solver

(an import, so that `assignments.notebooks.load_definitions` keeps it).
"""
from __future__ import annotations

import functools
import types

from assignments import paths
from assignments.notebooks import NotebookError, load_definitions


@functools.cache
def reference_solutions(assignment: str) -> types.ModuleType:
    """The functions and classes of `source/<assignment>/<assignment>.ipynb`, as a module.

    Raises NotebookError when the kit's source/ notebooks are not available.
    """
    path = paths.SOURCE_DIR / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        raise NotebookError(f"{path} is missing: this notebook builds on the reference solutions of "
                            f"{assignment}, which ship in the kit's source/ folder")
    return load_definitions(path, module_name=f"reference_{assignment}")


def __getattr__(topic: str) -> types.ModuleType:
    """`from assignments.previous import fully_connected`: the assignment named NN_<topic>."""
    matches = sorted(p.name for p in paths.SOURCE_DIR.glob(f"[0-9]*_{topic}") if p.is_dir())
    if not matches:
        raise AttributeError(f"no assignment NN_{topic} in {paths.SOURCE_DIR}")
    return reference_solutions(matches[0])
