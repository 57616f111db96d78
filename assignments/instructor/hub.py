"""A JupyterHub course on one machine (deploy/jupyterhub/): local accounts, nbgrader's exchange,
the instructor's course directory, and the students' environment with bounded kernels.

`python -m assignments hub-setup` prepares the machine (as root; again = update); then
`jupyterhub -f deploy/jupyterhub/jupyterhub_config.py` serves it (`deploy/jupyterhub/start.sh`
does both). The instructor's server runs in an environment with the kit (formgrader, autograde); the
students' servers run in their own environment, which holds the student distribution's wheel
(`assignments.instructor.bundle`) and not the kit, so students never see `source/` or `grader_tests/`.

Each student kernel starts with BLAS_THREADS threads per BLAS library (oversubscribed OpenBLAS
threads spin: a 04 step took 65 ms with 1 thread and 0.8-1.0 s with 2 on a loaded 2-core
machine) and an address-space limit (prlimit), so one student cannot starve the others.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from assignments import paths
from assignments.instructor.bundle import build_bundle
from assignments.instructor.grading import GradingError
from assignments.instructor.submission import BLAS_THREAD_VARIABLES

BLAS_THREADS = 1
KERNEL_MEMORY_BYTES = 4 * 1024**3
"""Address space per student kernel: 04 and 05 train on full data in well under 1 GB resident;
virtual memory (thread stacks, BLAS buffers, malloc arenas) needs more."""


@dataclass(frozen=True)
class HubCourse:
    """Where the hub's course lives. `state` holds the hub's database, cookie secret, the
    exchange and the students' environment; the course directory is in the instructor's home."""

    instructor: str
    students: tuple[str, ...]
    state: Path = Path("/srv/dlkit-hub")
    python: Path = Path(sys._base_executable)
    """The interpreter of the hub's environments; every account must be able to run it."""

    @property
    def exchange(self) -> Path:
        return self.state / "exchange"

    @property
    def config_dir(self) -> Path:
        return self.state / "jupyter"

    @property
    def student_env(self) -> Path:
        return self.state / "student-env"

    @property
    def instructor_env(self) -> Path:
        return self.state / "instructor-env"

    @property
    def course_dir(self) -> Path:
        return Path(pwd.getpwnam(self.instructor).pw_dir) / "course"


def write_kernelspec(kernels_dir: Path, python: str | Path, memory_bytes: int = KERNEL_MEMORY_BYTES,
                     blas_threads: int = BLAS_THREADS) -> Path:
    """Write the `python3` kernelspec of an environment: `python -m ipykernel_launcher` under
    `prlimit --as=memory_bytes`, with `blas_threads` BLAS threads. Returns the kernel.json path."""
    spec = {"argv": [shutil.which("prlimit") or "prlimit", f"--as={memory_bytes}", "--", str(python),
                     "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3", "language": "python",
            "env": {name: str(blas_threads) for name in BLAS_THREAD_VARIABLES}}
    path = kernels_dir / "python3" / "kernel.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec, indent=1) + "\n")
    return path


def create_accounts(course: HubCourse, password: str | None = None) -> None:
    """Local accounts with home folders for the instructor and the students that lack them; with
    `password`, every one of them gets it (for PAM logins; a real course sets its own)."""
    for user in (course.instructor, *course.students):
        try:
            account = pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", user], check=True)
            account = pwd.getpwnam(user)
        home = Path(account.pw_dir)
        if not home.is_dir():  # an account whose home folder was removed
            home.mkdir(mode=0o750, parents=True)
            os.chown(home, account.pw_uid, account.pw_gid)
        if password is not None:
            subprocess.run(["chpasswd"], input=f"{user}:{password}\n", text=True, check=True)


def create_exchange(course: HubCourse) -> None:
    """nbgrader's exchange: a folder every account may write to (sticky, like /tmp), and the hub's
    nbgrader config naming it and the course, in `config_dir` (the hub's servers get it as
    JUPYTER_CONFIG_PATH, so other Jupyter and nbgrader runs on the machine are not affected)."""
    course.exchange.mkdir(parents=True, exist_ok=True)
    course.exchange.chmod(0o1777)
    config = course.config_dir / "nbgrader_config.py"
    config.parent.mkdir(parents=True, exist_ok=True)
    template = (paths.REPO_ROOT / "deploy" / "jupyterhub" / "nbgrader_config.py").read_text()
    config.write_text(template.replace("/srv/dlkit-hub/exchange", str(course.exchange)))


def create_instructor_course(course: HubCourse) -> None:
    """The course directory (the kit's nbgrader config and source/) in the instructor's home,
    owned by the instructor, and their Jupyter config pointing formgrader at it. Existing
    files (release/, submitted/, the gradebook) are kept."""
    root = course.course_dir
    root.mkdir(exist_ok=True)
    shutil.copy(paths.REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(paths.SOURCE_DIR, root / "source", dirs_exist_ok=True)
    jupyter = root.parent / ".jupyter"
    jupyter.mkdir(exist_ok=True)
    (jupyter / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\n")
    user = pwd.getpwnam(course.instructor)
    for path in [root, jupyter, *root.rglob("*"), *jupyter.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)


def private_folder(path: Path) -> Path | None:
    """The first folder on the way to `path` (itself included) that other accounts cannot enter
    or read (no r-x for others), or None when every account can read `path`."""
    path = path.resolve()
    for folder in [*reversed(path.parents), path]:
        if folder.is_dir() and folder.stat().st_mode & 0o005 != 0o005:
            return folder
    return None


def _new_env(env: Path, python: Path, offline_paths: list[Path]) -> Path:
    """A virtual environment of `python` (kept when it exists); with `offline_paths`, it gets no
    pip of its own and sees those folders' packages instead (a .pth file: nothing downloaded),
    with a script in bin/ for each command of this environment and its Jupyter assets and
    extension config (symbolic links). Returns its python."""
    for path in offline_paths:  # the accounts read these in place
        private = private_folder(path)
        if private:
            raise GradingError(f"an offline hub uses the kit's packages in place, in {path}, but the hub's accounts "
                               f"cannot read {private} (mode {private.stat().st_mode & 0o777:o}): put the kit in a "
                               f"folder every account can read (e.g. /opt/dlkit), or set the hub up online")
    if not (env / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", *(["--without-pip"] if offline_paths else []), env], check=True)
    python = env / "bin" / "python"
    if offline_paths:
        purelib = sysconfig.get_path("purelib", vars={"base": str(env), "platbase": str(env)})
        Path(purelib, "kit_packages.pth").write_text("".join(f"{path}\n" for path in offline_paths))
        for shared in ("etc/jupyter", "share/jupyter/lab", "share/jupyter/labextensions", "share/jupyter/nbconvert"):
            link = env / shared  # JupyterLab's assets, its extensions and their server config
            if not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(Path(sys.prefix) / shared)
        for entry in importlib.metadata.entry_points(group="console_scripts"):  # nbgrader runs `alembic`
            script = env / "bin" / entry.name
            if not script.exists():
                function = entry.attr.split(".")[0]
                script.write_text(f"#!{python}\nimport sys\nfrom {entry.module} import {function}\n"
                                  f"sys.exit({entry.attr}())\n")
                script.chmod(0o755)
    return python


def _pip(python: Path, *args: str | Path) -> None:
    run = subprocess.run([python, "-m", "pip", "install", "-q", *args], capture_output=True, text=True)
    if run.returncode:
        raise GradingError(f"pip install {' '.join(map(str, args))} failed for {python}:\n{run.stderr[-2000:]}")


def create_instructor_env(course: HubCourse, offline: bool = False) -> None:
    """The instructor's environment: the kit (`pip install -r requirements.txt -e <kit>`), from
    `course.python` so that the instructor's account can run it. `offline`: this environment's
    packages and the kit's folder are used in place (nothing downloaded)."""
    kit_packages = Path(sysconfig.get_path("purelib"))
    python = _new_env(course.instructor_env, course.python, [kit_packages, paths.REPO_ROOT] if offline else [])
    if not offline:
        _pip(python, "-r", paths.REPO_ROOT / "requirements.txt", "-e", paths.REPO_ROOT)


def create_student_env(course: HubCourse, publish: list[str], offline: bool = False) -> Path:
    """The students' environment: the student distribution's wheel (the published solutions
    `publish`), JupyterHub's single-user server and the bounded `python3` kernel, from
    `course.python`. `offline`: this environment's packages stand in for the wheel's pinned
    requirements (nothing downloaded; the kit itself stays invisible). Returns the bundle folder."""
    bundle = build_bundle(course.state / "bundle", publish)
    wheel, = (bundle / "wheels").glob("*.whl")
    python = _new_env(course.student_env, course.python, [Path(sysconfig.get_path("purelib"))] if offline else [])
    if not offline:
        _pip(python, wheel, _pin("jupyterhub"))
    _pip(python, wheel, "--force-reinstall", "--no-deps")  # same version, new content (published solutions)
    write_kernelspec(course.student_env / "share" / "jupyter" / "kernels", python)
    return bundle


def _pin(name: str) -> str:
    lines = (paths.REPO_ROOT / "requirements.txt").read_text().splitlines()
    return next(line.strip() for line in lines if line.lower().startswith(f"{name}=="))


def setup_hub(course: HubCourse, publish: list[str], password: str | None = None, offline: bool = False) -> None:
    """Everything the hub needs, in order (as root; running it again updates and keeps work)."""
    if os.geteuid() != 0:
        raise GradingError("the hub's setup creates accounts and gives them files: run it as root")
    course.state.mkdir(parents=True, exist_ok=True)
    create_accounts(course, password)
    create_exchange(course)
    create_instructor_course(course)
    create_instructor_env(course, offline)
    create_student_env(course, publish, offline)
    (course.state / "hub.json").write_text(json.dumps(
        {"instructor": course.instructor, "students": list(course.students), "course_dir": str(course.course_dir),
         "student_env": str(course.student_env), "instructor_env": str(course.instructor_env),
         "config_dir": str(course.config_dir)}, indent=1) + "\n")
