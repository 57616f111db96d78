"""`python -m assignments bundle`: the student distribution, everything students get and nothing more.

    DIR/README.md           how to install and work (for students)
    DIR/BUNDLE.json         what this bundle holds: kit version, assignments, published solutions
    DIR/release/NN_topic/   the release notebooks
    DIR/data_scripts/       the download scripts of the full data sets
    DIR/wheels/dl_course_kit_student-<version>-py3-none-any.whl

The wheel is the student side of the `assignments` package (data, plots, gradient checks, model
I/O, `split_batch`, the allocator, `previous` and the visible `check`) with the offline fixtures
and the reference solutions of only the published assignments (their test cells removed) in
`assignments/student_data/`. It holds no grading module and no `grader_tests`. Before the bundle
replaces DIR, every file and every member of the wheel is searched for solution lines, model
answers and hidden-test lines of the unpublished assignments, hidden-test lines of all, and
grader modules; any find stops the build.
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import shutil
import zipfile
from pathlib import Path

import nbformat

from assignments import paths
from assignments.instructor.grading import GradingError, assignment_names
from assignments.instructor.leaks import secret_lines
from assignments.notebooks import nbgrader_meta, read_notebook

STUDENT_MODULES = tuple(sorted(p.stem for p in Path(paths.__file__).parent.glob("*.py")))
"""The modules of `assignments` that students get: its top-level ones (`instructor` and `jail` grade)."""

STUDENT_REQUIREMENTS = ("numpy", "matplotlib", "tqdm", "pooch", "mlxtend", "threadpoolctl", "nbformat",
                        "nbclient", "ipykernel", "jupyterlab", "nbgrader")
"""What a student's environment needs (pinned as in requirements.txt); nbgrader gives JupyterLab its
Validate button and Assignments tab."""

DATA_SCRIPTS = ("get_mnist.py", "get_cifar10.py")
WHEEL_NAME = "dl_course_kit_student"
MANIFEST = "BUNDLE.json"

STUDENT_README = """# {course} — student distribution

1. Install (Python 3.11; a virtual environment keeps it apart from other projects):

       python3 -m venv .venv && source .venv/bin/activate
       pip install wheels/{wheel}

2. Start JupyterLab here (`jupyter lab`) and open `release/01_softmax/01_softmax.ipynb` (then 02 … 05).
   Run the setup cell first, fill the `YOUR CODE HERE` cells and run the test cell under each.
3. One line per question: `python -m assignments check release/01_softmax/01_softmax.ipynb`.
4. Real data instead of the tiny bundled sets: `python data_scripts/get_mnist.py` (or
   `--offline`, 5,000 real digits without internet) and `python data_scripts/get_cifar10.py`;
   they go to `~/dlkit-data` (or `$DLKIT_DATA_DIR`).

Later notebooks build on the reference solutions of earlier assignments, which your instructor
publishes after each deadline in a new version of this folder: install its wheel again
(`pip install --force-reinstall wheels/*.whl`). Published so far: {published}.
"""


class BundleError(GradingError):
    """The student distribution cannot be built, or would leak what students must not get."""


def build_bundle(to: str | Path, publish: list[str] | tuple[str, ...] = ()) -> Path:
    """Build the student distribution in `to`, leak-checked.

    Inputs:
    - to: the folder; it must not exist, be empty, or hold a former bundle (which is replaced
      only once the new one is complete and proven clean).
    - publish: assignments (e.g. "02_fully_connected") whose reference solutions students get.

    Returns:
    - the folder. Raises BundleError for an unknown assignment, a folder that holds something
      else, or a leak (then nothing is written).
    """
    to = Path(to).resolve()
    assignments = assignment_names()
    unknown = sorted(set(publish) - set(assignments))
    if unknown:
        raise BundleError(f"cannot publish {', '.join(unknown)}: the assignments are {', '.join(assignments)}")
    if to.exists() and any(to.iterdir()) and not (to / MANIFEST).is_file():
        raise BundleError(f"{to} is not empty and holds no student distribution ({MANIFEST}): "
                          f"choose a new folder")
    published = [name for name in assignments if name in publish]
    staging = to.with_name(f".{to.name}.building")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _write_bundle(staging, assignments, published)
        leaks = bundle_leaks(staging, published)
        if leaks:
            raise BundleError("the student distribution would leak, nothing written:\n  " + "\n  ".join(leaks))
        shutil.rmtree(to, ignore_errors=True)
        staging.rename(to)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return to


def _write_bundle(folder: Path, assignments: list[str], published: list[str]) -> None:
    """Write the bundle's files into the new `folder`."""
    version = importlib.metadata.version("dl-course-kit")
    manifest = {"kit_version": version, "assignments": assignments, "published": published}
    for name in assignments:
        shutil.copytree(paths.RELEASE_DIR / name, folder / "release" / name)
    (folder / "data_scripts").mkdir()
    for script in DATA_SCRIPTS:
        shutil.copy(paths.REPO_ROOT / "data_scripts" / script, folder / "data_scripts" / script)
    wheel = _write_wheel(folder / "wheels", version, _student_package(manifest))
    (folder / MANIFEST).write_text(json.dumps({**manifest, "wheel": wheel.name}, indent=1) + "\n")
    (folder / "README.md").write_text(STUDENT_README.format(
        course="Deep-learning course kit", wheel=wheel.name, published=", ".join(published) or "none"))


def _student_package(manifest: dict) -> dict[str, bytes]:
    """The wheel's files, path -> content: the student modules and `assignments/student_data/`."""
    package = Path(paths.__file__).parent
    files = {f"assignments/{module}.py": (package / f"{module}.py").read_bytes() for module in STUDENT_MODULES}
    data = "assignments/" + paths.STUDENT_DATA.name
    for path in sorted(paths.FIXTURES_DIR.rglob("*")):
        if path.is_file():
            files[f"{data}/fixtures/{path.relative_to(paths.FIXTURES_DIR).as_posix()}"] = path.read_bytes()
    for name in manifest["published"]:
        notebook = published_solution(paths.SOURCE_DIR / name / f"{name}.ipynb")
        files[f"{data}/solutions/{name}/{name}.ipynb"] = nbformat.writes(notebook).encode()
    files[f"{data}/manifest.json"] = json.dumps(manifest, indent=1).encode()
    return files


def published_solution(source_notebook: Path) -> nbformat.NotebookNode:
    """A source notebook as students may see it after the deadline: solutions and model answers
    kept, test cells (visible and hidden tests) removed, no outputs."""
    nb = read_notebook(source_notebook)
    nb.cells = [cell for cell in nb.cells
                if not (nbgrader_meta(cell).get("grade") and not nbgrader_meta(cell).get("solution"))]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _write_wheel(folder: Path, version: str, files: dict[str, bytes]) -> Path:
    """A pure-Python wheel (PEP 427) of `files` that requires STUDENT_REQUIREMENTS, pinned."""
    pins = _pins()
    dist_info = f"{WHEEL_NAME}-{version}.dist-info"
    metadata = (f"Metadata-Version: 2.1\nName: {WHEEL_NAME.replace('_', '-')}\nVersion: {version}\n"
                f"Summary: Student side of the deep-learning course kit\nRequires-Python: >=3.11\n"
                + "".join(f"Requires-Dist: {pins[name]}\n" for name in STUDENT_REQUIREMENTS))
    files = {**files,
             f"{dist_info}/METADATA": metadata.encode(),
             f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: assignments.instructor.bundle\n"
                                   b"Root-Is-Purelib: true\nTag: py3-none-any\n",
             f"{dist_info}/entry_points.txt": b"[console_scripts]\ndlkit = assignments.cli:main\n"}
    record = [f"{path},sha256={_digest(content)},{len(content)}" for path, content in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n").encode()
    folder.mkdir(parents=True)
    wheel = folder / f"{WHEEL_NAME}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), content,
                             compress_type=zipfile.ZIP_DEFLATED)
    return wheel


def _digest(content: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()


def _pins() -> dict[str, str]:
    """requirements.txt's `name==version` lines, by lower-case name."""
    lines = (paths.REPO_ROOT / "requirements.txt").read_text().splitlines()
    return {line.split("==")[0].strip().lower(): line.strip() for line in lines if "==" in line}


def bundle_files(folder: Path) -> dict[str, str]:
    """Every file of a bundle as text, the wheel's members included ("wheel.whl!member"): a
    notebook's cell sources, any other file decoded as far as it is text."""
    texts = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    texts[f"{path.relative_to(folder)}!{member}"] = _text(member, archive.read(member))
        elif path.is_file():
            texts[str(path.relative_to(folder))] = _text(path.name, path.read_bytes())
    return texts


def _text(name: str, content: bytes) -> str:
    if name.endswith(".ipynb"):
        return "\n".join(cell.source for cell in nbformat.reads(content.decode(), as_version=4).cells)
    return content.decode("utf-8", errors="ignore")


def bundle_leaks(folder: Path, published: list[str]) -> list[str]:
    """What a bundle must not hold: "file: what leaked" for every grader module (a grading-side
    module of `assignments` or anything of `grader_tests`), every solution line or model answer
    of an unpublished assignment and every hidden-test line of any assignment, unless the line is
    also in what students may see anyway (the release notebooks, the student modules and the
    published solutions: `if y is None:` is no one's secret)."""
    package = Path(paths.__file__).parent
    grader_modules = {f"assignments/{p.relative_to(package).as_posix()}" for p in package.glob("*/*.py")}
    shown = "\n".join([*(_text(p.name, p.read_bytes()) for p in paths.RELEASE_DIR.glob("*/*.ipynb")),
                       *((package / f"{module}.py").read_text() for module in STUDENT_MODULES),
                       *(_text(".ipynb", nbformat.writes(published_solution(paths.SOURCE_DIR / n / f"{n}.ipynb"))
                               .encode()) for n in published)])
    secrets = []
    for name in assignment_names():
        kinds = ("hidden",) if name in published else ("hidden", "solution", "answer")
        secrets += [(name, kind, line) for kind in kinds for line in secret_lines(paths.SOURCE_DIR / name, kind)
                    if line not in shown]
    leaks = []
    for file, text in bundle_files(folder).items():
        member = file.split("!")[-1]
        if member in grader_modules or "grader_tests" in file:
            leaks.append(f"{file}: a grader module")
        leaks += [f"{file}: {kind} line of {name}: {line!r}" for name, kind, line in secrets if line in text]
    return leaks
