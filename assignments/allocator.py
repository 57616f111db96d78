"""Memory allocator settings that make NumPy training loops faster.

A training step allocates the same large temporaries (im2col matrices, activations, gradients) every
time. With glibc's default settings, arrays of more than 128 KiB (rising dynamically up to 32 MiB)
are mapped from the operating system and returned to it when freed, and free memory at the top of
the heap beyond a threshold is returned as well; every step then pays page faults, and the kernel
zeroes every page again. Keeping freed memory in the process instead made a loop of 04 CNN training
steps 1.4 times faster on the kit's machines, and a whole epoch 1.0-1.2 times
(`benchmarks/bench_training.py --default-allocator` to compare), with the same peak memory, since
each step reuses what the previous one freed.
"""
from __future__ import annotations

import ctypes
import platform

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # the largest value glibc accepts on 64-bit machines
TRIM_THRESHOLD = 1024 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse instead of returning it to the system.

    Arrays up to 32 MiB then come from the heap, and up to 1 GiB of free heap is kept. Affects the
    whole process (NumPy and any other library in it). Elsewhere than on glibc (macOS, Windows,
    musl) nothing changes.

    Returns:
    - True when the settings were applied, False when the C library is not glibc.
    """
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)
                and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
