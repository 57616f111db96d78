"""04's graded speed question: a correct vectorised fast convolution passes on a busy machine, also
when it runs in another process as in grading, and a pair as slow as loops fails, also when it
hands its loops to another process. No test asserts an elapsed time: the verdicts are asserted
while the machine is kept busy on purpose."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from assignments import paths, speed
from assignments.jail import remote
from assignments.notebooks import cell_by_grade_id, read_notebook
from assignments.speed import best_times, conv_speedup, cpu_seconds, cpu_time_visible, output_loop_seconds
from grader_tests import cnn
from grader_tests.checking import GradingFailure
from tests.test_04_cnn import (conv_backward_loops, conv_backward_windows, conv_forward_loops,
                                     conv_forward_windows)

BUSY = "while True: pass"


@pytest.fixture
def busy_machine():
    """One CPU-bound process more than there are cores, for the duration of the test."""
    processes = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range((os.cpu_count() or 1) + 1)]
    yield
    for process in processes:
        process.kill()
        process.wait()


@pytest.fixture(params=["nanoseconds", "clock ticks"])
def cpu_clock(request, monkeypatch):
    """Both ways another process's CPU time is read: scheduler statistics (nanoseconds), and
    /proc/<pid>/stat (clock ticks), all some kernels offer."""
    if request.param == "clock ticks":
        monkeypatch.setattr(speed, "precise_cpu_clock", lambda pid=None: pid is None)
    elif not speed.precise_cpu_clock(os.getpid()):
        pytest.skip("this kernel keeps no scheduler statistics: only clock ticks can be read here")
    return request.param


@pytest.fixture
def kernel_process(tmp_path):
    """The pairs served from another process over a Unix socket, as a grading kernel serves them:
    (proxy of the windows pair, proxy of the loops pair)."""
    path = str(tmp_path / "grading.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    code = ("import sys; from assignments.jail import remote; import tests.test_04_cnn as t; "
            "remote.serve(sys.argv[1], {n: getattr(t, n) for n in dir(t) if n.startswith('conv_')})")
    process = subprocess.Popen([sys.executable, "-c", code, path], cwd=paths.REPO_ROOT)
    listener.settimeout(60)
    connection, _ = listener.accept()
    endpoint = remote.Endpoint(connection, trusting=False)
    yield endpoint, process.pid
    endpoint.close()
    process.wait(10)
    listener.close()


def test_a_vectorised_pair_passes_on_a_busy_machine(busy_machine):
    ratio = cnn.check_conv_fast_speed(conv_forward_windows, conv_backward_windows)
    assert ratio >= 3 * cnn.SPEED_RATIO_REQUIRED


def test_loops_fail_on_a_busy_machine_and_the_message_says_by_how_much(busy_machine):
    with pytest.raises(GradingFailure) as failure:
        cnn.check_conv_fast_speed(conv_forward_loops, conv_backward_loops)
    message = str(failure.value)
    assert message.startswith("conv_forward_fast + conv_backward_fast is not fast enough.")
    assert "x of shape (16, 3, 16, 16)" in message and " ms of CPU time (best of " in message
    assert f"at least {cnn.SPEED_RATIO_REQUIRED:.0f}x is required" in message


def test_in_another_process_the_kernels_cpu_time_is_measured(kernel_process, cpu_clock, busy_machine):
    endpoint, pid = kernel_process
    forward, backward = endpoint.lookup("conv_forward_windows"), endpoint.lookup("conv_backward_windows")
    assert remote.process_of(forward) == pid and cpu_time_visible(pid)
    assert cnn.check_conv_fast_speed(forward, backward) >= 3 * cnn.SPEED_RATIO_REQUIRED
    with pytest.raises(GradingFailure, match="ms of CPU time"):
        cnn.check_conv_fast_speed(endpoint.lookup("conv_forward_loops"), endpoint.lookup("conv_backward_loops"))


def test_loops_handed_to_another_process_fail_on_wall_clock_time():
    """The grader's own loops, run in another process: no CPU time of this one, the same wall-clock time."""
    with ProcessPoolExecutor(1) as pool:
        pool.submit(int).result()  # started before timing

        def forward(x, w, b, conv_param):
            return pool.submit(cnn.loop_conv_forward, x, w, b, conv_param).result()

        def backward(dout, cache):
            return pool.submit(cnn.loop_conv_backward, dout, cache).result()

        with pytest.raises(GradingFailure, match="Work done in other processes is not faster"):
            cnn.check_conv_fast_speed(forward, backward)


def test_cpu_time_of_another_process_counts_its_work_not_its_waiting(cpu_clock):
    busy = subprocess.Popen([sys.executable, "-c", "import time; t = time.process_time()\n"
                             "while time.process_time() - t < 0.3: pass\ntime.sleep(30)"])
    try:
        while cpu_seconds(busy.pid) < 0.28:  # it works for 0.3 CPU seconds, then sleeps
            time.sleep(0.05)
        time.sleep(0.2)
        first = cpu_seconds(busy.pid)
        time.sleep(0.5)
        assert 0.28 <= first and cpu_seconds(busy.pid) - first < 0.05
    finally:
        busy.kill()
        busy.wait()
    assert remote.process_of(conv_forward_windows) is None and not cpu_time_visible(busy.pid)


def test_the_visible_baseline_costs_about_what_loops_cost():
    """The notebook's visible check compares the fast pair with output_loop_seconds instead of the
    student's own naive convolution (which may be vectorised): it must cost about what loops do."""
    conv_param = {"stride": 1, "pad": 1}
    x, w, b = np.ones(cnn.SPEED_INPUT["x"]), np.ones(cnn.SPEED_INPUT["w"]), np.ones(cnn.SPEED_INPUT["w"][0])
    out, _ = conv_forward_loops(x, w, b, conv_param)

    def loops():
        conv_backward_loops(out, conv_forward_loops(x, w, b, conv_param)[1])

    baseline = output_loop_seconds(x.shape, w.shape, conv_param)
    assert 0.3 < baseline / best_times(loops, calls=2).cpu < 3


def _visible_speed_check(**names) -> None:
    """Run the visible part of 04's released speed cell with the given student functions."""
    cell = cell_by_grade_id(read_notebook(paths.RELEASE_DIR / "04_cnn/04_cnn.ipynb"), "test_conv_fast_speed")
    exec(cell.source, {"np": np, "conv_speedup": conv_speedup, **names})


def test_the_visible_check_passes_a_vectorised_pair_whatever_the_naive_one_on_a_busy_machine(busy_machine):
    _visible_speed_check(conv_forward_fast=conv_forward_windows, conv_backward_fast=conv_backward_windows,
                         conv_forward_naive=conv_forward_windows, conv_backward_naive=conv_backward_windows)


def test_the_visible_check_fails_loops():
    with pytest.raises(AssertionError, match="not 10 times faster than the loops"):
        _visible_speed_check(conv_forward_fast=conv_forward_loops, conv_backward_fast=conv_backward_loops,
                             conv_forward_naive=conv_forward_loops, conv_backward_naive=conv_backward_loops)
