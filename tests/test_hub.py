"""The JupyterHub course of deploy/jupyterhub/ (assignments.instructor.hub): bounded student kernels, and
nbgrader's exchange between real local accounts: release, fetch, submit, collect, autograde,
feedback, fetch feedback.

Needs root (accounts are created with useradd) and a Python every account can run (Debian's
/usr/bin/python3.11 here, `DLKIT_HUB_PYTHON`); nothing is downloaded (`offline` environments).
"""
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from assignments import paths
from assignments.instructor.grading import Course, GradingError
from assignments.instructor.hub import HubCourse, _new_env, private_folder, setup_hub, write_kernelspec
from grader_tests.mutants.softmax import softmax_without_max_shift
from tests.builders import SOFTMAX_NB, correct_submission, with_answer

CHROMIUM = Path(os.environ.get("DLKIT_CHROMIUM", "/usr/bin/chromium"))
HUB_PYTHON = Path(os.environ.get("DLKIT_HUB_PYTHON", "/usr/bin/python3.11"))
TEACHER, ALICE, BOB, CAROL, DAN = ("dlkit-test-teacher", "dlkit-test-alice", "dlkit-test-bob", "dlkit-test-carol",
                                   "dlkit-test-dan")
PASSWORD = "dlkit-test-password"  # of these test accounts only


def _kernel_says(kernels_dir, code):
    """Start the `python3` kernel of `kernels_dir`, run `code`, return what it printed."""
    specs = KernelSpecManager(kernel_dirs=[str(kernels_dir)], ensure_native_kernel=False)
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=specs)
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        printed = []
        client.execute_interactive(code, timeout=120, output_hook=lambda msg: printed.append(
            msg["content"].get("text", "") if msg["msg_type"] == "stream" else
            msg["content"].get("ename", "") if msg["msg_type"] == "error" else ""))
        return "".join(printed)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_student_kernel_gets_one_blas_thread_and_a_memory_limit(tmp_path):
    write_kernelspec(tmp_path, Path(sys.executable), memory_bytes=3 * 1024**3, blas_threads=1)
    said = _kernel_says(tmp_path, (
        "import resource, numpy as np\nfrom threadpoolctl import threadpool_info\n"
        "print(resource.getrlimit(resource.RLIMIT_AS)[0], sorted({p['num_threads'] for p in threadpool_info()}))\n"
        "np.ones(4 * 1024**3 // 8)"))
    assert said.splitlines()[0] == f"{3 * 1024**3} [1]"  # every BLAS library loaded: 1 thread
    assert "MemoryError" in said  # 4 GiB of ones do not fit in 3 GiB of address space


def test_an_offline_hub_refuses_a_kit_its_accounts_cannot_read():
    top = Path(tempfile.mkdtemp(prefix="dlkit-private-"))  # not below pytest's folders, which are private
    try:
        top.chmod(0o755)
        kit = top / "private" / "kit"
        kit.mkdir(parents=True)
        (top / "private").chmod(0o700)
        assert private_folder(kit) == top / "private"
        with pytest.raises(GradingError, match=r"cannot read .*/private \(mode 700\): put the kit in a folder every"):
            _new_env(top / "env", HUB_PYTHON, [kit])
        assert not (top / "env").exists()
        (top / "private").chmod(0o755)
        assert private_folder(kit) is None
    finally:
        shutil.rmtree(top)


@pytest.fixture(scope="module")
def hub():
    """The hub's machine set up offline: accounts, exchange, course, the two environments."""
    if os.geteuid() != 0:
        pytest.fail("the hub test creates local accounts: run it as root")
    for user in (TEACHER, ALICE, BOB, CAROL, DAN):  # a former run's work of these test accounts
        try:
            shutil.rmtree(pwd.getpwnam(user).pw_dir)
        except KeyError:
            pass
    state = Path(tempfile.mkdtemp(prefix="dlkit-hub-"))  # not below pytest's folders, which are private
    state.chmod(0o755)
    course = HubCourse(TEACHER, (ALICE, BOB, CAROL, DAN), state, HUB_PYTHON)
    setup_hub(course, ["02_fully_connected"], password=PASSWORD, offline=True)
    yield course
    shutil.rmtree(state)


def _as(course, user, *command, cwd=None, check=True):
    """Run `command` as `user` in their home (or `cwd`), with the hub servers' environment."""
    home = pwd.getpwnam(user).pw_dir
    env = course.instructor_env if user == TEACHER else course.student_env
    run = subprocess.run(["runuser", "-u", user, "--", "env", "-i", f"HOME={home}", f"PATH={env / 'bin'}:/usr/bin:/bin",
                          f"JUPYTER_CONFIG_PATH={course.config_dir}", env / "bin" / "python", *command],
                         cwd=cwd or home, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 or not check, f"{user}: {' '.join(map(str, command))}\n{run.stdout}\n{run.stderr}"
    return run


def _give(path, user):
    """`path` and everything below it to `user` (root wrote it)."""
    owner = pwd.getpwnam(user)
    for p in [path, *path.rglob("*")]:
        os.chown(p, owner.pw_uid, owner.pw_gid)


def test_the_exchange_loop_between_local_accounts(hub):
    course_dir = hub.course_dir
    _as(hub, TEACHER, "-m", "nbgrader", "generate_assignment", "01_softmax", "--force", cwd=course_dir)
    _as(hub, TEACHER, "-m", "nbgrader", "release_assignment", "01_softmax", cwd=course_dir)

    # Alice answers every exercise, softmax with a known mistake, checks and submits; Bob submits
    # the untouched notebook.
    for student in (ALICE, BOB):
        _as(hub, student, "-m", "nbgrader", "fetch_assignment", "01_softmax")
    alice_nb = Path(pwd.getpwnam(ALICE).pw_dir) / "01_softmax" / "01_softmax.ipynb"
    alice_nb.write_text(nbformat.writes(with_answer(correct_submission(SOFTMAX_NB), "softmax",
                                                    softmax_without_max_shift)))
    _give(alice_nb, ALICE)
    checked = _as(hub, ALICE, "-m", "assignments", "check", alice_nb, check=False)
    assert checked.returncode == 1 and "test_softmax" in checked.stdout and "FAILED" in checked.stdout
    for student in (ALICE, BOB):
        _as(hub, student, "-m", "nbgrader", "submit", "01_softmax")

    _as(hub, TEACHER, "-m", "nbgrader", "collect", "01_softmax", cwd=course_dir)
    assert sorted(p.name for p in (course_dir / "submitted").iterdir()) == [ALICE, BOB]
    # The instructor grades in their own account (the jail without root: a user namespace).
    graded = _as(hub, TEACHER, "-m", "assignments", "autograde", "01_softmax", "--course-dir", course_dir)
    assert ALICE in graded.stdout and BOB in graded.stdout, graded.stdout
    _as(hub, TEACHER, "-m", "assignments", "feedback", "01_softmax", "--course-dir", course_dir)
    _as(hub, TEACHER, "-m", "nbgrader", "release_feedback", "01_softmax", cwd=course_dir)
    course = Course(course_dir)
    _as(hub, ALICE, "-m", "nbgrader", "fetch_feedback", "01_softmax")

    scores = {s.student: s for s in course.scores("01_softmax")}
    assert {student: s.score for student, s in scores.items()} == {ALICE: 10, BOB: 0}
    assert scores[ALICE].questions["test_softmax"] == (0, 2)
    feedback, = (Path(pwd.getpwnam(ALICE).pw_dir) / "01_softmax" / "feedback").glob("*/01_softmax.html")
    html = feedback.read_text()
    assert "known mistake: " in html and "BEGIN HIDDEN TESTS" not in html
    assert feedback.stat().st_uid == pwd.getpwnam(ALICE).pw_uid


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def jupyterhub(course):
    """JupyterHub of deploy/jupyterhub/ on free ports; yields its URL; it, its proxy and the
    servers it spawned are stopped on exit."""
    ports = {name: str(_free_port()) for name in ("DLKIT_HUB_PORT", "DLKIT_HUB_API_PORT", "DLKIT_PROXY_API_PORT")}
    log = open(course.state / "jupyterhub.log", "w")
    hub = subprocess.Popen([Path(sys.executable).parent / "jupyterhub", "-f",
                            paths.REPO_ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"],
                           env={**os.environ, **ports, "DLKIT_HUB_STATE": str(course.state)}, cwd=course.state,
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{ports['DLKIT_HUB_PORT']}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert hub.poll() is None, (course.state / "jupyterhub.log").read_text()
            try:
                with urllib.request.urlopen(f"{url}/hub/login", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "JupyterHub did not answer in 120 s"
                time.sleep(1)
        yield url
    finally:
        hub.send_signal(signal.SIGTERM)  # the hub stops the servers it spawned, then its proxy
        try:
            hub.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)
        log.close()


def _logged_in(browser, url, user):
    """A page of a new browser session in which `user` logged in to the hub with their password."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(180_000)
    page.goto(f"{url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(re.compile(f"/user/{user}/lab"))
    return page


def _in_formgrader(page, cell, done, shot):
    """Click the link in formgrader's table `cell`, check that the dialog it opens says `done`
    (e.g. "Successfully released"), keep a screenshot named `shot` and close the dialog."""
    cell.locator("a").first.click()
    message = page.locator(".modal-body p").filter(has_text=re.compile(f"{done}|There was an error"))
    message.wait_for()
    page.screenshot(path=str(paths.REPO_ROOT / "test-artifacts" / f"{shot}.png"))
    assert message.inner_text().startswith(done), page.locator(".modal-body").inner_text()
    page.locator(".modal-footer button").click()
    message.wait_for(state="detached")


def _fetched(browser, url, student):
    """(page, item): `student` logged in, fetched 01 in the Assignments tab; its item in the list."""
    page = _logged_in(browser, url, student)
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    released = page.locator("#released_assignments_list")
    released.locator(".list_item", has_text="01_softmax").first.get_by_role("button", name="Fetch").click()
    item = page.locator("#fetched_assignments_list").locator(".list_item", has_text="01_softmax").first
    item.wait_for()
    page.screenshot(path=str(paths.REPO_ROOT / "test-artifacts" / f"hub-assignments-fetched-{student}.png"))
    return page, item


def _validated(page, item, shot):
    """Press Validate on the fetched notebook; returns the text of nbgrader's results dialog."""
    item.locator("a.assignment-notebooks-link").click()  # shows the assignment's notebooks
    page.locator("#fetched_assignments_list").get_by_role("button", name="Validate").first.click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for()
    page.screenshot(path=str(paths.REPO_ROOT / "test-artifacts" / f"{shot}.png"))
    text = dialog.inner_text()
    dialog.get_by_role("button", name="Ok").click()
    dialog.wait_for(state="detached")
    return text


def _submitted(page, item, shot):
    item.get_by_role("button", name="Submit").click()
    page.locator("#submitted_assignments_list").locator(".list_item", has_text="01_softmax").first.wait_for()
    page.screenshot(path=str(paths.REPO_ROOT / "test-artifacts" / f"{shot}.png"))


@pytest.mark.browser
def test_a_course_runs_in_formgrader_and_the_assignments_tab(hub):
    """Through the hub in headless Chromium, each person logged in with their account's password:
    the instructor generates and releases 01 in formgrader; in the Assignments tab Carol fetches,
    validates and submits it (her softmax with a known mistake), and Dan fetches, validates (it
    fails) and submits it untouched; the instructor collects, autogrades both, generates and
    releases feedback in formgrader; Carol fetches her feedback in the tab, and it names her
    mistake; the grades are right for both."""
    from playwright.sync_api import sync_playwright

    course_dir = hub.course_dir
    (paths.REPO_ROOT / "test-artifacts").mkdir(exist_ok=True)
    with jupyterhub(hub) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        teacher = _logged_in(browser, url, TEACHER)
        teacher.goto(f"{url}/user/{TEACHER}/formgrader/manage_assignments")
        row = teacher.locator("tr").filter(has=teacher.locator("td.name", has_text="01_softmax"))
        row.locator("td.assign a").wait_for()
        if row.locator("td.release .glyphicon-remove").count():  # released by the test above: take it back
            _in_formgrader(teacher, row.locator("td.release"), "Successfully unreleased", "hub-formgrader-unreleased")
        _in_formgrader(teacher, row.locator("td.assign"), "Successfully created the student version",
                       "hub-formgrader-generated")
        _in_formgrader(teacher, row.locator("td.release"), "Successfully released", "hub-formgrader-released")

        carol, carol_item = _fetched(browser, url, CAROL)  # answers softmax with a known mistake
        home = Path(pwd.getpwnam(CAROL).pw_dir)
        notebook = home / "01_softmax" / "01_softmax.ipynb"
        assert notebook.stat().st_uid == pwd.getpwnam(CAROL).pw_uid
        notebook.write_text(nbformat.writes(with_answer(correct_submission(SOFTMAX_NB), "softmax",
                                                        softmax_without_max_shift)))
        validated = _validated(carol, carol_item, "hub-assignments-validated")  # a visible test catches it
        assert "The following cell failed" in validated and "softmax overflowed" in validated, validated
        _submitted(carol, carol_item, "hub-assignments-submitted")
        dan, dan_item = _fetched(browser, url, DAN)  # submits the notebook as fetched
        assert "failed" in _validated(dan, dan_item, "hub-assignments-validated-untouched").lower()
        _submitted(dan, dan_item, "hub-assignments-submitted-untouched")

        teacher.reload()
        row.locator("td.collect a").wait_for()
        _in_formgrader(teacher, row.locator("td.collect"), "Successfully collected", "hub-formgrader-collected")
        teacher.goto(f"{url}/user/{TEACHER}/formgrader/manage_submissions/01_softmax")
        for student in (CAROL, DAN):
            submission = teacher.locator("tr").filter(has=teacher.locator("td.student-id", has_text=student))
            _in_formgrader(teacher, submission.locator("td.autograde"), "Successfully autograded",
                           "hub-formgrader-autograded")
        teacher.goto(f"{url}/user/{TEACHER}/formgrader/manage_assignments")
        row.locator("td.generate-feedback a").wait_for()
        _in_formgrader(teacher, row.locator("td.generate-feedback"), "Successfully generated feedback",
                       "hub-formgrader-feedback")
        _in_formgrader(teacher, row.locator("td.release-feedback"), "Successfully released feedback",
                       "hub-formgrader-feedback-released")

        carol.locator("#submitted_assignments_list").get_by_role("button", name="Fetch Feedback").first.click()
        deadline = time.monotonic() + 120
        while not list((home / "01_softmax" / "feedback").glob("*/01_softmax.html")):
            assert time.monotonic() < deadline, "no feedback reached Carol's folder"
            time.sleep(1)
        carol.screenshot(path=str(paths.REPO_ROOT / "test-artifacts" / "hub-assignments-feedback.png"))
        browser.close()
    scores = {s.student: s.score for s in Course(course_dir).scores("01_softmax")}
    assert (scores[CAROL], scores[DAN]) == (10, 0)
    feedback, = (home / "01_softmax" / "feedback").glob("*/01_softmax.html")
    assert "known mistake: " in feedback.read_text() and "BEGIN HIDDEN TESTS" not in feedback.read_text()
