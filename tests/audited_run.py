"""One audited run of a notebook: executed with a hook in its kernel that records, per cell, the figures
it left open (and what they lack) and the tqdm progress bars it showed.

tests/conftest.py runs each reference notebook this way once per session, for
tests/test_student_experience.py (every question passes; plots and progress bars).
"""
import json

import nbformat

from assignments.notebooks import execute_notebook

HOOK = r'''
# Kit test hook (tests/audited_run.py): audit every cell's figures and progress bars.
import matplotlib
matplotlib.use("Agg")  # figures stay open after a cell, so the hook can inspect them
import matplotlib.pyplot as _ux_plt
import tqdm.std as _ux_tqdm
from IPython import get_ipython as _ux_ipython

_ux = {"cells": [], "bars": 0, "source": None}
_ux_init = _ux_tqdm.tqdm.__init__


def _ux_counting_init(self, *args, **kwargs):
    _ux_init(self, *args, **kwargs)
    if not self.disable:
        _ux["bars"] += 1


_ux_tqdm.tqdm.__init__ = _ux_counting_init


def _ux_shares(ax, axis):
    group = ax.get_shared_x_axes() if axis == "x" else ax.get_shared_y_axes()
    return group.get_siblings(ax)


def _ux_figure_problems(fig):
    suptitle = fig._suptitle.get_text().strip() if fig._suptitle is not None else ""
    axes = [ax for ax in fig.axes
            if ax.get_visible() and ax.get_label() != "<colorbar>" and ax.has_data()]
    problems = []
    if not axes:
        return problems
    if not suptitle and not all(ax.get_title().strip() for ax in axes):
        problems.append("no title (neither a suptitle nor a title on every axes)")
    for ax in axes:
        if not ax.axison or ax.images:
            continue  # an image: pixels need no axis labels
        for axis in ("x", "y"):
            labels = [(a.get_xlabel() if axis == "x" else a.get_ylabel()).strip()
                      for a in _ux_shares(ax, axis) if a.figure is fig]
            if not any(labels):
                name = ax.get_title() or suptitle or "untitled"
                problems.append(f"axes {name!r} has no {axis} label")
    return problems


def _ux_pre(info):
    _ux["bars"], _ux["source"] = 0, info.raw_cell


def _ux_post(result):
    problems, figures = [], 0
    for number in _ux_plt.get_fignums():
        figures += 1
        problems += _ux_figure_problems(_ux_plt.figure(number))
    _ux_plt.close("all")
    _ux["cells"].append({"source": _ux["source"], "figures": figures, "problems": problems,
                         "bars": _ux["bars"]})


_ux_ipython().events.register("pre_run_cell", _ux_pre)
_ux_ipython().events.register("post_run_cell", _ux_post)
'''

REPORT = 'print("UX-REPORT" + __import__("json").dumps(_ux["cells"][1:]))'


def execute_audited(nb, working_dir):
    """`nb` executed in `working_dir` with the hook as its first cell and the report as its last."""
    audited = nbformat.from_dict(nb)
    audited.cells.insert(0, nbformat.v4.new_code_cell(HOOK))
    audited.cells.append(nbformat.v4.new_code_cell(REPORT))
    executed = execute_notebook(audited, working_dir)
    hook_errors = [o for c in (executed.cells[0], executed.cells[-1]) for o in c.outputs
                   if o.output_type == "error"]
    assert not hook_errors, hook_errors
    return executed


def hook_records(executed):
    """The hook's record of every cell that ran: {"source", "figures", "problems", "bars"}."""
    text = "".join(o.get("text", "") for o in executed.cells[-1].outputs if o.output_type == "stream")
    return json.loads(text.split("UX-REPORT", 1)[1])
