"""The jail of assignments.jail.sandbox, proven by running small Python programs in it.

Nothing is skipped: on a machine where jails cannot run, every test fails with the reason.
"""
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from assignments.jail import sandbox
from assignments.paths import REPO_ROOT
from assignments.jail.sandbox import Limits, SandboxUnavailable, prepare_scratch, sandbox_problem, sandboxed

pytestmark = pytest.mark.jail


@pytest.fixture(autouse=True)
def jails_work():
    problem = sandbox_problem()
    if problem:
        pytest.fail(f"jails cannot run here: {problem}")


@pytest.fixture
def scratch(tmp_path):
    folder = tmp_path / "scratch"
    folder.mkdir()
    (folder / "given.txt").write_text("from the grader")
    prepare_scratch(folder)
    return folder


def jailed_python(code, scratch, readable=(), limits=Limits(), hidden=(), **popen):
    """Popen of `python -c code` in the jail, text pipes, from an unrelated cwd."""
    argv = sandboxed([sys.executable, "-c", code], scratch, readable=readable, hidden=hidden, limits=limits)
    return subprocess.Popen(argv, cwd="/", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def run_jailed(code, scratch, **options):
    """Run `python -c code` in the jail; returns (exit status, stdout, stderr)."""
    jail = jailed_python(code, scratch, **options)
    out, err = jail.communicate(timeout=20)
    return jail.returncode, out, err


OPEN_EACH = """
for path in PATHS:
    try:
        open(path, MODE).write("x") if MODE == "w" else open(path).read()
        print("ok")
    except OSError as error:
        print(type(error).__name__)
"""


def try_paths(scratch, paths, mode, **options):
    """For each path, what opening it in the jail gives: 'ok' or the exception's name."""
    code = f"PATHS = {[str(path) for path in paths]!r}; MODE = {mode!r}" + OPEN_EACH
    status, out, err = run_jailed(code, scratch, **options)
    assert status == 0, err
    return dict(zip(map(str, paths), out.split()))


def test_runs_as_the_owner_of_scratch_in_scratch_with_the_callers_environment(scratch):
    code = "import os; print(os.getuid(), os.getgid(), os.getcwd(), os.environ['DLKIT_PROBE'])"
    status, out, err = run_jailed(code, scratch, env={**os.environ, "DLKIT_PROBE": "kept"})
    assert status == 0, err
    owner = os.stat(scratch).st_uid
    assert owner >= sandbox.JAIL_UIDS if os.geteuid() == 0 else owner == os.getuid()
    assert out.split() == [str(owner)] * 2 + [str(scratch), "kept"]


def test_reads_only_allowed_paths(scratch, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.txt").write_text("data")
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "x.ipynb").write_text("{}")
    (tmp_path / "gradebook.db").write_bytes(b"SQLite format 3\x00")
    hidden = [tmp_path / "source" / "x.ipynb", tmp_path / "gradebook.db", REPO_ROOT / "grader_tests" / "checking.py",
              REPO_ROOT / "source" / "01_softmax" / "01_softmax.ipynb"]
    assert all(path.exists() for path in hidden)
    hidden += [path for path in (Path.home() / ".bashrc", Path.home() / ".profile") if path.exists()]
    seen = try_paths(scratch, [data / "x.txt", scratch / "given.txt", "/etc/hostname", *hidden], "r",
                     readable=[data])
    assert list(seen.values())[:3] == ["ok", "ok", "ok"]
    assert set(list(seen.values())[3:]) <= {"FileNotFoundError", "PermissionError"}, seen


def test_held_out_files_cannot_be_read_while_their_folder_stays_readable(scratch, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "data_batch_1").write_text("training")
    (data / "test_batch").write_text("held-out labels")
    code = ("import os\nfor name in ('data_batch_1', 'test_batch'):\n    try:\n"
            f"        print(repr(open(os.path.join({str(data)!r}, name)).read()))\n"
            "    except OSError as error:\n        print(type(error).__name__)")
    status, out, err = run_jailed(code, scratch, readable=[data], hidden=[data / "test_batch", data / "absent"])
    assert status == 0, err
    assert out.split()[0] == "'training'" and out.split()[1] in {"''", "PermissionError"}


def test_writes_only_in_scratch(scratch, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    private_tmp = Path("/tmp") / f"jail-probe-{os.getpid()}"
    outside = [tmp_path / "outside", data / "x", REPO_ROOT / "jail-probe", Path("/work/jail-probe"),
               Path(sys.prefix) / "jail-probe", Path("/etc/jail-probe")]
    seen = try_paths(scratch, [scratch / "out.txt", scratch / "given.txt", private_tmp, *outside], "w",
                     readable=[data])
    assert list(seen.values())[:3] == ["ok", "ok", "ok"]
    assert set(list(seen.values())[3:]) <= {"FileNotFoundError", "PermissionError", "OSError"}, seen
    assert (scratch / "out.txt").read_text() == "x" and (scratch / "given.txt").read_text() == "x"
    assert not any(path.exists() for path in [private_tmp, *outside])


def test_no_network_even_to_the_hosts_loopback(scratch):
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        code = f"""
import socket
for address in [("127.0.0.1", {port}), ("192.0.2.1", 80)]:
    try:
        socket.create_connection(address, timeout=2)
        print("connected")
    except OSError as error:
        print(type(error).__name__)
"""
        status, out, err = run_jailed(code, scratch)
    assert status == 0, err
    assert out.split() == ["ConnectionRefusedError", "OSError"]


def test_unix_sockets_in_scratch_work_both_ways(scratch):
    code = """
import socket
kernel = socket.socket(socket.AF_UNIX)
kernel.bind("kernel.sock")
kernel.listen()
grader = socket.socket(socket.AF_UNIX)
grader.connect("grader.sock")
grader.sendall(b"listening")
print(kernel.accept()[0].recv(100).decode())
"""
    with socket.socket(socket.AF_UNIX) as grader:
        grader.bind(str(scratch / "grader.sock"))
        os.chmod(scratch / "grader.sock", 0o666)  # the jail's uid is not ours
        grader.listen()
        grader.settimeout(15)
        jail = jailed_python(code, scratch)
        assert grader.accept()[0].recv(100) == b"listening"
    with socket.socket(socket.AF_UNIX) as kernel:
        kernel.connect(str(scratch / "kernel.sock"))
        kernel.sendall(b"reached the kernel")
    out, err = jail.communicate(timeout=15)
    assert (jail.returncode, out) == (0, "reached the kernel\n"), err


def test_memory_limit_gives_memory_error(scratch):
    code = """
import numpy as np
try:
    np.ones(2**31, dtype=np.uint8)
except MemoryError:
    print("MemoryError")
"""
    status, out, err = run_jailed(code, scratch, limits=Limits(memory_bytes=2**30))
    assert (status, out) == (0, "MemoryError\n"), err


def test_cpu_limit_kills_a_busy_loop(scratch):
    status, _, _ = run_jailed("while True: pass", scratch, limits=Limits(cpu_seconds=1))
    assert status == 128 + signal.SIGXCPU


def test_imports_only_the_packages_passed(scratch):
    code = """
import assignments.gradient_check
try:
    import grader_tests
except ImportError as error:
    print(type(error).__name__)
"""
    status, out, err = run_jailed(code, scratch, readable=[REPO_ROOT / "assignments"])
    assert (status, out) == (0, "ModuleNotFoundError\n"), err


def jail_processes(jail):
    """The processes the forwarder `jail` started: bwrap, the jailed command and all it started."""
    return psutil.Process(jail.pid).children(recursive=True)


def wait_for_line(jail, expected):
    line = jail.stdout.readline()
    assert line == expected, jail.stderr.read()


def test_fork_bomb_is_contained_and_killed_with_the_jail(scratch, tmp_path):
    code = """
import os, time
first, blocked = os.getpid(), False
while True:
    try:
        os.fork()
    except BlockingIOError:
        if not blocked and os.getpid() == first:
            print("blocked", flush=True)
        blocked = True
        time.sleep(0.1)
"""
    jail = jailed_python(code, scratch, limits=Limits(processes=20))
    processes = []
    try:
        wait_for_line(jail, "blocked\n")
        processes = jail_processes(jail)
        assert 10 <= len(processes) <= 20 + 2  # up to the limit, plus bwrap and the jail's init
        other = tmp_path / "other"
        other.mkdir()
        prepare_scratch(other)
        forks = "import os\nfor _ in range(5):\n    os.fork() or os._exit(0)\n    os.wait()\nprint('forked')"
        assert run_jailed(forks, other, limits=Limits(processes=20))[:2] == (0, "forked\n")  # not starved
    finally:
        jail.kill()
        _, alive = psutil.wait_procs(processes, timeout=5)
        for process in alive:
            process.kill()
        jail.communicate()
    assert alive == []


@pytest.mark.parametrize("end", ["exit", "sigkill"])
def test_no_process_outlives_the_jailed_command(scratch, end):
    code = """
import subprocess
subprocess.Popen(["sleep", "60"], start_new_session=True)
print("started", flush=True)
input()
"""
    jail = jailed_python(code, scratch, stdin=subprocess.PIPE)
    wait_for_line(jail, "started\n")
    processes = jail_processes(jail)
    assert "sleep" in [process.name() for process in processes]
    if end == "exit":
        jail.stdin.write("\n")
        jail.stdin.flush()
    else:
        jail.kill()
    _, alive = psutil.wait_procs(processes, timeout=5)  # before closing stdin, which would end the command
    jail.communicate(timeout=10)
    assert alive == []
    assert jail.returncode == (0 if end == "exit" else -signal.SIGKILL)


def ignoring_sigint():
    """Start a child with SIGINT ignored, as `nohup ... &` and a script's background jobs do."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("started", [None, ignoring_sigint])
@pytest.mark.parametrize("to_group", [False, True])
def test_sigint_reaches_the_jailed_command(scratch, to_group, started):
    code = """
import time
try:
    print("waiting", flush=True)
    time.sleep(20)
except KeyboardInterrupt:
    print("interrupted")
"""
    jail = jailed_python(code, scratch, start_new_session=True, preexec_fn=started)  # as Jupyter starts kernels
    wait_for_line(jail, "waiting\n")
    if to_group:
        os.killpg(jail.pid, signal.SIGINT)  # what jupyter_client does
    else:
        jail.send_signal(signal.SIGINT)
    out, err = jail.communicate(timeout=10)
    assert (jail.returncode, out) == (0, "interrupted\n"), err


def test_unavailable_sandbox_raises_with_the_reason(scratch, monkeypatch):
    monkeypatch.setattr(sandbox, "sandbox_problem", lambda: "bwrap not found: apt-get install bubblewrap")
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        sandboxed(["true"], scratch)


def test_folders_that_pth_files_add_are_readable_but_never_the_kits_own(scratch, tmp_path, monkeypatch):
    """An environment that reaches another's packages through a .pth file (the offline hub's) can
    run a jailed kernel; a .pth line naming the kit's folder does not show its solutions."""
    site_packages, shared = tmp_path / "site-packages", tmp_path / "shared-packages"
    site_packages.mkdir()
    shared.mkdir()
    (shared / "shared_module.py").write_text("VALUE = 42\n")
    (site_packages / "kit_packages.pth").write_text(f"# a comment\nimport os\n{shared}\n{REPO_ROOT}\nabsent-folder\n")
    monkeypatch.setattr(sandbox.site, "getsitepackages", lambda: [str(site_packages)])
    code = (f"import os, sys\nsys.path.append({str(shared)!r})\nimport shared_module\nprint(shared_module.VALUE)\n"
            f"print(os.path.exists({str(REPO_ROOT / 'source')!r}), os.path.exists({str(REPO_ROOT / 'grader_tests')!r}))")
    status, out, err = run_jailed(code, scratch)
    assert (status, out) == (0, "42\nFalse False\n"), err
