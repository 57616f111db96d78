"""What grading one notebook writes into it besides the cells' own outputs.

- Error outputs that say what happened to a cell (`error_output`): a cell stopped, not run, or
  refused. nbformat allows an error output its name, message and traceback only.
- The grading record, `nb.metadata[STATUS_KEY]` (`GradingRecord.write`), that the grade table
  (`assignments.instructor.submission.executor_status`) and `python -m assignments check --hidden`
  read:
  `{"status": "ok" or the fault's kind, "detail": one line, "faults": [{"cell", "kind", "detail"}],
  "not_run": [cell names], "mistakes": {grade_id: [{"function", "name", "hint"}]}}`.
"""
from __future__ import annotations

from collections.abc import Sequence

from nbformat import NotebookNode

from assignments.instructor.submission import STATUS_KEY
from grader_tests.checking import Mutant


class GradingRecord:
    """What happened while one notebook ran: notes (the run went on), at most one fatal fault, the
    cells not run after it, and the catalogued mistakes the hidden checks named per cell."""

    def __init__(self):
        self.notes: list[dict] = []
        self.fault: dict | None = None
        self.not_run: list[str] = []
        self.mistakes: dict[str, list[dict]] = {}

    def note(self, kind: str, cell: str, detail: str) -> None:
        """Record something that happened in `cell` (once per cell and kind); the run goes on."""
        if not any(n["cell"] == cell and n["kind"] == kind for n in self.notes):
            self.notes.append({"cell": cell, "kind": kind, "detail": detail})

    def set_fault(self, kind: str, cell: str, detail: str) -> None:
        """Record the fault that ends the run (e.g. kind "timeout", "cpu", "tampering", "links")."""
        self.fault = {"cell": cell, "kind": kind, "detail": detail}

    def name_mistakes(self, cell: str, mistakes: Sequence[Mutant]) -> None:
        """Record the catalogued mistakes a failing hidden check of `cell` named, if any."""
        if mistakes:
            self.mistakes[cell] = [{"function": m.function, "name": m.name, "hint": m.hint} for m in mistakes]

    def write(self, nb: NotebookNode) -> None:
        """Store the record in `nb.metadata[STATUS_KEY]` (see the module docstring); the status and
        detail are the fault's, else the first note's, else "ok" and ""."""
        faults = self.notes + ([self.fault] if self.fault else [])
        main = self.fault or (faults[0] if faults else None)
        status, detail = (main["kind"], main["detail"]) if main else ("ok", "")
        if main and self.not_run:
            detail += f"; {len(self.not_run)} cells not run"
        nb.metadata[STATUS_KEY] = {"status": status, "detail": detail, "faults": faults,
                                   "not_run": self.not_run if main else [], "mistakes": self.mistakes}


def cell_name(cell: NotebookNode, index: int) -> str:
    """How the record names a cell: its grade_id, else "cell <its position from 1>"."""
    return cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"


def error_output(name: str, message: str) -> NotebookNode:
    """An error output `name: message`, as a cell that raised `name` shows it."""
    return NotebookNode(output_type="error", ename=name, evalue=message, traceback=[f"{name}: {message}"])
