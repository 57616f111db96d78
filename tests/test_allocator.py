"""assignments.allocator: freed memory is reused instead of being faulted in again."""
import subprocess
import sys

import pytest

from assignments import allocator

# Allocates four 12 MB arrays and frees them, ten times, then prints the page faults of the last nine
# rounds. glibc's defaults hand the freed heap top back to the system every round.
ROUNDS = """
import resource, sys
import numpy as np
from assignments.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()


def round_trip():
    arrays = [np.ones(3_000_000, dtype=np.float32) for _ in range(4)]
    del arrays


round_trip()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(9):
    round_trip()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> int:
    result = subprocess.run([sys.executable, "-c", ROUNDS, mode], capture_output=True, text=True,
                            check=True)
    return int(result.stdout.split()[-1])


@pytest.mark.skipif(allocator.platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_freed_memory_is_reused_without_page_faults():
    default, kept = page_faults("default"), page_faults("keep")
    assert default > 5_000, f"expected the default allocator to fault pages in again, got {default}"
    assert kept < default / 10, f"{kept} page faults with keep_freed_memory, {default} without"


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(allocator.platform, "libc_ver", lambda: ("", ""))
    assert allocator.keep_freed_memory() is False
