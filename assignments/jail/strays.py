"""Processes a notebook started that outlive their cell (a fork bomb's copies of the kernel, a
background job) compete with grading or tamper with it: they are found under the jail's launcher
and killed. `assignments.jail.reaper` ends whatever is left when grading itself ends."""
from __future__ import annotations

import contextlib
import subprocess

import psutil


def jail_processes(launcher: subprocess.Popen | None) -> list[psutil.Process]:
    """Every process under `launcher`, the process the kernel manager started (the jail's
    launchers, the kernel, strays); none when it is missing or has ended."""
    if launcher is None or launcher.poll() is not None:
        return []
    try:
        return psutil.Process(launcher.pid).children(recursive=True)
    except psutil.Error:
        return []


def stop_strays(launcher: subprocess.Popen | None, own: set[int]) -> int:
    """Kill the running processes under `launcher` whose pid is not in `own` (the jail's own
    processes: those that ran when the kernel first answered); return how many."""
    strays = [p for p in jail_processes(launcher) if p.pid not in own and _running(p)]
    for stray in strays:
        with contextlib.suppress(psutil.Error):
            stray.kill()
    return len(strays)


def _running(process: psutil.Process) -> bool:
    """Alive and not a zombie (a killed child its parent has not reaped)."""
    with contextlib.suppress(psutil.Error):
        return process.status() != psutil.STATUS_ZOMBIE
    return False
