"""nbconvert preprocessors that nbgrader_config.py plugs into nbgrader's pipelines."""
from __future__ import annotations

import copy

from nbformat import NotebookNode
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells
from traitlets import List


class FeedbackPreprocessor(NbGraderPreprocessor):
    """An nbgrader preprocessor of the feedback pipeline. nbconvert's HTML exporter configures
    `display_data_priority` for every converter; nbgrader's preprocessors do not declare it
    configurable, so each one warned "Config option `display_data_priority` not recognized"."""

    display_data_priority = List(NbGraderPreprocessor.display_data_priority.default_value, config=True)


class FeedbackClearHiddenTests(ClearHiddenTests, FeedbackPreprocessor):
    """nbgrader's ClearHiddenTests (configured as `c.ClearHiddenTests`), without that warning."""


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
    """nbgrader's OverwriteCells, putting deleted test and answer cells back where they belong.

    nbgrader 0.9.6 re-inserts a missing grade cell after the source cell just before it, but only
    looks that cell up among grade and answer cells: a deleted cell that follows a locked prose
    cell (a written answer after its question) crashes the whole submission's grading. Here the
    cell goes after the nearest preceding source cell that is still in the notebook.

    A duplicated cell (a student copied a test cell) is left by DeduplicateIds with empty nbgrader
    metadata, which made nbgrader's own lookup of task cells crash; it becomes a plain cell.

    nbgrader warns "Attribute 'checksum' ... has changed!" for every test cell with hidden tests,
    since the release leaves them out; that change is expected and not reported. A locked cell
    whose text differs from the released one (the student edited it) is still reported.
    """

    def preprocess(self, nb: NotebookNode, resources: dict):
        for cell in nb.cells:
            if cell.metadata.get("nbgrader") == {}:
                del cell.metadata["nbgrader"]
        return super().preprocess(nb, resources)

    def add_missing_grade_cells(self, nb: NotebookNode, resources: dict):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_cells = source_nb.source_cells
        source_ids = [cell.name for cell in source_cells]
        solution_ids = {cell.name for cell in source_nb.solution_cells}
        for grade_cell in source_nb.grade_cells:
            present = {cell.metadata.get("nbgrader", {}).get("grade_id"): i for i, cell in enumerate(nb.cells)}
            if grade_cell.name in present:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", grade_cell.name)
            position = source_ids.index(grade_cell.name)
            before = [present[name] for name in source_ids[:position] if name in present]
            restored = self.missing_cell_transform(source_cells[position], grade_cell.max_score,
                                                   is_solution=grade_cell.name in solution_ids)
            restored.setdefault("id", grade_cell.name)
            nb.cells.insert(max(before) + 1 if before else 0, restored)
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
