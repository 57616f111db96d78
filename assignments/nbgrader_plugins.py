"""nbconvert preprocessors that nbgrader_config.py plugs into nbgrader's pipelines."""
from __future__ import annotations

from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells


class ClearGradedHiddenTests(ClearHiddenTests):
    """nbgrader's ClearHiddenTests, for test cells only.

    Test cells are the source's own (autograde restores them), so their hidden regions are well
    formed; a student's cell is the student's text, shown as written, even when it mentions
    `BEGIN HIDDEN TESTS` (nbgrader's own preprocessor then failed that student's feedback).
    """

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if not utils.is_grade(cell):
            return cell, resources
        return super().preprocess_cell(cell, resources, index)


class HideTestTracebacks(NbGraderPreprocessor):
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
