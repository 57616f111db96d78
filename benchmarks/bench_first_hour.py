"""A newcomer's first hour, timed: the README's two commands in a fresh clone of the kit's last commit.

Clones HEAD into a scratch folder, then times `bash setup.sh` there (the virtual environment and
the pinned packages; pip's cache and the system packages are whatever this machine has), the main
job (`python -m assignments demo`) and the test suite (`python -m pytest`), and records the times
and the suite's counts in benchmarks/results.json. `--busy N` keeps N CPU-bound processes running
alongside, to show that the suite passes on a machine that other work keeps busy.

    python benchmarks/bench_first_hour.py [--busy N] [--no-suite]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import record

KIT = Path(__file__).resolve().parents[1]


def timed(command: list[str], cwd: Path, log: Path) -> tuple[float, int, str]:
    """Run `command` in `cwd`, its output to `log`; returns (seconds, exit status, last lines)."""
    start = time.perf_counter()
    with open(log, "w") as out:
        status = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT).returncode
    lines = log.read_text().splitlines()
    return time.perf_counter() - start, status, "\n".join(lines[-3:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes kept running alongside")
    parser.add_argument("--no-suite", action="store_true", help="time setup and the demo only")
    args = parser.parse_args()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    figures = {}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            Path(scratch).chmod(0o755)  # as a clone in /opt or a home folder: the hub test's accounts read it
            clone = Path(scratch) / "kit"
            subprocess.run(["git", "clone", "--quiet", str(KIT), str(clone)], check=True)
            steps = [("setup", ["bash", "setup.sh"]), ("demo", [".venv/bin/python", "-m", "assignments", "demo"])]
            if not args.no_suite:
                steps.append(("suite", [".venv/bin/python", "-m", "pytest"]))
            for name, command in steps:
                seconds, status, tail = timed(command, clone, KIT / "benchmarks" / f"first_hour_{name}.log")
                print(f"{name}: {seconds:.0f} s, exit status {status}\n{tail}\n")
                figures[f"{name} s"] = round(seconds)
                figures[f"{name} exit status"] = status
                if name == "suite":
                    counts = re.findall(r"(\d+) (passed|failed|errors?|skipped)", tail)
                    figures.update({f"suite {word}": int(n) for n, word in counts})
    finally:
        for process in busy:
            process.kill()
    setting = f"{args.busy} busy processes alongside" if args.busy else "quiet machine"
    record("bench_first_hour", setting, figures, note="fresh clone; warm pip cache; system packages installed")


if __name__ == "__main__":
    main()
