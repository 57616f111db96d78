"""Test accuracy and time per epoch of the reference notebooks' main models on the full data set.

Runs, for each of 01, 02 and 04, the reference (source) notebook's setup cell, its data cell, every
solution cell and its main training cell (01 `train_main`, the softmax classifier; 02 `tuned_mlp`;
04 `train_cnn`, the ThreeLayerConvNet) in a fresh kernel, with the schedule the notebook itself
chooses for the full data set; then records in benchmarks/results.json the test accuracy, the
epochs and the seconds per epoch (the training cell's wall time over its epochs, the accuracy
checks after each epoch included), next to the target of `assignments.course.ACCURACY_TARGETS`.
The visible tests and the other experiments are left out: they do not change the main model.

The data set is the course's (course.toml), or --dataset; it must have been fetched in full
(python data_scripts/get_mnist.py, python data_scripts/get_fashion_mnist.py). Exits with status 1
when a model misses its target. A run takes minutes (04: several); --note records the conditions
(e.g. "machine shared with other jobs").

    python benchmarks/bench_accuracy.py [--assignments 01_softmax 02_fully_connected 04_cnn]
                                        [--dataset mnist|fashion-mnist] [--note TEXT]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile

import nbformat

from assignments import course, paths
from assignments.data import FETCH_COMMANDS, load_mnist, locate_dataset
from assignments.notebooks import execute_notebook, nbgrader_meta, read_notebook
from results import record

MAIN_MODELS = {  # assignment: (data cell, training cell, expressions giving test accuracy and epochs)
    "01_softmax": ("load_data", "train_main", "test_acc", "result['epochs_run']"),
    "02_fully_connected": ("experiment_data", "tuned_mlp", "test_acc", "solver.num_epochs"),
    "04_cnn": ("load_data", "train_cnn", "cnn_test_acc", "cnn_solver.num_epochs"),
}
RESULT_MARK = "bench_accuracy result: "


def training_notebook(assignment: str) -> nbformat.NotebookNode:
    """The reference notebook of `assignment` cut down to what its main model needs, plus a last
    cell that prints the test accuracy and the epochs as JSON after RESULT_MARK."""
    data_cell, train_cell, accuracy, epochs = MAIN_MODELS[assignment]
    nb = read_notebook(paths.SOURCE_DIR / assignment / f"{assignment}.ipynb")
    keep = {"setup", data_cell, train_cell}
    nb.cells = [cell for cell in nb.cells if cell.cell_type == "code" and (
        nbgrader_meta(cell).get("grade_id") in keep or nbgrader_meta(cell).get("solution"))]
    nb.cells.append(nbformat.v4.new_code_cell(
        f"import json\nprint({RESULT_MARK!r} + json.dumps("
        f"{{'accuracy': float({accuracy}), 'epochs': int({epochs})}}))"))
    return nb


def cell_seconds(cell: nbformat.NotebookNode) -> float:
    """Wall time of an executed cell, from the timing nbclient records in its metadata."""
    timing = cell.metadata["execution"]
    start, end = (datetime.datetime.fromisoformat(timing[key].replace("Z", "+00:00"))
                  for key in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


def measure(assignment: str) -> dict:
    """Run the main model of `assignment`; returns its accuracy, epochs and seconds per epoch."""
    nb = training_notebook(assignment)
    with tempfile.TemporaryDirectory() as scratch:
        executed = execute_notebook(nb, scratch, timeout=3600)
    errors = [output for cell in executed.cells for output in cell.get("outputs", [])
              if output.output_type == "error"]
    if errors:
        raise RuntimeError(f"{assignment}: {errors[0].ename}: {errors[0].evalue}")
    printed = "".join(output.get("text", "") for output in executed.cells[-1].outputs)
    result = json.loads(printed.split(RESULT_MARK, 1)[1])
    train_cell = next(cell for cell in executed.cells
                      if nbgrader_meta(cell).get("grade_id") == MAIN_MODELS[assignment][1])
    return {**result, "seconds_per_epoch": cell_seconds(train_cell) / result["epochs"]}


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (1: data not full, or a model missed its target)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="+", choices=sorted(MAIN_MODELS), default=sorted(MAIN_MODELS))
    parser.add_argument("--dataset", choices=course.DATASETS, help="default: the course's (course.toml)")
    parser.add_argument("--note", default="", help="conditions of the run, recorded with the figures")
    args = parser.parse_args(argv)
    dataset = args.dataset or course.dataset()
    os.environ["DLKIT_DATASET"] = dataset  # the notebooks' kernels inherit it
    directory, description = locate_dataset(dataset)
    if len(load_mnist(directory, dataset)[0]) < 60_000:
        print(f"error: {description} in {directory} is not the full data set; fetch it first "
              f"({FETCH_COMMANDS[dataset]})", file=sys.stderr)
        return 1
    missed = []
    for assignment in args.assignments:
        target = course.ACCURACY_TARGETS[dataset][assignment]
        result = measure(assignment)
        record("bench_accuracy", f"{assignment} on {dataset}",
               {"test accuracy": round(result["accuracy"], 4), "target": target, "epochs": result["epochs"],
                "seconds per epoch": round(result["seconds_per_epoch"], 1)}, note=args.note)
        verdict = "reaches" if result["accuracy"] >= target else "MISSES"
        print(f"{assignment} on {dataset}: test accuracy {result['accuracy']:.4f} ({verdict} the target "
              f"{target:.2f}) after {result['epochs']} epochs of {result['seconds_per_epoch']:.1f} s")
        if result["accuracy"] < target:
            missed.append(assignment)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
