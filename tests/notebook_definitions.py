"""Each assignment's reference solution and released stubs as modules, loaded once per process."""
from functools import cache
from types import ModuleType

from assignments.notebooks import load_definitions
from grader_tests.registry import ASSIGNMENTS


@cache
def reference(assignment: str) -> ModuleType:
    """The definitions of source/<assignment>/<assignment>.ipynb (the reference solution)."""
    return load_definitions(ASSIGNMENTS[assignment].source_notebook)


@cache
def released(assignment: str) -> ModuleType:
    """The definitions of release/<assignment>/<assignment>.ipynb (the student's stubs)."""
    return load_definitions(ASSIGNMENTS[assignment].release_notebook)
