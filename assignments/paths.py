"""Where the kit keeps things: the repository root, the datasets and the offline fixtures."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The kit's checkout (the package is installed in editable mode)."""

FIXTURES_DIR = REPO_ROOT / "data_scripts" / "fixtures"
"""Tiny deterministic datasets in the real file formats, committed for offline runs."""

SOURCE_DIR = REPO_ROOT / "source"
RELEASE_DIR = REPO_ROOT / "release"

COURSE_SETTINGS = REPO_ROOT / "course.toml"
"""The course's settings (`assignments.course`), e.g. which data set assignments 01-04 use."""


def data_dir() -> Path:
    """The folder full datasets are downloaded to: `$DLKIT_DATA_DIR`, else `<repo>/data`."""
    return Path(os.environ.get("DLKIT_DATA_DIR", REPO_ROOT / "data"))
