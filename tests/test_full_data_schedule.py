"""04's data cell on full-size data: the full training schedule for a student, the short one for
the grader (which runs every cell but grades no trained model), so that grading stays as fast."""
import nbformat
import numpy as np
import pytest

from assignments import paths
from assignments.formats import write_idx
from assignments.notebooks import cell_by_grade_id, execute_notebook, read_notebook


@pytest.fixture
def full_size_mnist(tmp_path, monkeypatch):
    """$DLKIT_DATA_DIR holding MNIST-format files of the full data set's size (blank images)."""
    folder = tmp_path / "data" / "mnist"
    for split, n in (("train", 60_000), ("t10k", 10_000)):
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", np.zeros((n, 28, 28), np.uint8))
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", np.arange(n, dtype=np.uint8) % 10)
    monkeypatch.setenv("DLKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DLKIT_DATASET", "mnist")


@pytest.mark.parametrize("execution, expected", [(None, "55000 True 10"), ("autograde", "500 False 8")])
def test_04_trains_the_full_schedule_except_when_graded(full_size_mnist, tmp_path, monkeypatch,
                                                          execution, expected):
    if execution:
        monkeypatch.setenv("NBGRADER_EXECUTION", execution)
    else:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    source = read_notebook(paths.SOURCE_DIR / "04_cnn" / "04_cnn.ipynb")
    cells = [cell_by_grade_id(source, "setup"), cell_by_grade_id(source, "load_data"),
             nbformat.v4.new_code_cell('print(len(data["X_train"]), FULL, epochs(10, 8))')]
    assert "epochs(10, 8)" in cell_by_grade_id(source, "train_cnn").source
    executed = execute_notebook(nbformat.v4.new_notebook(cells=cells), tmp_path)
    printed = "".join(output.get("text", "") for output in executed.cells[-1].outputs)
    assert printed.strip() == expected, executed.cells
