"""nbgrader settings of the course kit (read by every nbgrader command run from this folder)."""
import os
import warnings

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,
                                    DeduplicateIds, GetGrades, IgnorePattern, LimitOutput, OverwriteKernelspec,
                                    SaveAutoGrades)
from sqlalchemy.exc import SAWarning

from assignments.instructor.submission import STATUS_KEY
from assignments.notebooks import EXECUTION_TIMEOUT

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

# nbgrader 0.9.6 under SQLAlchemy 2 warns "Object of type <SubmittedAssignment> not in session, add
# operation along ... will not proceed" for every new submission; the rows are written all the same.
warnings.filterwarnings("ignore", r"Object of type <Submitted\w+> not in session", SAWarning)

c.CourseDirectory.course_id = "dl-course-kit"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
# The kit's commands hand nbgrader a shared gradebook (--db-url) in this variable, not on the command
# line, where its password would show in every process listing. (For formgrader, set db_url here.)
if os.environ.get("DLKIT_GRADEBOOK_URL"):
    c.CourseDirectory.db_url = os.environ["DLKIT_GRADEBOOK_URL"]
# Python files are never assignment material: a solution in one would be copied verbatim into the
# release. (Submitted data files such as 05's cifar10_model.npz must still reach the autograder,
# and `python -m assignments release` fails on any non-notebook file in release/.)
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.py"]

# Training cells need minutes on full data, but a hanging cell must not hang grading forever.
c.Execute.timeout = EXECUTION_TIMEOUT
c.Execute.startup_timeout = 120
c.Execute.interrupt_on_timeout = True

# A test or answer cell that a student deleted is put back and graded instead of silently ignored
# (RestoreMissingCells is nbgrader's OverwriteCells with the re-insertion fixed for cells that follow
# locked prose, see assignments/instructor/nbgrader_plugins.py).
c.OverwriteCells.add_missing_cells = True
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    "assignments.instructor.nbgrader_plugins.RestoreMissingCells",
    CheckCellMetadata,
]

# The student's kernel runs jailed and the hidden tests run in the grader, out of the notebook's
# reach (see assignments/jail/isolated_execute.py); faults are recorded in the notebook's metadata.
c.Autograde.autograde_preprocessors = [
    "assignments.jail.isolated_execute.IsolatedExecute",
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.ClearMetadataPreprocessor.preserve_nb_metadata_mask = {("language_info", "name"), (STATUS_KEY,)}

# nbgrader scores a test cell 0 when it wrote anything to stderr; warnings and tqdm progress bars
# do that for correct code. Failures in this kit are always raised exceptions, so stderr is dropped.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?s)."

# Feedback shows the student's mistake (the assertion message) but never hidden test code;
# a student's own cell is shown as written, even when it mentions the hidden-test markers.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    "assignments.instructor.nbgrader_plugins.ClearGradedHiddenTests",
    "assignments.instructor.nbgrader_plugins.HideTestTracebacks",
    CSSHTMLHeaderPreprocessor,
]
c.ClearHiddenTests.enforce_metadata = False
