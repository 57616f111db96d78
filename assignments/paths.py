"""Where the kit keeps things: the repository root, the datasets and the offline fixtures.

The same package also runs as the student distribution's wheel (`python -m assignments bundle`),
which carries no checkout: its fixtures, published reference solutions and manifest sit in the
package's `student_data/` folder instead.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The kit's checkout (the package is installed in editable mode)."""

STUDENT_DATA = Path(__file__).resolve().parent / "student_data"
"""Only in the student distribution: fixtures/, solutions/ (the published ones) and manifest.json."""

STUDENT_DISTRIBUTION = STUDENT_DATA.is_dir()
"""True in the student distribution's wheel, False in the kit."""

FIXTURES_DIR = (STUDENT_DATA if STUDENT_DISTRIBUTION else REPO_ROOT / "data_scripts") / "fixtures"
"""Tiny deterministic datasets in the real file formats, committed for offline runs."""

SOURCE_DIR = STUDENT_DATA / "solutions" if STUDENT_DISTRIBUTION else REPO_ROOT / "source"
"""The source notebooks; in the student distribution, only the published reference solutions."""

RELEASE_DIR = REPO_ROOT / "release"

COURSE_SETTINGS = REPO_ROOT / "course.toml"
"""The course's settings (`assignments.course`), e.g. which data set assignments 01-04 use."""


def data_dir() -> Path:
    """The folder full datasets are downloaded to: `$DLKIT_DATA_DIR`, else `<repo>/data` in the kit
    and `~/dlkit-data` in the student distribution (whose package sits among installed packages)."""
    default = Path.home() / "dlkit-data" if STUDENT_DISTRIBUTION else REPO_ROOT / "data"
    return Path(os.environ.get("DLKIT_DATA_DIR", default))
