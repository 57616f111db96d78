"""The student's and the instructor's real tools, driven in a headless Chromium (Playwright).

- A student opens a release notebook in JupyterLab, fills one answer cell, runs the cells, sees
  the image grid render and the visible test pass, and presses nbgrader's Validate.
- An instructor opens formgrader in the same JupyterLab (nbgrader's Lab extension) on a course
  with an autograded submission and finds it, with its score.

JupyterLab runs on 127.0.0.1 with a random port and token, in a scratch folder with its own
settings, and is stopped when the test ends. Screenshots are kept in test-artifacts/ (gitignored).
The tests fail (not skip) without Debian's chromium: `apt-get install chromium`.
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import nbformat
import pytest

from assignments import paths
from assignments.instructor.grading import Course
from assignments.notebooks import cell_by_grade_id, read_notebook
from grader_tests.mutants.softmax import softmax_normalised_over_batch
from tests.builders import SOFTMAX_NB, correct_submission, with_answer
from tests.system_tools import CHROMIUM

pytestmark = pytest.mark.browser

ARTIFACTS = paths.REPO_ROOT / "test-artifacts"
START_TIMEOUT = 60  # seconds for JupyterLab to answer
UI_TIMEOUT = 60_000  # milliseconds for the page to show something
RUN_TIMEOUT = 120_000  # milliseconds for cells or Validate to finish

# JupyterLab settings for a quiet, fully rendered page: every cell in the DOM, no news or update toasts.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def jupyter_lab(root, scratch):
    """JupyterLab serving `root` (also its working directory, where nbgrader looks for its config).

    Yields (base URL, token). Its settings, runtime files and workspaces live in `scratch`; the
    server and its kernels (one process group) are stopped on exit.
    """
    token, port = secrets.token_hex(24), _free_port()
    settings = scratch / "settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(scratch / "config"),
           "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(scratch / "workspaces"), "IPYTHONDIR": str(scratch / "ipython")}
    log = open(scratch / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
         f"--IdentityProvider.token={token}", *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert server.poll() is None, f"JupyterLab exited:\n{(scratch / 'jupyterlab.log').read_text()}"
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"JupyterLab did not answer in {START_TIMEOUT} s"
                time.sleep(0.5)
        yield url, token
    finally:
        _stop(server)
        log.close()


def _stop(server):
    """SIGTERM the server's process group (it and its kernels), SIGKILL after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium under Playwright; a missing browser is a failure, not a skip."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (setup.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT)
    page = context.new_page()
    yield page
    context.close()


def _screenshot(page_or_locator, name):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page_or_locator.screenshot(path=str(path))
    assert path.stat().st_size > 0
    return path


def _code_cell(page, text):
    """The code cell whose editor shows `text`."""
    return page.locator(".jp-CodeCell").filter(has=page.locator(".cm-content", has_text=text))


def _answer(grade_id):
    """The reference answer of 01's `grade_id` cell, without the solution markers."""
    source = cell_by_grade_id(read_notebook(paths.SOURCE_DIR / SOFTMAX_NB), grade_id).source
    return "\n".join(line for line in source.splitlines() if "### " not in line)


def test_student_fills_an_answer_runs_the_visible_test_sees_a_plot_and_validates(page, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(paths.RELEASE_DIR / "01_softmax", course / "01_softmax")
    (tmp_path / "lab").mkdir()
    with jupyter_lab(course, tmp_path / "lab") as (url, token):
        page.goto(f"{url}/lab/tree/01_softmax/01_softmax.ipynb?token={token}")
        answer = _code_cell(page, "def softmax(z):")
        answer.wait_for()
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()

        # Fill the answer cell the way a student types (the editor's auto-indent left out).
        answer.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(_answer("softmax"))

        # Run every cell above the visible test, then the test itself.
        test = _code_cell(page, '"""softmax: known values')
        test.locator(".jp-InputPrompt").click()
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Above Selected Cell").click()
        page.keyboard.press("Shift+Enter")
        test.locator(".jp-OutputArea-output", has_text="Visible softmax checks passed.").wait_for(
            timeout=RUN_TIMEOUT)
        plot = _code_cell(page, "fig = show_image_grid(").locator(".jp-RenderedImage img")
        plot.wait_for()
        assert plot.evaluate("img => img.naturalWidth") > 300, "the image grid did not render"
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                            has_text="Error").count() == 0
        plot.scroll_into_view_if_needed()
        _screenshot(page, "jupyterlab-plot.png")
        test.scroll_into_view_if_needed()
        _screenshot(page, "jupyterlab-visible-test.png")

        # nbgrader's Validate saves the notebook and runs it: softmax passes, the others fail.
        page.get_by_role("button", name="Validate").click()
        result = page.locator(".jp-Dialog .validation-failed")
        result.wait_for(timeout=RUN_TIMEOUT)
        _screenshot(page, "jupyterlab-validate.png")
        report = result.inner_text()
        assert "NotImplementedError" in report
        assert '"""softmax_cross_entropy, loss value' in report  # a failing test, quoted
        assert '"""softmax: known values' not in report  # the one answered passes

    saved = nbformat.read(course / "01_softmax" / "01_softmax.ipynb", as_version=4)
    assert "np.max(z, axis=1, keepdims=True)" in cell_by_grade_id(saved, "softmax").source


def test_instructor_finds_the_autograded_submission_in_formgrader(page, tmp_path):
    course = Course.scratch(tmp_path / "course", ["01_softmax"])
    folder = course.root / "submitted" / "ada" / "01_softmax"
    folder.mkdir(parents=True)
    nbformat.write(with_answer(correct_submission(SOFTMAX_NB), "softmax", softmax_normalised_over_batch),
                   folder / "01_softmax.ipynb")
    course.autograde("01_softmax", "ada")
    [row] = course.scores("01_softmax")
    assert row.student == "ada"
    (tmp_path / "lab").mkdir()
    with jupyter_lab(course.root, tmp_path / "lab") as (url, token):
        page.goto(f"{url}/lab?token={token}")
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Formgrader$")).click()
        formgrader = page.frame_locator("iframe[src*='formgrader']")
        formgrader.get_by_role("link", name="Manage Students").click()
        score = re.compile(rf"{row.score:g}\s*/\s*{row.max_score:g}")
        student = formgrader.locator("tr", has_text="ada")
        student.locator("td.score", has_text=score).wait_for()
        _screenshot(page, "formgrader-students.png")

        # The student's assignment, its notebook, then the graded notebook itself.
        student.get_by_role("link").first.click()
        formgrader.locator("tr", has_text="01_softmax").locator("td.score", has_text=score).wait_for()
        formgrader.get_by_role("link", name="01_softmax").click()
        formgrader.locator("tr", has_text="01_softmax").locator("td.score", has_text=score).wait_for()
        formgrader.get_by_role("link", name="01_softmax").click()
        graded = page.frame_locator("iframe[src*='formgrader']").locator("body")
        mistake = graded.get_by_text("known mistake: normalised over the whole batch").first
        mistake.wait_for()
        mistake.scroll_into_view_if_needed()
        _screenshot(page, "formgrader-submission.png")
