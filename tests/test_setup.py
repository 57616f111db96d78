"""A newcomer's first steps: the README's two commands are what CI runs, `setup.sh` says what is
missing and how to get it, and the demo and the suite stop at once when a system tool is missing."""
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assignments import paths
from assignments.instructor import demo
from assignments.cli import main
from assignments.instructor.grading import GradingError

SETUP = paths.REPO_ROOT / "setup.sh"


def readme_commands() -> list[str]:
    """The README's two commands, in order: its shell blocks that start with `bash setup.sh && `
    (the demo, for instructors, and the test suite, for developers)."""
    readme = (paths.REPO_ROOT / "README.md").read_text()
    blocks = [block.strip() for block in re.findall(r"```bash\n(.*?)```", readme, re.S)]
    return [block for block in blocks if block.startswith("bash setup.sh && ")]


def test_ci_runs_exactly_the_readme_s_two_commands():
    commands = readme_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    ci = (paths.REPO_ROOT / ".ci" / "run").read_text().splitlines()
    steps = [line for line in ci if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert steps == commands


def minimal_path(folder: Path, *extra: str) -> str:
    """A PATH that holds the basic tools setup.sh uses, `extra` ones, and an `id` that answers as an
    ordinary user (uid 1000): no bwrap, no chromium, no sudo."""
    folder.mkdir()
    os.symlink(os.path.realpath(sys.executable), folder / "python3")
    for tool in ("dirname", "cat", "sort", "tr", "sha256sum", "cut", *extra):
        os.symlink(shutil.which(tool), folder / tool)
    (folder / "id").write_text("#!/bin/sh\necho 1000\n")
    (folder / "id").chmod(0o755)
    return str(folder)


def kit_copy(folder: Path, venv_ready: bool) -> Path:
    """setup.sh with the files it reads; with `venv_ready`, a .venv whose install stamp matches, so
    setup.sh has nothing to pip-install."""
    for name in ("setup.sh", "requirements.txt", "pyproject.toml"):
        shutil.copy(paths.REPO_ROOT / name, folder / name)
    if venv_ready:
        (folder / ".venv" / "bin").mkdir(parents=True)
        os.symlink(sys.executable, folder / ".venv" / "bin" / "python")
        stamp = hashlib.sha256((folder / "requirements.txt").read_bytes() + (folder / "pyproject.toml").read_bytes())
        (folder / ".venv" / ".installed").write_text(stamp.hexdigest() + "\n")
    return folder


def run_setup(kit: Path, path: str, *args: str) -> subprocess.CompletedProcess:
    """`bash setup.sh ARGS` in `kit` with that PATH."""
    return subprocess.run(["/bin/bash", str(kit / "setup.sh"), *args], capture_output=True, text=True,
                          env={"PATH": path, "HOME": str(kit)}, cwd=kit)


def test_setup_check_names_each_missing_tool_with_its_package_and_use(tmp_path):
    kit = kit_copy(tmp_path, venv_ready=False)
    done = run_setup(kit, minimal_path(kit / "bin"), "--check")
    assert done.returncode == 1
    assert "missing: bwrap (Debian package bubblewrap), for the grading jail" in done.stdout
    assert "missing: chromium (Debian package chromium), for the browser tests" in done.stdout
    assert "missing: the virtual environment .venv" in done.stdout


def test_setup_without_root_says_which_command_to_ask_for_and_fails(tmp_path):
    kit = kit_copy(tmp_path, venv_ready=True)
    done = run_setup(kit, minimal_path(kit / "bin", "apt-get"))
    assert done.returncode == 1
    assert ("not root and no password-less sudo: ask an administrator to run  sudo apt-get install "
            "bubblewrap chromium npm") in done.stdout
    assert "missing: configurable-http-proxy (npm package configurable-http-proxy@" in done.stdout
    assert "the Python side is ready, but grading and the tests need the packages above" in done.stdout


def test_setup_check_passes_on_this_machine():
    done = subprocess.run(["bash", str(SETUP), "--check"], capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "setup: everything is installed")


def test_the_suite_stops_before_any_test_when_chromium_is_missing():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/test_browser.py"], capture_output=True,
                          text=True, cwd=paths.REPO_ROOT, env={**os.environ, "DLKIT_CHROMIUM": "/nonexistent/chromium"})
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "the browser tests need Chromium at /nonexistent/chromium: run `bash setup.sh` as root" in done.stdout
    assert "-m 'not browser'" in done.stdout and " passed" not in done.stdout


def test_the_demo_stops_before_any_long_step_without_the_jail(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(demo, "sandbox_problem", lambda: "bwrap, prlimit not found: apt-get install bubblewrap")
    monkeypatch.setattr(demo, "release_differences", lambda name: pytest.fail("the demo went on"))
    assert main(["demo", "--workdir", str(tmp_path / "course")]) == 2
    error = capsys.readouterr().err
    assert "this machine cannot grade yet: bwrap, prlimit not found" in error and "bash setup.sh" in error


def test_the_demo_replaces_only_its_own_course_folder(tmp_path):
    earlier = demo._fresh_folder(tmp_path / "demo-course")
    (earlier / "submitted").mkdir()
    assert demo._fresh_folder(earlier) == earlier and list(earlier.iterdir()) == [earlier / demo.MARKER]
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep me")
    with pytest.raises(GradingError, match="is not empty: give --workdir a new or empty folder"):
        demo._fresh_folder(theirs)
    assert (theirs / "notes.txt").read_text() == "keep me"
