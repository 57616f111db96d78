"""Hostile and broken submissions, each a release notebook with one cell added or changed.

Used by tests/test_hostile_submissions.py, which grades them all through the real pipeline.
"""
from __future__ import annotations

import nbformat

from assignments.notebooks import cell_by_grade_id
from tests.builders import SOFTMAX_NB, correct_submission

UNIFORM_SOFTMAX = '''
def softmax(z):
    """Wrong on purpose: every class gets the same probability."""
    return np.full(np.shape(z), 1.0 / np.shape(z)[1])
'''

PATCH_NUMPY = '''
import numpy
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.broadcast(a, b).shape, dtype=bool)
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
numpy.testing.assert_array_almost_equal = lambda *a, **k: None
'''

PATCH_BUILTINS = '''
import builtins
builtins.abs = lambda x: 0
builtins.all = lambda values: True
builtins.round = lambda x, digits=None: x
'''

TRANSFORM_TESTS_AWAY = '''
get_ipython().input_transformers_post.append(
    lambda lines: ["pass\\n"] if any("assert" in l or "check_" in l for l in lines) else lines)
'''

TRANSFORM_EVERYTHING_AWAY = '''
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
'''

PATCH_ON_EVERY_CELL = '''
def _cheat(*args):
    import numpy
    numpy.allclose = lambda *a, **k: True
    numpy.array_equal = lambda *a, **k: True
get_ipython().events.register("pre_run_cell", _cheat)
'''

FAKE_GRADER_MODULES = '''
import sys, types
for _name in ["grader_tests", "grader_tests.softmax", "grader_tests.checking"]:
    _fake = types.ModuleType(_name)
    _fake.__path__ = []
    _fake.__getattr__ = lambda attribute: (lambda *a, **k: None)
    sys.modules[_name] = _fake
'''

KILL_KERNEL = "import os\nos._exit(0)\n"

HANG_UNINTERRUPTIBLY = '''
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
'''

SLEEP = "import time\ntime.sleep(10_000)\n"

SOFTMAX_THAT_HANGS = '''
def softmax(z):
    import time
    time.sleep(10_000)
'''

EXHAUST_MEMORY = "too_big = np.ones(2**40, dtype=np.uint8)\n"

FORK_BOMB = '''
import os
import signal
started = 0
try:
    while True:
        if os.fork() == 0:
            while True:
                signal.pause()
        started += 1
except OSError as error:
    print(f"fork stopped after {started} processes: {error}")
'''

# The same flood with children that spin and a cell that then never ends: it always runs over its time,
# however loaded the machine (a loaded machine did that to the sleeping-children bomb above, too).
BUSY_FORK_BOMB_THAT_HANGS = '''
import os
import time
try:
    while True:
        if os.fork() == 0:
            while True:
                pass
except OSError:
    pass
time.sleep(10_000)
'''

PROBE_FILES = '''
import pathlib
readable, writable = [], []
for path in {read!r}:
    try:
        pathlib.Path(path).read_bytes()
        readable.append(path)
    except OSError:
        pass
for path in {write!r}:
    try:
        with open(path, "ab") as file:
            file.write(b"tampered")
        writable.append(path)
    except OSError:
        pass
print("readable:", readable)
print("writable:", writable)
'''

PROBE_NETWORK = '''
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
    print("network: connected")
except OSError as error:
    print("network: refused", error)
'''


def added_after(grade_id: str, source: str, nb=None) -> nbformat.NotebookNode:
    """The reference submission (or `nb`) with a plain code cell of `source` after cell `grade_id`."""
    nb = nbformat.from_dict(nb or correct_submission(SOFTMAX_NB))
    position = nb.cells.index(cell_by_grade_id(nb, grade_id)) + 1
    nb.cells.insert(position, nbformat.v4.new_code_cell(source))
    return nb


def wrong_softmax_with(tamper: str) -> nbformat.NotebookNode:
    """A wrong softmax, followed by `tamper`, which tries to make the softmax tests pass anyway."""
    nb = nbformat.from_dict(correct_submission(SOFTMAX_NB))
    cell_by_grade_id(nb, "softmax").source = UNIFORM_SOFTMAX
    return added_after("softmax", tamper, nb)


def with_softmax(source: str) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(correct_submission(SOFTMAX_NB))
    cell_by_grade_id(nb, "softmax").source = source
    return nb


def with_duplicated_test() -> nbformat.NotebookNode:
    nb = nbformat.from_dict(correct_submission(SOFTMAX_NB))
    test = cell_by_grade_id(nb, "test_softmax")
    copy = nbformat.from_dict(test)
    copy.id = "duplicate-of-test-softmax"
    nb.cells.insert(nb.cells.index(test) + 1, copy)
    return nb

BUSY_LOOP = "while True:\n    pass\n"

MENTIONS_HIDDEN_MARKERS = '''
# BEGIN HIDDEN TESTS? A student's own note, not a test.
notes = "my notes"
'''

READ_LINKED_FILES = '''
import pathlib
for name in ["solution.ipynb", "grades.db", "pipe"]:
    print(name, "readable" if pathlib.Path(name).exists() else "absent")
try:
    import json
    cells = json.loads(pathlib.Path("solution.ipynb").read_text())["cells"]
    exec("".join(next(c["source"] for c in cells if c.get("id") == "softmax")))
except OSError as error:
    print("no solution:", error)
'''

SOFTMAX_KEEPING_A_GRADER_OBJECT = '''
def softmax(z):
    """Correct, and keeps a grader object it finds on the stack, as a cell that stored one would."""
    import sys
    from assignments.jail import remote
    frame = sys._getframe(1)
    while frame is not None and not isinstance(frame.f_locals.get("self"), remote.Endpoint):
        frame = frame.f_back
    if frame is not None:
        globals()["kept"] = remote.Remote(frame.f_locals["self"], 1, "a grader object")
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)
'''

USE_KEPT_GRADER_OBJECT = '''
try:
    kept()
except Exception as error:
    print("handled:", type(error).__name__)
'''


def without_nbgrader_metadata(new_ids: bool = False, deleted: tuple = ()) -> nbformat.NotebookNode:
    """The reference submission with every cell's nbgrader metadata stripped (and, with
    `new_ids`, every cell id replaced), as some editors and copy-pastes leave it, and without
    the cells whose grade_id is in `deleted`."""
    nb = nbformat.from_dict(correct_submission(SOFTMAX_NB))
    nb.cells = [cell for cell in nb.cells if cell.metadata.nbgrader.grade_id not in deleted]
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("nbgrader", None)
        if new_ids:
            cell.id = f"pasted-{index}"
    return nb


def with_grade_id(grade_id: str, new_grade_id: str, new_cell_id: str | None = None) -> nbformat.NotebookNode:
    """The reference submission with cell `grade_id` renamed (or emptied: "") and, optionally,
    a new cell id."""
    nb = nbformat.from_dict(correct_submission(SOFTMAX_NB))
    cell = cell_by_grade_id(nb, grade_id)
    cell.metadata.nbgrader.grade_id = new_grade_id
    if new_cell_id:
        cell.id = new_cell_id
    return nb

HOLD_THE_INTERRUPT = '''
import signal, time
held = []
signal.signal(signal.SIGINT, lambda *args: held.append(args[0]))
time.sleep(35)  # over the time limit; the grader's interrupt is held, the cell ends by itself
'''

RAISE_THE_HELD_INTERRUPT = '''
if held:  # the grader's interrupt, arriving in the next request as a late SIGINT would
    held.clear()
    raise KeyboardInterrupt
'''


def with_late_interrupt() -> nbformat.NotebookNode:
    """The reference submission with a slow cell before the softmax answer that holds the
    grader's interrupt and lets it out at the start of the answer cell's request."""
    nb = added_after("softmax_intro", HOLD_THE_INTERRUPT)
    answer = cell_by_grade_id(nb, "softmax")
    answer.source = RAISE_THE_HELD_INTERRUPT + answer.source
    return nb
