"""What must never reach students: solution code, hidden tests, grader imports."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "grader_tests")
SIGNIFICANT = 12
"""A region line this long (stripped) is specific enough that finding it elsewhere is a leak."""


def region_lines(source_dir: str | Path, begin: str, end: str) -> list[str]:
    """The significant lines between `### begin` and `### end` in every notebook of `source_dir`."""
    lines = []
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            inside = False
            for line in cell.source.splitlines():
                text = line.strip()
                if re.fullmatch(rf"#+\s*{begin}", text):
                    inside = True
                elif re.fullmatch(rf"#+\s*{end}", text):
                    inside = False
                elif inside and len(text) >= SIGNIFICANT and not text.startswith("#"):
                    lines.append(text)
    return lines


def hidden_test_lines(source_dir: str | Path) -> list[str]:
    """The significant lines of every hidden-test region in `source_dir`'s notebooks."""
    return region_lines(source_dir, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def find_leaks(source_dir: str | Path, release_dir: str | Path) -> list[str]:
    """Every place in `release_dir` showing a marker, a solution line or a hidden-test line.

    Returns a list of "file: what leaked" strings (empty when the release is clean). Files other
    than notebooks are leaks too: nbgrader copies them verbatim.
    """
    secret = (region_lines(source_dir, "BEGIN SOLUTION", "END SOLUTION")
              + hidden_test_lines(source_dir))
    leaks = []
    for path in sorted(Path(release_dir).rglob("*")):
        if not path.is_file():
            continue
        if path.suffix != ".ipynb":
            leaks.append(f"{path}: not a notebook (nbgrader copies such files verbatim)")
            continue
        text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
        leaks += [f"{path}: {marker!r}" for marker in MARKERS if marker in text]
        leaks += [f"{path}: {line!r}" for line in secret if line in text]
    return leaks
