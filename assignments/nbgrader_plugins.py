"""nbconvert preprocessors that nbgrader_config.py plugs into nbgrader's pipelines."""
from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode


class HideTestTracebacks(Preprocessor):
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
