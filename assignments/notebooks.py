"""Notebook tools: read safely, find nbgrader cells, load a notebook's definitions, execute.

`load_definitions` is how the kit's tests and self-checks get at the functions and classes a
notebook defines without running its data-loading or training cells.
"""
from __future__ import annotations

import ast
import os
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbformat import NotebookNode

EXECUTION_TIMEOUT = 600
"""Seconds one cell may run (the same bound as nbgrader's, see nbgrader_config.py)."""


class NotebookError(Exception):
    """A notebook file is missing, is not a notebook, or has a cell that does not parse."""


def read_notebook(path: str | Path) -> NotebookNode:
    """Read and validate a notebook file.

    Inputs:
    - path: an .ipynb file.

    Returns:
    - the notebook (nbformat v4). Raises NotebookError saying what is wrong with the file.
    """
    path = Path(path)
    if not path.is_file():
        raise NotebookError(f"{path}: no such notebook file")
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # nbformat raises JSON, validation and reader errors alike
        raise NotebookError(f"{path} is not a valid Jupyter notebook: {error}") from error
    return nb


def nbgrader_meta(cell: NotebookNode) -> dict:
    """The cell's nbgrader metadata ({} for an ordinary cell)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_cells(nb: NotebookNode) -> list[NotebookNode]:
    """The autograded test cells (nbgrader `grade: true` code cells), in notebook order."""
    return [c for c in nb.cells if c.cell_type == "code" and nbgrader_meta(c).get("grade")]


def cell_by_grade_id(nb: NotebookNode, grade_id: str) -> NotebookNode:
    """The cell whose nbgrader grade_id is `grade_id`; KeyError naming it when absent."""
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def fill_solutions(student_nb: NotebookNode, source_nb: NotebookNode) -> NotebookNode:
    """A copy of `student_nb` whose answer cells (code and written) hold those of `source_nb`.

    This is how the kit builds a correct submission from the released notebook.
    """
    filled = nbformat.from_dict(student_nb)
    for cell in filled.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            cell.source = cell_by_grade_id(source_nb, meta["grade_id"]).source
    return filled


def python_source(cell_source: str) -> str:
    """The plain Python of a code cell: IPython magics become ordinary function calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell_source)


_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def load_definitions(path: str | Path, module_name: str | None = None) -> types.ModuleType:
    """Load the imports, functions, classes, aliases and literal constants a notebook defines.

    Every other statement (loading data, training, plotting) and every graded test cell is
    skipped, so this is fast and has no side effects beyond the notebook's imports.

    Inputs:
    - path: an .ipynb file.
    - module_name: the name of the returned module (default: the notebook's file stem).

    Returns:
    - a module whose attributes are the notebook's definitions. Raises NotebookError naming the
      cell when a code cell is not valid Python.
    """
    path = Path(path)
    nb = read_notebook(path)
    module = types.ModuleType(module_name or path.stem)
    module.__file__ = str(path)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or nbgrader_meta(cell).get("grade"):
            continue
        where = f"{path}, cell {index} ({nbgrader_meta(cell).get('grade_id', 'no grade_id')})"
        try:
            tree = ast.parse(python_source(cell.source), filename=where)
        except SyntaxError as error:
            raise NotebookError(f"{where} is not valid Python: {error}") from error
        kept = [node for node in tree.body if _is_definition(node)]
        exec(compile(ast.Module(body=kept, type_ignores=[]), where, "exec"), module.__dict__)
    return module


def _is_definition(node: ast.stmt) -> bool:
    if isinstance(node, _DEFINITIONS):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        return _is_alias_or_constant(node.value)
    return False


def _is_alias_or_constant(value: ast.expr) -> bool:
    """A literal (CLASSES = ["plane", ...]) or other names for definitions (relu = layers.relu)."""
    if isinstance(value, ast.Tuple):
        return all(_is_alias_or_constant(element) for element in value.elts)
    if isinstance(value, ast.Attribute):
        return _is_alias_or_constant(value.value) and not isinstance(value.value, ast.Constant)
    if isinstance(value, ast.Name):
        return True
    try:
        ast.literal_eval(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class QuestionResult:
    """The outcome of one graded test cell of an executed notebook. `checked` is False for a
    released cell with nothing visible to run (its tests are all hidden): it earned no points.
    `mistakes` are the catalogued mistakes its hidden checks recognised, as the grading record
    names them ({"function", "name", "hint"} each; none unless graded with the hidden tests)."""

    grade_id: str
    points: float
    max_points: float
    message: str = ""
    checked: bool = True
    mistakes: tuple[dict[str, str], ...] = ()

    @property
    def passed(self) -> bool:
        return self.points == self.max_points


def has_code(source: str) -> bool:
    """Whether a code cell's `source` does more than state docstrings, constants and comments (a
    released test cell whose tests are all hidden does not). Source that does not parse counts as
    code: running it is what reports the error."""
    try:
        body = ast.parse(python_source(source)).body
    except SyntaxError:
        return True
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) for node in body)


def question_results(executed_nb: NotebookNode) -> list[QuestionResult]:
    """Per-question results of an executed notebook: a test cell passes when it raised nothing."""
    results = []
    for cell in grade_cells(executed_nb):
        meta = nbgrader_meta(cell)
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        max_points = float(meta.get("points", 0))
        if errors:
            message = f"{errors[0].ename}: {errors[0].evalue}"
            results.append(QuestionResult(meta["grade_id"], 0.0, max_points, message))
        else:
            results.append(QuestionResult(meta["grade_id"], max_points, max_points))
    return results


def execute_notebook(nb: NotebookNode, working_dir: str | Path,
                     timeout: int = EXECUTION_TIMEOUT) -> NotebookNode:
    """Run every cell of a copy of `nb` in a fresh Python kernel and return the executed copy.

    Errors do not stop execution (every question is tried); the file on disk is never touched.
    """
    executed = nbformat.from_dict(nb)
    client = NotebookClient(executed, timeout=timeout, kernel_name="python3", allow_errors=True,
                            kernel_manager_class=LocalSocketKernelManager,
                            resources={"metadata": {"path": str(working_dir)}})
    client.execute()
    return executed


class LocalSocketKernelManager(KernelManager):
    """A kernel manager that talks to its kernel over Unix sockets in a private folder instead of TCP
    ports: no port that another user of the machine could reach, and no "running over TCP without
    encryption" warning from the kernel. The sockets are removed with the kernel."""

    def __init__(self, **kwargs):
        self._sockets = tempfile.TemporaryDirectory(prefix="dlkit-kernel-")
        super().__init__(transport="ipc", ip=os.path.join(self._sockets.name, "kernel"), **kwargs)

    def cleanup_resources(self, restart: bool = False) -> None:
        super().cleanup_resources(restart=restart)
        if not restart:
            self._sockets.cleanup()
