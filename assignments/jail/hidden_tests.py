"""A test cell's hidden tests, run in the grader's process with the notebook's names served by the
student's kernel.

The grader listens on a Unix socket in the scratch folder and asks the kernel to connect and serve
(`assignments.jail.remote.serve`); the hidden tests then reach the student's functions and classes
as `remote` proxies, while numpy, builtins and the checks they use are the grader's own, whatever
the notebook changed in its kernel.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import os
import socket
import time
from pathlib import Path
from typing import Any, NamedTuple

from nbclient.exceptions import CellTimeoutError
from nbformat import NotebookNode

from assignments.instructor import markers
from assignments.jail import remote
from assignments.jail.grading_record import error_output
from assignments.jail.jailed_kernel import JailedKernel
from grader_tests.checking import GradingFailure, Mutant


class KernelRefused(BaseException):
    """The student's kernel did not connect to serve the hidden tests (its code execution was tampered with)."""


class _GraderInterrupt(KernelRefused):
    """The kernel's serving of the hidden tests ended in KeyboardInterrupt while an interrupt the
    grader sent earlier was still to arrive: the grader's own doing, so the request is tried again."""


class HiddenTests(NamedTuple):
    """What a test cell's hidden tests did.

    - printed: the outputs showing what they printed (none when they printed nothing).
    - outcome: [] when they passed, [an error output] when they failed, or [the value of their
      last expression] when that is not None (nbgrader reads a number there as partial credit).
    - mistakes: the catalogued mistakes their GradingFailure named.
    """

    printed: list
    outcome: list
    mistakes: tuple[Mutant, ...] = ()


def split_hidden_tests(source: str) -> tuple[str, str]:
    """(hidden test code, the rest of the cell) of a test cell's source.

    The hidden test code is the lines of the cell's hidden-test regions, without their markers;
    the rest is every other line. An unterminated region is no hidden test: it stays in the rest.
    """
    lines = markers.parse(source)
    hidden = [line.region == markers.HIDDEN and line.terminated for line in lines]
    return ("".join(line.text for line, inside in zip(lines, hidden) if inside and not line.marker),
            "".join(line.text for line, inside in zip(lines, hidden) if not inside))


def run_hidden_tests(kernel: JailedKernel, code: str, scratch: Path, *, seconds: float,
                     connect_timeout: float, stop_grace: float) -> HiddenTests:
    """Run hidden test `code` here, with the notebook's names served by `kernel`; once more when
    the serving ended in the grader's own late interrupt.

    Inputs:
    - scratch: the kernel's working directory (the socket is made there; the tests run in it).
    - seconds: the time the tests may take in all.
    - connect_timeout: the time the kernel gets to connect.
    - stop_grace: the time the kernel gets to end its serving once the tests are done or stopped.
    Returns what the tests did. Raises KernelRefused when the kernel does not serve;
    remote.ChannelClosed or remote.CallTimeout when the channel breaks or a call takes too long;
    CellTimeoutError when the kernel does not end its serving.
    """
    try:
        return _serve(kernel, code, scratch, seconds, connect_timeout, stop_grace)
    except _GraderInterrupt:
        return _serve(kernel, code, scratch, seconds, connect_timeout, stop_grace)


def _serve(kernel: JailedKernel, code: str, scratch: Path, seconds: float, connect_timeout: float,
           stop_grace: float) -> HiddenTests:
    """One attempt of `run_hidden_tests`; raises _GraderInterrupt when the kernel's serving
    ended in an interrupt the grader had sent before."""
    pending = kernel.interrupt_pending
    path = scratch / "grader.sock"
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o666)
    listener.listen(1)
    listener.settimeout(0.1)
    msg_id = kernel.kc.execute(f"__import__('assignments.jail.remote').jail.remote.serve({str(path)!r})",
                               silent=True, store_history=False)
    stdout, connection = io.StringIO(), None
    try:
        deadline = time.monotonic() + connect_timeout
        while connection is None:
            with contextlib.suppress(socket.timeout):
                connection, _ = listener.accept()
            if connection is None:
                reply = kernel.shell_reply(msg_id, 0.1)
                if reply is not None or time.monotonic() > deadline:
                    _raise_refusal(kernel, reply, pending)
        endpoint = remote.Endpoint(connection, trusting=False)
        endpoint.deadline = time.monotonic() + seconds
        try:
            with contextlib.redirect_stdout(stdout), contextlib.chdir(scratch):
                outcome, mistakes = _execute_hidden(code, _NotebookNames(endpoint))
        except remote.ChannelClosed:
            if not _interrupted(kernel.shell_reply(msg_id, stop_grace)):
                raise
            if pending:
                kernel.interrupt_pending = False
                raise _GraderInterrupt("the grader's own interrupt stopped the hidden tests") from None
            outcome = [error_output("KeyboardInterrupt", "the notebook's code raised KeyboardInterrupt while "
                                                         "the hidden tests ran")]
            return HiddenTests(_printed(stdout), outcome)
        endpoint.close()
        if kernel.shell_reply(msg_id, stop_grace + 5) is None:
            raise CellTimeoutError("the student's kernel did not finish serving the hidden tests")
    finally:
        listener.close()
        if connection is not None:
            connection.close()
    return HiddenTests(_printed(stdout), outcome, mistakes)


def _raise_refusal(kernel: JailedKernel, reply: dict | None, pending: bool) -> None:
    """The kernel ended its request to serve the hidden tests (`reply`), or never connected."""
    if pending and _interrupted(reply):
        kernel.interrupt_pending = False
        raise _GraderInterrupt("the grader's own interrupt stopped the request to serve the hidden tests")
    raise KernelRefused("the notebook's kernel did not run the grader's request to serve the hidden tests: "
                        "something in the notebook changed how its kernel runs code")


def _printed(stdout: io.StringIO) -> list:
    """The outputs showing what the hidden tests printed (none when they printed nothing)."""
    return [NotebookNode(output_type="stream", name="stdout", text=stdout.getvalue())] if stdout.getvalue() else []


def _interrupted(reply: dict | None) -> bool:
    """Whether a kernel's reply says its request ended in KeyboardInterrupt."""
    return reply is not None and reply["content"].get("ename") == "KeyboardInterrupt"


def _execute_hidden(code: str, names: _NotebookNames) -> tuple[list, tuple[Mutant, ...]]:
    """exec the hidden tests.

    Returns (outcome, mistakes): the outcome is [] when they pass, [error output] when they fail,
    [execute_result] with the last expression's value when it is not None; the mistakes are those
    a GradingFailure names (else none).
    """
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    scope = {"__builtins__": builtins, "__name__": "__hidden_tests__"}
    try:
        exec(compile(tree, "<hidden tests>", "exec"), scope, names)
        value = eval(compile(ast.Expression(last.value), "<hidden tests>", "eval"), scope, names) if last else None
    except (remote.ChannelClosed, remote.CallTimeout):
        raise
    except BaseException as error:  # any failure of the hidden tests fails the cell
        mistakes = error.mistakes if isinstance(error, GradingFailure) else ()
        return [error_output(type(error).__name__, str(error))], mistakes
    if value is None:
        return [], ()
    return [NotebookNode(output_type="execute_result", execution_count=None, metadata={},
                         data={"text/plain": repr(value)})], ()


class _NotebookNames(dict):
    """The hidden tests' local names: their own imports first, then the notebook's (remote) names.

    Builtins always resolve to the grader's own, whatever the notebook rebound them to.
    """

    def __init__(self, endpoint: remote.Endpoint):
        super().__init__()
        self.endpoint = endpoint

    def __missing__(self, name: str) -> Any:
        if hasattr(builtins, name):
            raise KeyError(name)
        value = self.endpoint.lookup(name)
        self[name] = value
        return value
