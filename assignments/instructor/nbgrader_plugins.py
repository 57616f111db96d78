"""nbconvert preprocessors that nbgrader_config.py plugs into nbgrader's pipelines."""
from __future__ import annotations

import ast
import copy
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells
from traitlets import List

RESTORE_NOTES = "dlkit_restored"
"""Notebook metadata key: what RestoreMissingCells could not put back in place, for the status."""


class FeedbackPreprocessor(NbGraderPreprocessor):
    """An nbgrader preprocessor of the feedback pipeline. nbconvert's HTML exporter configures
    `display_data_priority` for every converter; nbgrader's preprocessors do not declare it
    configurable, so each one warned "Config option `display_data_priority` not recognized"."""

    display_data_priority = List(NbGraderPreprocessor.display_data_priority.default_value, config=True)


class ClearGradedHiddenTests(ClearHiddenTests, FeedbackPreprocessor):
    """nbgrader's ClearHiddenTests (configured as `c.ClearHiddenTests`), for test cells only.

    Test cells are the source's own (autograde restores them), so their hidden regions are well
    formed; a student's cell is the student's text, shown as written, even when it mentions
    `BEGIN HIDDEN TESTS` (nbgrader's own preprocessor then failed that student's feedback).
    """

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if not utils.is_grade(cell):
            return cell, resources
        return super().preprocess_cell(cell, resources, index)


class HideTestTracebacks(FeedbackPreprocessor):
    """Reduce each error in a graded test cell to `Name: message`.

    A traceback quotes the failing lines of the test cell, hidden tests included; the assertion
    message alone says what was checked and which mistake it looks like.
    """

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class RestoreMissingCells(OverwriteCells):
    """nbgrader's OverwriteCells, putting damaged, deleted test and answer cells back where they belong.

    - A cell whose nbgrader metadata is gone (stripped by an editor or a copy-paste) or whose
      grade_id is one the source does not have (renamed, emptied) gets the metadata of the source
      cell it is back, so the student's answer is graded as that answer and a test cell is
      restored in place. It is that cell by its cell id, else by its content: the same text as a
      locked cell, or, for an answer, defining the functions and classes the answer cell
      defines. Otherwise a renamed grade cell becomes a plain cell (nbgrader 0.9.6 crashed on
      it, `KeyError: 'grade_id'`) and the original is restored.
    - nbgrader re-inserts a missing grade cell after the source cell just before it, but only
      looks that cell up among grade and answer cells: a deleted cell that follows a locked prose
      cell (a written answer after its question) crashes the whole submission's grading. Here the
      cell goes after the nearest preceding source cell that is still in the notebook. When that
      is not the cell just before it (nothing identifies it), `nb.metadata[RESTORE_NOTES]` says
      so, and the grading status shows it (assignments.jail.isolated_execute).
    - A duplicated cell (a student copied a test cell) is left by DeduplicateIds with empty nbgrader
      metadata, which made nbgrader's own lookup of task cells crash; it becomes a plain cell.
    - nbgrader warns "Attribute 'checksum' ... has changed!" for every test cell with hidden tests,
      since the release leaves them out; that change is expected and not reported. A locked cell
      whose text differs from the released one (the student edited it) is still reported.
    """

    def preprocess(self, nb: NotebookNode, resources: dict):
        grading = resources["nbgrader"]
        with Gradebook(grading["db_url"]) as gradebook:
            source_nb = gradebook.find_notebook(grading["notebook"], grading["assignment"])
            solutions = {cell.name for cell in source_nb.solution_cells}
            signatures = {cell.name: _signature(cell.cell_type, cell.source, cell.locked, cell.name in solutions)
                          for cell in source_nb.source_cells}
        by_cell_id = _source_metadata(self.config, grading["assignment"], grading["notebook"])
        by_grade_id = {meta["grade_id"]: meta for meta in by_cell_id.values()}
        present = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells}
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") in signatures:
                continue
            missing = signatures.keys() - present
            matching = by_cell_id.get(cell.get("id"), {}).get("grade_id")
            if matching not in missing:
                text = ("text", cell.cell_type, cell.source.strip())
                found = [name for name in missing if signatures[name] == text or _defines_all(cell, signatures[name])]
                matching = found[0] if len(found) == 1 else None
            if matching in by_grade_id:
                self.log.warning("Cell %s had lost its nbgrader metadata; it is restored", matching)
                cell.metadata["nbgrader"] = nbformat.from_dict(copy.deepcopy(by_grade_id[matching]))
                present.add(matching)
            elif "nbgrader" in cell.metadata:
                del cell.metadata["nbgrader"]  # a copy, or a grade id the source does not have: a plain cell
        return super().preprocess(nb, resources)

    def add_missing_grade_cells(self, nb: NotebookNode, resources: dict):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_cells = source_nb.source_cells
        source_ids = [cell.name for cell in source_cells]
        solution_ids = {cell.name for cell in source_nb.solution_cells}
        notes = []
        for grade_cell in source_nb.grade_cells:
            present = {cell.metadata.get("nbgrader", {}).get("grade_id"): i for i, cell in enumerate(nb.cells)}
            if grade_cell.name in present:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", grade_cell.name)
            position = source_ids.index(grade_cell.name)
            before = [name for name in source_ids[:position] if name in present]
            if position and source_ids[position - 1] not in present:
                notes.append(f"{grade_cell.name} was restored after {before[-1] if before else 'nothing (at the top)'}"
                             f": no cell of the notebook is {source_ids[position - 1]}, the cell before it")
            restored = self.missing_cell_transform(source_cells[position], grade_cell.max_score,
                                                   is_solution=grade_cell.name in solution_ids)
            restored.setdefault("id", grade_cell.name)
            nb.cells.insert(present[before[-1]] + 1 if before else 0, restored)
        if notes:
            nb.metadata[RESTORE_NOTES] = notes
        return nb, resources

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        self._cell_as_released = self._as_released(cell)
        return super().preprocess_cell(cell, resources, index)

    def report_change(self, name: str, attr: str, old, new) -> None:
        if not (attr == "checksum" and self._cell_as_released):
            super().report_change(name, attr, old, new)

    def _as_released(self, cell: NotebookNode) -> bool:
        """Whether the cell's text is its source cell's with the hidden tests left out, as released."""
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        try:
            source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        except MissingEntry:
            return False
        released = copy.deepcopy(cell)
        released.source = source.source
        try:
            ClearHiddenTests(enforce_metadata=False).preprocess_cell(released, {}, 0)
        except RuntimeError:  # unbalanced markers in the source: nothing to compare with
            return False
        return released.source == cell.source


def _signature(cell_type: str, source: str, locked: bool, solution: bool) -> tuple | None:
    """What identifies a source cell by its content: a locked cell's text, or the names an answer
    code cell defines (None: nothing does)."""
    if locked:
        return ("text", cell_type, source.strip())
    if solution and cell_type == "code":
        names = _defined_names(source)
        return ("defines", names) if names else None
    return None


def _defines_all(cell: NotebookNode, signature: tuple | None) -> bool:
    """Whether a code cell defines every function and class of an answer cell's `signature`."""
    return bool(signature) and signature[0] == "defines" and cell.cell_type == "code" \
        and signature[1] <= _defined_names(cell.source)


def _defined_names(source: str) -> frozenset[str]:
    """The functions and classes a cell defines at its top level (none when it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return frozenset()
    return frozenset(node.name for node in tree.body
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))


def _source_metadata(config, assignment: str, notebook: str) -> dict[str, dict]:
    """{cell id: nbgrader metadata} of the source notebook's cells that have a grade_id (none
    when the source notebook cannot be read)."""
    course = CourseDirectory(config=config)
    path = Path(course.format_path(course.source_directory, ".", assignment)) / f"{notebook}.ipynb"
    try:
        cells = nbformat.read(path, as_version=4).cells
    except (OSError, ValueError):
        return {}
    return {cell.id: dict(cell.metadata.nbgrader) for cell in cells
            if cell.get("id") and cell.metadata.get("nbgrader", {}).get("grade_id")}
