"""Run a command (a student's Jupyter kernel) in a bubblewrap jail with resource limits.

The jail sees the system directories, the running Python installation and the paths the caller
names, all read-only, and nothing else of the machine. Its working directory `scratch` is the only
writable place it shares with the outside; /tmp and /dev/shm are private tmpfs. It has no network
(its own network namespace holds loopback only), but unix-domain socket files in `scratch` work
both ways. It has its own PID namespace, whose init (bubblewrap's) ends when the command ends;
the kernel then kills every process the command started. `prlimit` sets the rlimits. When we are
root, `setpriv` then runs the command as a uid of its own jail (RLIMIT_NPROC binds no process of
real uid 0, and counts all processes of a uid, so jails sharing `nobody` would starve each other).

bubblewrap passes on no signal, so `sandboxed()` returns an argv that starts this file as a small
forwarder, `python -I -S .../assignments/jail/sandbox.py bwrap ...`: a SIGINT to it (or to its process
group) reaches the jailed command, as Jupyter's `interrupt_kernel` needs. Any signal that ends the
forwarder (SIGTERM, SIGKILL, ...) ends the whole jail (bwrap `--die-with-parent`).
"""
from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import site
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

JAIL_UIDS = 2**30
"""When we are root, a jail runs as uid and gid JAIL_UIDS + (inode number of its scratch folder
mod JAIL_UIDS): folders that exist together on one file system have different inode numbers."""

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
"""Read-only in every jail (symlinks such as Debian's /bin -> usr/bin are copied as symlinks)."""


@dataclass(frozen=True)
class Limits:
    """Per-submission resource limits of the jailed process tree; the defaults are grading's
    (IsolatedExecute's configurable traits start from them)."""

    cpu_seconds: int = 3600          # RLIMIT_CPU: SIGXCPU then, SIGKILL a second later
    memory_bytes: int = 6 * 2**30    # RLIMIT_AS
    processes: int = 256             # RLIMIT_NPROC (threads count too: OpenBLAS, ipykernel's threads)
    file_bytes: int = 2**30          # RLIMIT_FSIZE; also the size of each private tmpfs
    open_files: int = 1024           # RLIMIT_NOFILE


class SandboxUnavailable(RuntimeError):
    """Jailed execution cannot work on this machine; the message says why and what to install."""


@functools.cache
def sandbox_problem() -> str | None:
    """Why jailed execution cannot work on this machine, or None; found by starting one jail.

    Returns: a message naming the missing tool and its Debian package, or bubblewrap's own error
    (e.g. user namespaces disabled for unprivileged users), or None when a jail runs.
    """
    if sys.platform != "linux":
        return f"jailed execution needs Linux (bubblewrap, namespaces); this is {sys.platform}"
    missing = [tool for tool in ("bwrap", "prlimit", "setpriv") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not found: apt-get install bubblewrap util-linux"
    with tempfile.TemporaryDirectory() as scratch:
        prepare_scratch(Path(scratch))
        probe = subprocess.run(_jail(["true"], Path(scratch), (), Limits()), capture_output=True, text=True)
    if probe.returncode != 0:
        return f"bubblewrap cannot start a jail here: {probe.stderr.strip()}"
    return None


def prepare_scratch(scratch: Path) -> None:
    """Make `scratch` writable by its jail: when we are root, give it and all it holds to the jail's uid.

    Inputs: scratch, an existing directory holding the files the caller put there; call again after
    adding files the jail must read or write (files of mode 0o644 or 0o666 need not), but only while
    no jail runs on it.
    """
    if os.geteuid() != 0:
        return
    uid = _jail_uid(scratch)
    os.chown(scratch, uid, uid)
    for folder, dirs, files in os.walk(scratch):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def sandboxed(command: Sequence[str], scratch: Path, *, readable: Sequence[Path] = (),
              hidden: Sequence[Path] = (), limits: Limits = Limits()) -> list[str]:
    """The argv that runs `command` jailed, for subprocess.Popen from any cwd with any environment.

    Inputs: command, the argv to jail (its environment is the one Popen passes); scratch, its working
    directory, read-write (call `prepare_scratch` first); readable, further paths it may read
    (missing ones are skipped); hidden, files inside those that read as empty in the jail (the
    held-out data); limits, its rlimits.
    Returns: the argv. Raises SandboxUnavailable with `sandbox_problem()`'s message.
    """
    problem = sandbox_problem()
    if problem:
        raise SandboxUnavailable(problem)
    return _jail(command, scratch, readable, limits, hidden)


def _jail(command: Sequence[str], scratch: Path, readable: Sequence[Path], limits: Limits,
          hidden: Sequence[Path] = ()) -> list[str]:
    """`sandboxed` without the check that jails work here."""
    root = os.geteuid() == 0
    scratch = os.path.abspath(scratch)
    python = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *site.getsitepackages(),
              os.path.realpath(sys.executable), *_path_file_folders()]
    argv = [sys.executable, "-I", "-S", os.path.abspath(__file__),  # the forwarder, run outside
            "bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            *([] if root else ["--unshare-user"]), "--die-with-parent", "--new-session",
            "--proc", "/proc", "--dev", "/dev"]
    for tmpfs in ("/tmp", "/dev/shm"):
        argv += ["--perms", "1777", "--size", str(limits.file_bytes), "--tmpfs", tmpfs]
    links = [path for path in SYSTEM_DIRS if os.path.islink(path)]
    for link in links:
        argv += ["--symlink", os.readlink(link), link]
    for path in _outermost([*(set(SYSTEM_DIRS) - set(links)), *python, *map(str, readable)]):
        argv += ["--dir", os.path.dirname(path), "--ro-bind-try", path, path]  # bwrap would make its parents 0700
    for path in hidden:
        if os.path.isfile(path):
            argv += ["--ro-bind", os.devnull, os.path.abspath(path)]
    argv += ["--dir", os.path.dirname(scratch), "--bind", scratch, scratch, "--chdir", scratch, "--",
             "prlimit", f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}", f"--as={limits.memory_bytes}",
             f"--nproc={limits.processes}", f"--fsize={limits.file_bytes}", f"--nofile={limits.open_files}",
             "--core=0", "--"]
    if root:
        uid = _jail_uid(scratch)
        argv += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                 "--bounding-set=-all", "--no-new-privs", "--"]
    return argv + list(command)


def _path_file_folders() -> list[str]:
    """The folders that the .pth files of this Python's site-packages add to sys.path (an environment
    can reach another's packages that way, as the offline hub's environments do), except a folder
    that holds the kit's solutions or hidden tests (the kit's own folder, when a .pth names it)."""
    from assignments import paths  # not at the top: this file also runs alone, as the forwarder

    secrets = [paths.SOURCE_DIR.resolve(), (paths.REPO_ROOT / "grader_tests").resolve()]
    folders = []
    for site_packages in site.getsitepackages():
        for path_file in sorted(Path(site_packages).glob("*.pth")):
            for line in path_file.read_text(encoding="utf-8", errors="replace").splitlines():
                folder = Path(site_packages, line.strip()).resolve() if line.strip() else None
                if (folder and not line.startswith(("#", "import ", "import\t")) and folder.is_dir()
                        and not any(secret.is_relative_to(folder) for secret in secrets)):
                    folders.append(str(folder))
    return folders


def _jail_uid(scratch: Path | str) -> int:
    """The uid (and gid) the jail on `scratch` runs as when we are root."""
    return JAIL_UIDS + os.stat(scratch).st_ino % JAIL_UIDS


def _outermost(paths: Sequence[str]) -> list[str]:
    """The absolute paths that lie inside none of the others (binding them binds all), sorted."""
    outermost: list[str] = []
    for path in sorted({os.path.abspath(path) for path in paths}):
        if not any(os.path.commonpath([path, outer]) == outer for outer in outermost):
            outermost.append(path)
    return outermost


def _forward(bwrap: Sequence[str]) -> int:
    """Run bwrap and pass each SIGINT on to the command it jails.

    Inputs: bwrap, bubblewrap's argv.
    Returns: bwrap's exit status, which is the command's (128 + N when signal N ended it).
    """
    started = []

    def forward(signum: int, frame: object) -> None:
        command = _first_child(_first_child(started[0].pid)) if started else None  # bwrap -> init -> command
        if command:
            os.kill(command, signum)

    # Handled here before bwrap starts, so the command starts with SIGINT's default action even when
    # this process was started with it ignored (as `nohup ... &` and background jobs of scripts are).
    signal.signal(signal.SIGINT, forward)
    # Own process group: a SIGINT to our group (Jupyter's killpg) must not kill bwrap.
    started.append(subprocess.Popen(bwrap, process_group=0))
    status = started[0].wait()
    return status if status >= 0 else 128 - status


def _first_child(pid: int | None) -> int | None:
    """The pid of the child that process `pid` started first, or None.

    The jail's init has the command as first child, and later any orphan of the jail as others.
    """
    children = []
    for entry in os.scandir("/proc"):
        with contextlib.suppress(OSError):  # the process has ended
            if entry.name.isdigit():
                # /proc/<pid>/stat after the command name, which may hold anything: state, parent, ...
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    children.append((int(fields[19]), int(entry.name)))  # (start time, pid)
    return min(children)[1] if children else None


if __name__ == "__main__":
    sys.exit(_forward(sys.argv[1:]))
