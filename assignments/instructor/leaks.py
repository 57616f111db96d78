"""What must never reach students: solution code, model answers, hidden tests, grader imports."""
from __future__ import annotations

import hashlib
import html as htmllib
import re
import stat
from pathlib import Path

import nbformat

from assignments.instructor.markers import HIDDEN, MARKERS, SOLUTION, parse

SIGNS = (*MARKERS, "grader_tests")
"""Text that never appears in a released notebook: the region markers and the hidden checks' package."""
SIGNIFICANT = 12
"""A secret line this long (stripped) is specific enough that finding it elsewhere is a leak."""


def _split_cell(cell) -> tuple[dict[str, list[str]], list[str]]:
    """A cell's lines sorted into its secret regions ('solution', 'hidden', 'answer') and the rest.

    Marker lines are in neither; an unterminated region is secret to the end of the cell.
    """
    secret: dict[str, list[str]] = {SOLUTION: [], HIDDEN: [], "answer": []}
    public = []
    is_answer = (cell.cell_type == "markdown"
                 and cell.get("metadata", {}).get("nbgrader", {}).get("solution"))
    for line in parse(cell.source):
        text = line.text.strip()
        if line.marker:
            continue
        if is_answer:
            secret["answer"].append(text)
        elif line.region:
            secret[line.region].append(text)
        else:
            public.append(text)
    return secret, public


def secret_lines(source_dir: str | Path, kind: str) -> list[str]:
    """The significant lines of one kind of secret ('solution', 'hidden' or 'answer') in
    `source_dir`'s notebooks that do not also appear in what students are shown anyway."""
    secret, public = [], set()
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            regions, shown = _split_cell(cell)
            secret += regions[kind]
            public.update(shown)
    public_text = "\n".join(public)
    return [line for line in dict.fromkeys(secret)
            if len(line) >= SIGNIFICANT and not line.startswith("#") and line not in public_text]


def hidden_test_lines(source_dir: str | Path) -> list[str]:
    """The significant lines of every hidden-test region in `source_dir`'s notebooks."""
    return secret_lines(source_dir, "hidden")


def find_leaks(source_dir: str | Path, release_dir: str | Path) -> list[str]:
    """Every place in `release_dir` showing a marker, a solution, a model answer or a hidden test.

    Returns a list of "file: what leaked" strings (empty when the release is clean). Files other
    than notebooks are leaks too: nbgrader copies them verbatim.
    """
    secret = [line for kind in ("solution", "hidden", "answer") for line in secret_lines(source_dir, kind)]
    leaks = []
    for path in sorted(Path(release_dir).rglob("*")):
        if not path.is_file():
            continue
        if path.suffix != ".ipynb":
            leaks.append(f"{path}: not a notebook (nbgrader copies such files verbatim)")
            continue
        text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
        leaks += [f"{path}: {sign!r}" for sign in SIGNS if sign in text]
        leaks += [f"{path}: {line!r}" for line in secret if line in text]
    return leaks


SQLITE_HEADER = b"SQLite format 3\x00"


def unsafe_feedback_files(folder: str | Path, source_dir: str | Path, protected: list[Path],
                          own_text: str = "", grader_text: str = "") -> list[tuple[Path, str]]:
    """Every file of one student's feedback folder that must not reach the student.

    Inputs:
    - folder: `feedback/<student>/<assignment>/`, as `nbgrader generate_feedback` wrote it (the
      HTML and a copy of every other file of `autograded/`).
    - source_dir: the assignment's source notebooks (whose hidden tests and solutions are secret).
    - protected: files and folders whose content must never be shown (grader_tests/, the
      gradebook, the course's nbgrader_config.py, source/).
    - own_text: what the student wrote (their submitted notebook): their own lines are no leak.
    - grader_text: the hidden checks' own source (grader_tests/): a solution line that their
      failure messages quote on purpose ("expected dx = dout * (x > 0)") is no leak.
    Returns (file, why) for each symbolic link or special file, SQLite database (a gradebook),
    copy of a protected file, and file showing a hidden-test or solution line (HTML read as text).
    """
    own_text += "\n" + own_text.replace("`", "")  # markdown's inline code reads without its backticks in HTML
    secret = [line for line in secret_lines(source_dir, "hidden") if line not in own_text]
    secret += [line for line in secret_lines(source_dir, "solution") if line not in own_text + grader_text]
    digests = {_digest(path) for root in protected for path in _files(Path(root))}
    unsafe = []
    for path in sorted(Path(folder).rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISDIR(mode):
            continue
        if not stat.S_ISREG(mode):
            unsafe.append((path, "a symbolic link or special file"))
            continue
        data = path.read_bytes()
        if data.startswith(SQLITE_HEADER):
            unsafe.append((path, "an SQLite database (a gradebook?)"))
        elif hashlib.sha256(data).hexdigest() in digests:
            unsafe.append((path, "a copy of a grading file"))
        else:
            text = _visible_text(data, html=path.suffix in (".html", ".htm"))
            shown = [line for line in secret if line in text]
            if shown:
                unsafe.append((path, f"shows hidden test or solution lines {shown[:3]}"))
    return unsafe


def _visible_text(data: bytes, html: bool) -> str:
    """A file's text as a reader sees it (HTML: without tags and entities)."""
    text = data.decode("utf-8", errors="replace")
    if html:
        text = htmllib.unescape(re.sub(r"<[^>]*>", "", text))
    return text


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()] if root.is_dir() else []


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
