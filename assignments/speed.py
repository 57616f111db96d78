"""CPU-time measurements for 04's speed question, so that a busy machine cannot change the verdict.

Wall-clock time counts the time a process waits for a core: on a grading machine shared with other
kernels, a fast convolution called across processes measured 27x its loops instead of 250x.
CPU time counts only the work a process (all its threads) did, which load does not change, so the
shortest CPU time of a few calls is a fair figure for both sides of a speed ratio.

    best_times(function, args, calls)         shortest CPU and wall-clock times of one call; CPU time
                                              of this process or of the process `pid`
                                              (Linux: /proc/<pid>, see cpu_seconds)
    output_loop_seconds(x_shape, w_shape, conv_param)
                                              CPU time of the loops a convolution written one output
                                              at a time cannot avoid (the visible check's baseline)
    conv_speedup(forward, backward, x, w, b, conv_param)
                                              04's visible speed check: that baseline over the
                                              pair's CPU time, with one BLAS thread
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds used so far by every thread of process `pid` (default: this process).

    Another process is read from /proc/<pid>/task/<tid>/schedstat (nanoseconds, Linux) or, on
    kernels without scheduler statistics, from /proc/<pid>/stat (clock ticks, usually 10 ms; see
    precise_cpu_clock); OSError when it cannot be read (not Linux, or the process is gone).
    """
    if pid is None:
        return time.process_time()
    if precise_cpu_clock(pid):
        total = 0
        for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            try:
                total += int(stat.read_text().split()[0])
            except (OSError, IndexError, ValueError):
                continue  # a thread that ended while being read
        if total > 0:
            return total / 1e9
    import psutil  # only the grader times another process
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error as error:
        raise OSError(f"no CPU time can be read for process {pid}: {error}") from None
    return times.user + times.system


def precise_cpu_clock(pid: int | None = None) -> bool:
    """Whether cpu_seconds(pid) counts nanoseconds (this process, or scheduler statistics in /proc)
    rather than clock ticks."""
    return pid is None or Path(f"/proc/{pid}/schedstat").exists()


def cpu_time_visible(pid: int) -> bool:
    """Whether the CPU time of process `pid` can be read (Linux /proc, the process still there)."""
    try:
        cpu_seconds(pid)
    except OSError:
        return False
    return True


class Timing(NamedTuple):
    """The shortest CPU time and the shortest wall-clock time of one call, and how many calls ran."""
    cpu: float
    wall: float
    calls: int


def best_times(function: Callable, args: tuple = (), calls: int = 5, pid: int | None = None,
               budget: float = 0.5) -> Timing:
    """Times of up to `calls` calls of function(*args), fewer once `budget` CPU seconds are spent.

    Inputs:
    - function, args: what to time; numpy warnings are silenced while it runs.
    - calls: at most this many calls (at least one).
    - pid: the process whose CPU time the call uses (the student's kernel, for a function that is
      a handle to it); None for this process.
    """
    cpu, wall, spent, made = np.inf, np.inf, 0.0, 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        while made < calls and (made == 0 or spent < budget):
            start_cpu, start_wall = cpu_seconds(pid), time.perf_counter()
            function(*args)
            wall = min(wall, time.perf_counter() - start_wall)
            used = cpu_seconds(pid) - start_cpu
            cpu, spent, made = min(cpu, used), spent + used, made + 1
    if not precise_cpu_clock(pid):
        cpu = spent / made  # one call may read a tick more or less than it used; the mean cannot
    return Timing(cpu, wall, made)


def output_loop_seconds(x_shape: tuple, w_shape: tuple, conv_param: dict[str, Any], calls: int = 2) -> float:
    """Shortest CPU time of the Python loops a convolution written one output at a time runs for
    one forward and one backward pass: per output value, one window-sized multiply-and-sum
    (forward) and two window-sized multiply-adds (dw and dx).

    Inputs: x_shape (N, C, H, W), w_shape (F, C, HH, WW), conv_param {'stride', 'pad'}.
    Returns seconds; a vectorised pair is typically over 100 times faster.
    """
    N, C, H, W = x_shape
    F, _, HH, WW = w_shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    outputs = N * F * (1 + (H + 2 * pad - HH) // stride) * (1 + (W + 2 * pad - WW) // stride)
    rng = np.random.default_rng(0)
    window, kernel = rng.standard_normal((C, HH, WW)), rng.standard_normal((C, HH, WW))
    dwindow, dkernel = np.zeros_like(window), np.zeros_like(kernel)

    def loops():
        for _ in range(outputs):
            g = np.sum(window * kernel)
            dkernel[...] += g * window
            dwindow[...] += g * kernel

    return best_times(loops, calls=calls, budget=np.inf).cpu


def conv_speedup(conv_forward: Callable, conv_backward: Callable, x: np.ndarray, w: np.ndarray,
                 b: np.ndarray, conv_param: dict[str, Any]) -> tuple[float, float, float]:
    """How many times less CPU time one forward and backward pass of a convolution uses than the
    loops of output_loop_seconds, with one BLAS thread (spinning BLAS threads on a busy machine
    would measure the machine, not the code).

    Inputs: conv_forward(x, w, b, conv_param) -> (out, cache), conv_backward(dout, cache) ->
    (dx, dw, db); x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param {'stride', 'pad'}.
    Returns (speedup, seconds of the pair: the shortest of up to 5 runs, seconds of the loops).
    """
    from threadpoolctl import threadpool_limits

    def forward_backward():
        out, cache = conv_forward(x, w, b, conv_param)
        conv_backward(np.ones_like(out), cache)

    with threadpool_limits(1, user_api="blas"):
        pair = best_times(forward_backward, calls=5).cpu
    loops = output_loop_seconds(x.shape, w.shape, conv_param)
    return loops / max(pair, 1e-9), pair, loops
