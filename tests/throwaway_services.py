"""A throwaway PostgreSQL server and Dask cluster on 127.0.0.1, started and stopped by a test."""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
UNPRIVILEGED = 65534  # initdb refuses to run as root; the server then runs as `nobody`


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """A PostgreSQL 15 server in a fresh temporary folder, on a private port of 127.0.0.1, with one
    password-protected user; `url(db)` is a SQLAlchemy URL the kit accepts."""

    user = "grader"

    def __init__(self) -> None:
        self.password = secrets.token_hex(12)  # unique: a test looks for it in every process listing
        self.folder = Path(tempfile.mkdtemp(prefix="dlkit-pg-"))
        self.data, self.port = self.folder / "data", free_port()
        self.as_user = [] if os.geteuid() else ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}",
                                                "--clear-groups", "--"]
        (self.folder / "password").write_text(self.password)
        if self.as_user:
            shutil.chown(self.folder, UNPRIVILEGED, UNPRIVILEGED)
            shutil.chown(self.folder / "password", UNPRIVILEGED, UNPRIVILEGED)
        self._run("initdb", "-D", str(self.data), "-U", self.user, f"--pwfile={self.folder / 'password'}",
                  "--auth=scram-sha-256", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(POSTGRES_BIN / tool), *args], check=True, capture_output=True,
                       cwd=self.folder, env={**os.environ, "PGPASSWORD": self.password})

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-t", "60", "-o",
                  f"-p {self.port} -h 127.0.0.1 -k {self.folder} -c fsync=off", "start")

    def stop(self) -> None:
        """Stop at once, ending every open connection (as a crash or a restart by an admin would)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        return (f"postgresql+psycopg2://{self.user}:{password or self.password}@127.0.0.1:{self.port}/"
                f"{database}")

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return self.url(name)

    def query(self, database: str, sql: str) -> list[tuple]:
        import psycopg2

        with psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                              dbname=database) as connection, connection.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
        connection.close()
        return rows

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class ThrowawayDaskCluster:
    """`dask scheduler` and `dask worker` processes (one worker process each, one thread, a nanny that
    restarts it), each started from its own working directory under `folder`."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.processes: list[subprocess.Popen] = []
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", self.address.rsplit(":", 1)[1],
                                  "--no-dashboard"])

    def _start(self, name: str, args: list[str], wrapper: list[str] = ()) -> subprocess.Popen:
        cwd = self.folder / name
        cwd.mkdir(parents=True)
        dask = str(Path(sys.executable).parent / "dask")
        process = subprocess.Popen([*wrapper, dask, *args], cwd=cwd, env=self.env, stdout=subprocess.DEVNULL,
                                   stderr=open(cwd / "log", "w"))
        self.processes.append(process)
        return process

    def add_worker(self, name: str, wrapper: list[str] = ()) -> subprocess.Popen:
        """Start a worker (its nanny's process is returned); `wrapper` prefixes the command (e.g. bwrap)."""
        return self._start(name, ["worker", self.address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                  "--local-directory", str(self.folder / name)], wrapper)

    def wait_for_workers(self, count: int, timeout: float = 120) -> None:
        from distributed import Client

        with Client(self.address, timeout=timeout) as client:
            client.wait_for_workers(count, timeout=timeout)

    def close(self) -> None:
        """Stop every process (and what they started) and wait for them."""
        for process in reversed(self.processes):
            children = psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for child in children:
                try:
                    child.wait(30)
                except psutil.TimeoutExpired:
                    child.kill()


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def wait_until(predicate, timeout: float, step: float = 0.2):
    """Poll `predicate` until it returns something true (returned) or `timeout` s pass (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(step)
    return None
