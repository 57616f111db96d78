"""The one results file of the benchmarks: `benchmarks/results.json`, rendered as `benchmarks/RESULTS.md`.

Every benchmark records its figures here with the date, the commit and the machine they were
measured on; the README and the notebooks cite this file instead of pasting numbers that go stale.
A new measurement of the same benchmark and setting replaces the old one.

    from results import record   # benchmarks run as `python benchmarks/bench_x.py`
    record("bench_training", "04", {"seconds per epoch": 21.5, "working memory MB": 40})
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "RESULTS.md"


def machine() -> str:
    """A short description of this machine: cores, memory, processor, Python."""
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {memory_gib:.0f} GiB, {cpu}, Python {platform.python_version()}"


def commit() -> str:
    """The kit's commit, with `+changes` when the work tree differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def load() -> dict:
    """Every recorded result: {benchmark: {setting: entry}}."""
    return json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}


def record(benchmark: str, setting: str, figures: dict, note: str = "") -> dict:
    """Store `figures` (name -> number or text) of `benchmark` run with `setting`; returns the entry.

    Inputs: benchmark, e.g. "bench_training"; setting, e.g. "04" or "workers=2"; figures, a flat
    dict; note, one line on the conditions (e.g. "machine loaded by another job").
    """
    entry = {"date": datetime.date.today().isoformat(), "commit": commit(), "machine": machine(),
             "figures": figures}
    if note:
        entry["note"] = note
    results = load()
    results.setdefault(benchmark, {})[setting] = entry
    RESULTS_JSON.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    RESULTS_MD.write_text(render(results))
    return entry


def render(results: dict) -> str:
    """The results as Markdown, one table per benchmark."""
    lines = ["# Benchmark results", "",
             "Written by the benchmarks (`benchmarks/results.py`); do not edit by hand. "
             "Each row: the setting, its figures, and when, where and on which commit they were measured.", ""]
    for benchmark in sorted(results):
        lines += [f"## {benchmark}", "", "| setting | figures | date | commit | machine |", "|---|---|---|---|---|"]
        for setting, entry in sorted(results[benchmark].items()):
            figures = "; ".join(f"{name}: {_format(value)}" for name, value in entry["figures"].items())
            if entry.get("note"):
                figures += f" ({entry['note']})"
            lines.append(f"| {setting} | {figures} | {entry['date']} | {entry['commit']} | {entry['machine']} |")
        lines.append("")
    return "\n".join(lines)


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"  # 4 digits: 0.9907, not 0.991
    return str(value)
