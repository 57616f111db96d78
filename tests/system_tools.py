"""The system tools some tests need, and the check that stops the run before anything long starts
when a selected test needs one that is missing (instead of failing it minutes later)."""
import os
from pathlib import Path

from assignments.jail.sandbox import sandbox_problem

CHROMIUM = Path(os.environ.get("DLKIT_CHROMIUM", "/usr/bin/chromium"))
JAILED_MARKERS = ("nbgrader", "jail")  # tests that grade through nbgrader use the jail
SETUP_HINT = "run `bash setup.sh` as root (it installs the system packages), or `apt-get install {}`"


def missing_tools(items) -> list[str]:
    """What the selected test items need and this machine lacks, one line each with its remedy."""
    return _missing({marker.name for item in items for marker in item.iter_markers()})


def all_tools_present() -> bool:
    """Whether every system tool of the suite is here (then no selection of tests can miss one)."""
    return not _missing({"browser", *JAILED_MARKERS})


def _missing(markers: set[str]) -> list[str]:
    """What tests with these marker names need and this machine lacks, one line each with its remedy."""
    problems = []
    if "browser" in markers and not CHROMIUM.exists():
        problems.append(f"the browser tests need Chromium at {CHROMIUM}: " + SETUP_HINT.format("chromium")
                        + "; or leave them out with -m 'not browser'")
    jail_problem = sandbox_problem() if markers & set(JAILED_MARKERS) else None
    if jail_problem:
        problems.append(f"grading needs the bubblewrap jail, which cannot run: {jail_problem}; "
                        + SETUP_HINT.format("bubblewrap"))
    return problems
