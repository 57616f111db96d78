"""Run one command so that nothing it starts outlives it, nor the process that asked for it.

`python -m assignments.jail.reaper PARENT_PID -- COMMAND ...` runs COMMAND with a private temporary
folder as its TMPDIR (grading kernels put their scratch folders there) and:
- becomes a child subreaper (Linux), so processes COMMAND's processes leave behind (the sandbox
  forwarder and jailed kernel of an nbgrader process that was killed) stay its descendants;
- asks the kernel for SIGTERM when its parent dies (a Dask worker killed with SIGKILL), and exits
  at once if that parent, PARENT_PID, is already gone;
- on SIGTERM, SIGINT or SIGHUP, and whenever COMMAND ends, kills every descendant, waits for them,
  and removes the temporary folder.
Its exit status is COMMAND's (128 + N when killed by signal N, as a shell reports it).
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import psutil

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36


def guarded(command: list[str]) -> list[str]:
    """The argv that runs `command` under the reaper, tied to this (the calling) process."""
    return [sys.executable, "-m", "assignments.jail.reaper", str(os.getpid()), "--", *command]


def kill_descendants(process: psutil.Process, timeout: float = 10) -> None:
    """Kill every descendant of `process` (not itself) and wait up to `timeout` s for them to end."""
    left = []
    for _ in range(3):  # a process may start another while we kill its siblings
        try:
            children = process.children(recursive=True)
        except psutil.NoSuchProcess:
            return
        if not children:
            break
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        _, left = psutil.wait_procs(children, timeout=timeout)
    if left:
        print(f"reaper: processes {[p.pid for p in left]} did not end", file=sys.stderr)


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def run(parent: int, command: list[str]) -> int:
    """Run `command` as described in the module docstring; returns its exit status."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before prctl could tie us to it
        return 128 + signal.SIGTERM
    stop = []
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda signum, frame: stop.append(signum))
    scratch = tempfile.mkdtemp(prefix="dlkit-run-")
    me = psutil.Process()
    try:
        child = subprocess.Popen(command, env={**os.environ, "TMPDIR": scratch})
        while not stop:
            try:
                status = child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            status = 128 + stop[0]
        kill_descendants(me)
        child.wait()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: python -m assignments.jail.reaper PARENT_PID -- COMMAND ...")
    sys.exit(run(int(sys.argv[1]), sys.argv[3:]))
