"""The package's layout says who uses what: the student side (`assignments`'s own modules) never
imports the instructor's commands (`assignments.instructor`) or the grading jail (`assignments.jail`),
nor the hidden checks (`grader_tests`), so the student bundle can ship it alone."""
import json
import subprocess
import sys

from assignments import paths
from assignments.instructor.bundle import STUDENT_MODULES

GRADING_SIDE = ("assignments.instructor", "assignments.jail", "grader_tests")

PROBE = """
import importlib, json, sys
found = {}
for module in sys.argv[1:]:
    importlib.import_module(module)
    found[module] = sorted(m for m in sys.modules if m.startswith(%r))
print(json.dumps(found))
""" % (GRADING_SIDE,)


def _grading_modules_imported_by(modules: list[str]) -> dict[str, list[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, *modules], cwd=paths.REPO_ROOT,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_no_student_module_imports_the_grading_side():
    modules = [f"assignments.{m}" for m in STUDENT_MODULES if m != "__main__"]
    assert len(modules) >= 14
    assert _grading_modules_imported_by(modules) == {m: [] for m in modules}


def test_the_probe_sees_a_grading_import():
    assert _grading_modules_imported_by(["assignments.instructor.grading"])["assignments.instructor.grading"]


def test_the_student_side_is_the_top_level_and_the_rest_is_in_two_sub_packages():
    package = paths.REPO_ROOT / "assignments"
    assert {p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == {"instructor", "jail"}
    assert {"data", "plots", "gradient_check", "model_io", "previous", "selfcheck", "cli"} <= set(STUDENT_MODULES)
    assert not {"grading", "submission", "isolated_execute", "sandbox", "remote"} & set(STUDENT_MODULES)
