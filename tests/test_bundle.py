"""The student distribution (`python -m assignments bundle`): nothing students must not get, and all
they need: its wheel installed in a fresh virtual environment runs every release notebook."""
import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from assignments import paths
from assignments.instructor.bundle import STUDENT_MODULES, BundleError, build_bundle, bundle_files, bundle_leaks
from assignments.instructor.grading import assignment_names
from assignments.instructor.leaks import secret_lines
from assignments.notebooks import fill_solutions, nbgrader_meta, read_notebook

# What 02 (its visible Solver check trains 01's reference loss), 03, 04 and 05 import through assignments.previous
PUBLISHED = ["01_softmax", "02_fully_connected", "04_cnn"]
UNPUBLISHED = ["03_normalization_dropout", "05_cifar10"]

RUN_CELLS = r'''
import json, sys
from pathlib import Path
from assignments.notebooks import execute_notebook, nbgrader_meta, read_notebook
path = Path(sys.argv[1])
nb = execute_notebook(read_notebook(path), path.parent)
print(json.dumps({nbgrader_meta(c).get("grade_id", f"cell {i}"): f"{o.ename}: {o.evalue}"
                  for i, c in enumerate(nb.cells) if c.cell_type == "code"
                  for o in c.outputs if o.output_type == "error"}))
'''


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A student distribution with 02's and 04's reference solutions published."""
    return build_bundle(tmp_path_factory.mktemp("bundle") / "course", PUBLISHED)


@pytest.fixture(scope="module")
def early_bundle(tmp_path_factory):
    """The distribution at the start of term: no reference solution published."""
    return build_bundle(tmp_path_factory.mktemp("early") / "course")


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory):
    """A new virtual environment without the kit. Its dependencies come from the kit's environment
    through a .pth line (offline, no download); .pth files there are not processed, so the kit's
    editable `assignments` and `grader_tests` stay invisible."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    Path(purelib, "kit_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv / "bin" / "python"


def _run(python, *args):
    """Run the fresh environment's python from its own folder, as a student would (not from the kit's
    checkout, whose packages `python -c` would find in the working directory)."""
    return subprocess.run([python, *args], capture_output=True, text=True, cwd=python.parents[1], timeout=600)


def _install(python, bundle_dir):
    """pip install the bundle's wheel, offline; its pinned requirements must already be satisfied."""
    wheel, = (bundle_dir / "wheels").glob("*.whl")
    done = _run(python, "-m", "pip", "install", "--no-index", "--force-reinstall", "--no-deps", "-q", wheel)
    assert done.returncode == 0, done.stderr
    check = _run(python, "-m", "pip", "check")
    assert "dl-course-kit-student" not in check.stdout, check.stdout


def test_bundle_layout_and_wheel_hold_only_the_student_side(bundle):
    assert sorted(p.name for p in bundle.iterdir()) == ["BUNDLE.json", "README.md", "data_scripts", "release", "wheels"]
    assert sorted(p.relative_to(bundle / "release").as_posix() for p in (bundle / "release").rglob("*.ipynb")) == \
        sorted(f"{name}/{name}.ipynb" for name in assignment_names())
    assert json.loads((bundle / "BUNDLE.json").read_text())["published"] == PUBLISHED
    wheel, = (bundle / "wheels").glob("*.whl")
    members = zipfile.ZipFile(wheel).namelist()
    modules = sorted(m for m in members if m.endswith(".py"))
    assert modules == sorted(f"assignments/{m}.py" for m in STUDENT_MODULES)
    for grader in ("grading", "submission", "isolated_execute", "remote", "sandbox", "release", "leaks", "bundle"):
        assert f"assignments/{grader}.py" not in members
    assert not [m for m in members if "grader_tests" in m]
    solutions = sorted(m for m in members if "/solutions/" in m)
    assert solutions == [f"assignments/student_data/solutions/{n}/{n}.ipynb" for n in PUBLISHED]
    assert any(m.startswith("assignments/student_data/fixtures/mnist/") for m in members)


def test_no_solution_hidden_test_or_grader_module_of_an_unpublished_assignment(bundle):
    texts = bundle_files(bundle)
    assert not [f for f, text in texts.items() if "BEGIN HIDDEN TESTS" in text or "from grader_tests" in text]
    assert sorted({f.split("/solutions/")[1].split("/")[0] for f, text in texts.items()
                   if "BEGIN SOLUTION" in text}) == PUBLISHED
    assert bundle_leaks(bundle, PUBLISHED) == []
    for name in UNPUBLISHED:  # the check above has secrets to look for: the lines only that notebook has
        assert len([line for line in secret_lines(paths.SOURCE_DIR / name, "solution")
                    if not any(line in text for text in texts.values())]) >= 10, name


def test_a_planted_leak_is_found_in_files_and_in_the_wheel(bundle, tmp_path):
    copy = shutil.copytree(bundle, tmp_path / "copy")
    solution = max(secret_lines(paths.SOURCE_DIR / "03_normalization_dropout", "solution"), key=len)  # unpublished
    with open(copy / "data_scripts" / "get_mnist.py", "a") as script:
        script.write(f"\n{solution}\n")
    wheel, = (copy / "wheels").glob("*.whl")
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("assignments/instructor/grading.py", "")
    leaks = bundle_leaks(copy, PUBLISHED)
    assert f"data_scripts/get_mnist.py: solution line of 03_normalization_dropout: {solution!r}" in leaks
    assert f"wheels/{wheel.name}!assignments/instructor/grading.py: a grader module" in leaks


def test_bad_requests_get_clear_errors_and_lose_nothing(tmp_path):
    with pytest.raises(BundleError, match="cannot publish 02_fc: the assignments are 01_softmax, "):
        build_bundle(tmp_path / "b", ["02_fc"])
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "notes.txt").write_text("mine")
    with pytest.raises(BundleError, match="is not empty and holds no student distribution"):
        build_bundle(tmp_path / "work")
    assert (tmp_path / "work" / "notes.txt").read_text() == "mine"


def _runnable(release_notebook, fill):
    """The notebook's setup cell, data cell, answer cells (the reference's when `fill`) and test
    cells, written next to it: what the visible tests need, without the training experiments."""
    nb = read_notebook(release_notebook)
    if fill:
        source = paths.SOURCE_DIR / release_notebook.parent.name / release_notebook.name
        nb = fill_solutions(nb, read_notebook(source))
    code = [c for c in nb.cells if c.cell_type == "code"]
    nb.cells = [c for c in code if c is code[0] or nbgrader_meta(c).get("grade_id") == "load_data"
                or nbgrader_meta(c).get("grade") or nbgrader_meta(c).get("solution")]
    path = release_notebook.with_name("visible_tests.ipynb")
    nbformat.write(nb, path)
    return path


def test_release_notebooks_run_from_the_bundle_alone_in_a_fresh_environment(bundle, early_bundle, fresh_python):
    _install(fresh_python, early_bundle)
    where = _run(fresh_python, "-c", "import assignments, importlib.util as u; "
                                     "print(assignments.__file__, u.find_spec('grader_tests'))")
    assert where.stdout.startswith(str(fresh_python.parents[1])) and where.stdout.split()[-1] == "None"
    early = _run(fresh_python, "-c", "from assignments.previous import fully_connected")
    assert "NotPublishedError: this notebook builds on the reference solutions of 02_fully_connected, " \
           "which your instructor has not published yet" in early.stderr

    _install(fresh_python, bundle)  # after 01's, 02's and 04's deadlines
    filled = {name: name in ("01_softmax", "02_fully_connected", "03_normalization_dropout")
              for name in assignment_names()}
    notebooks = {name: _runnable(bundle / "release" / name / f"{name}.ipynb", fill) for name, fill in filled.items()}
    with ThreadPoolExecutor(2) as pool:
        runs = dict(zip(notebooks, pool.map(lambda nb: _run(fresh_python, "-c", RUN_CELLS, nb), notebooks.values())))
    errors = {name: json.loads(run.stdout) if run.returncode == 0 else run.stderr for name, run in runs.items()}
    for name in ("01_softmax", "02_fully_connected", "03_normalization_dropout"):
        assert errors[name] == {}, name  # the reference answers pass every visible test
    assert errors["04_cnn"] and set(errors["04_cnn"].values()) == {"NotImplementedError: "}
    assert errors["05_cifar10"] == {  # the stubs are reached: setup, data and previous work
        "CifarNet": "NotImplementedError: ", "test_CifarNet": "NameError: name 'build_model' is not defined",
        "train_model": "NotImplementedError: ", "hyperparameter_study": "NotImplementedError: ",
        "test_saved_model": "ModelFileError: cifar10_model.npz: no such model file; run the notebook's save "
                            "cell (save_model)"}

    check = _run(fresh_python, "-m", "assignments", "check", notebooks["01_softmax"])
    assert check.returncode == 0 and "total                                12/12" in check.stdout, check.stdout
    hidden = _run(fresh_python, "-m", "assignments", "check", "--hidden", notebooks["01_softmax"])
    assert hidden.returncode == 2 and "the student distribution does not have" in hidden.stderr
    grading = _run(fresh_python, "-m", "assignments", "autograde", "01_softmax")
    assert grading.returncode == 2 and "invalid choice: 'autograde'" in grading.stderr
