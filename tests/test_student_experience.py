"""The student's notebook experience, checked on every assignment.

- Static: the setup cell imports the kit's package with autoreload, fixes the seed and never depends
  on the working directory; every exercise says its points and where its visible test is; every
  random generator a cell makes is seeded.
- Executed (each reference notebook on the bundled fixtures, in a scratch working directory, with a
  hook in the kernel, once per session): it passes every question and no other cell raises; every
  figure has a title, every plotting axes (not an image) has both axis labels, and every training
  cell shows a tqdm progress bar.
"""
import ast
import re

import pytest

from assignments import paths
from assignments.notebooks import nbgrader_meta, python_source, question_results, read_notebook
from tests.audited_run import execute_audited, hook_records

ASSIGNMENTS = sorted(p.name for p in paths.SOURCE_DIR.iterdir() if (p / f"{p.name}.ipynb").is_file())


def _notebook(assignment):
    return read_notebook(paths.SOURCE_DIR / assignment / f"{assignment}.ipynb")


# --- static checks ---------------------------------------------------------------------------


def _setup_cell(nb):
    return next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "setup")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_setup_cell_autoreloads_seeds_and_needs_no_working_directory(assignment):
    source = _setup_cell(_notebook(assignment)).source
    assert "%load_ext autoreload" in source and "%autoreload 2" in source
    assert re.search(r"from assignments[.\w]* import", source), "helpers come from the installed package"
    assert "np.random.seed(" in source
    for fragile in ("sys.path", "os.chdir", "../", "__file__", "getcwd"):
        assert fragile not in source, f"the setup cell depends on the working directory ({fragile})"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_random_generator_is_seeded(assignment):
    unseeded = []
    for cell in _notebook(assignment).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(python_source(cell.source))):
            if (isinstance(node, ast.Call) and _called_name(node) == "default_rng"
                    and not node.args and not node.keywords):
                unseeded.append(nbgrader_meta(cell).get("grade_id"))
    assert unseeded == []


def exercise_problems(nb):
    """(answer cell, problem) for each autograded answer cell whose explanation lacks points or test."""
    problems, explanation = [], None
    for cell, after in zip(nb.cells, nb.cells[1:]):
        meta = nbgrader_meta(cell)
        if cell.cell_type == "markdown" and not meta.get("solution"):
            explanation = " ".join(cell.source.split())
        if not (cell.cell_type == "code" and meta.get("solution") and nbgrader_meta(after).get("grade")):
            continue
        if not re.search(r"\d points?\b", explanation):
            problems.append((meta["grade_id"], "no points in its explanation"))
        if "visible test" not in explanation.lower():
            problems.append((meta["grade_id"], "its explanation does not say where its visible test is"))
    return problems


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_says_its_points_and_where_its_visible_test_is(assignment):
    assert exercise_problems(_notebook(assignment)) == []


# --- executed: figures and progress bars -----------------------------------------------------



def _called_name(call):
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def is_training_cell(cell):
    """A code cell, neither graded nor only definitions, that calls train..(...) or .train()."""
    if cell.cell_type != "code" or nbgrader_meta(cell).get("grade"):
        return False
    tree = ast.parse(python_source(cell.source))
    statements = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef,
                                                               ast.ClassDef, ast.Expr))
                  or isinstance(n, ast.Expr) and not isinstance(n.value, ast.Constant)]
    calls = [n for s in statements for n in ast.walk(s) if isinstance(n, ast.Call)]
    return any(_called_name(call).startswith("train") for call in calls)


def audit(nb, executed):
    """(cell grade_id, figures, problems, bars, training) per code cell of `nb`, from its audited run."""
    by_source = {}
    for record in hook_records(executed):
        by_source.setdefault(record["source"], record)
    report = []
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.source.strip() == "":
            continue
        record = by_source.get(cell.source)
        assert record is not None, f"cell {nbgrader_meta(cell).get('grade_id')} did not run"
        report.append({"cell": nbgrader_meta(cell).get("grade_id"), "figures": record["figures"],
                       "problems": record["problems"], "bars": record["bars"],
                       "training": is_training_cell(cell)})
    return report


def plot_and_progress_problems(report):
    problems = [(r["cell"], p) for r in report for p in r["problems"]]
    problems += [(r["cell"], "training without a tqdm progress bar")
                 for r in report if r["training"] and r["bars"] == 0]
    return problems


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_notebook_runs_and_passes_every_question(assignment, audited_reference):
    executed = audited_reference(assignment)  # in a scratch folder, run once per session
    failed = [(r.grade_id, r.message) for r in question_results(executed) if not r.passed]
    assert failed == []
    errors = [(cell.metadata.get("nbgrader", {}).get("grade_id"), output.ename, output.evalue)
              for cell in executed.cells for output in cell.get("outputs", [])
              if output.output_type == "error"]
    assert errors == [], "cells outside the tests raised"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_plot_is_titled_and_labelled_and_every_training_shows_progress(assignment, audited_reference):
    report = audit(_notebook(assignment), audited_reference(assignment))
    assert sum(r["figures"] for r in report) > 0, "the hook saw no figure at all"
    assert any(r["training"] for r in report), "the hook saw no training cell at all"
    assert plot_and_progress_problems(report) == []


def test_the_hook_sees_untitled_and_unlabelled_plots_and_training_without_progress(tmp_path):
    import nbformat

    cells = {
        "untitled": "fig, ax = plt.subplots()\nax.plot([1, 2])\nax.set_xlabel('epoch')",
        "fine": "fig, ax = plt.subplots()\nax.plot([1, 2])\nax.set(title='t', xlabel='x', ylabel='y')",
        "image": "fig, ax = plt.subplots()\nax.imshow(np.eye(3))\nax.axis('off')\nfig.suptitle('an image')",
        "silent": "def train_model(n):\n    return sum(range(n))\nresult = train_model(3)",
        "progress": "result = [train_model(n) for n in tqdm(range(3))]",
    }
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import numpy as np\nimport matplotlib.pyplot as plt\nfrom tqdm.auto import tqdm")])
    for grade_id, source in cells.items():
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade_id": grade_id}}))
    report = audit(nb, execute_audited(nb, tmp_path))
    assert sorted(plot_and_progress_problems(report)) == [
        ("silent", "training without a tqdm progress bar"),
        ("untitled", "axes 'untitled' has no y label"),
        ("untitled", "no title (neither a suptitle nor a title on every axes)"),
    ]
