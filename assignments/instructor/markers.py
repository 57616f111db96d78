"""The markers of nbgrader's regions, defined once, and the one parser that finds them.

An answer cell keeps its solution between `### BEGIN SOLUTION` and `### END SOLUTION`; a test cell
keeps its hidden tests between `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`. A marker line
holds nothing but the marker in a comment: any indentation, one or more `#`, spaces around it
(`# BEGIN HIDDEN TESTS? my note` is no marker). Inside a region only its own END marker counts;
any other marker line there is part of the region, as nbgrader allows no nesting. A region
without its END marker runs to the end of the cell and is unterminated: each caller decides what
that means (a leak check counts it as secret, the grader runs it as visible code).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SOLUTION, HIDDEN = "solution", "hidden"
REGIONS = {SOLUTION: ("BEGIN SOLUTION", "END SOLUTION"), HIDDEN: ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")}
"""Each region's (begin, end) marker text."""
MARKERS = tuple(text for pair in REGIONS.values() for text in pair)
"""Every marker text: begin and end of the solution, then begin and end of the hidden tests."""


@dataclass(frozen=True)
class Line:
    """One line of a cell's source, as `parse` places it.

    - text: the line, with its line ending (joining the texts gives the source back).
    - region: SOLUTION or HIDDEN for a line of a region, its marker lines included; None outside.
    - marker: the line is the BEGIN or END marker of its region.
    - terminated: the line's region has its END marker (True outside any region).
    """

    text: str
    region: str | None
    marker: bool = False
    terminated: bool = True


def is_marker(line: str, text: str) -> bool:
    """Whether `line` (with or without its line ending) is a marker line of the marker `text`."""
    return re.fullmatch(rf"\s*#+\s*{re.escape(text)}\s*", line) is not None


def parse(source: str) -> list[Line]:
    """The lines of a cell's `source`, each with the region it is in (see the module docstring).

    Inputs: source, a cell's text (lines end in "\\n" or any line break str.splitlines knows).
    Returns one Line per line of `source`, in order.
    """
    lines: list[Line] = []
    region, start = None, 0  # the open region and the index of its BEGIN line
    for text in source.splitlines(keepends=True):
        if region is None:
            region = next((name for name, (begin, _) in REGIONS.items() if is_marker(text, begin)), None)
            start = len(lines)
            lines.append(Line(text, region, marker=region is not None))
        elif is_marker(text, REGIONS[region][1]):
            lines.append(Line(text, region, marker=True))
            region = None
        else:
            lines.append(Line(text, region))
    if region is not None:  # unterminated: to the end of the cell
        lines[start:] = [Line(line.text, region, line.marker, terminated=False) for line in lines[start:]]
    return lines
