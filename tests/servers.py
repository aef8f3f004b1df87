"""A real gunicorn over loopback, for tests where behaviour across processes matters."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def stopped(process: subprocess.Popen, seconds: float = 10):
    """The process ended: asked to (SIGTERM), then killed if it has not within ``seconds``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    base: str
    process: subprocess.Popen

    def worker_pids(self) -> list[int]:
        """The gunicorn master's children: its workers."""
        workers = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue  # gone meanwhile
                # The parent pid is the second field after the parenthesised command name.
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    workers.append(int(entry.name))
        return workers


@contextmanager
def gunicorn(database_url: str, encryption_key: str, *args: str, env: dict | None = None, log_path=None):
    """Serve the app with gunicorn on a free loopback port; yields the base URL and stops it afterwards."""
    with gunicorn_server(database_url, encryption_key, *args, env=env, log_path=log_path) as server:
        yield server.base


@contextmanager
def gunicorn_server(database_url: str, encryption_key: str, *args: str, env: dict | None = None, log_path=None):
    """As ``gunicorn``, but yields the ``Server``, for tests that act on its processes."""
    port = free_port()
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JIM_ENCRYPTION_KEY": encryption_key,
        "PYTHONUNBUFFERED": "1",
        "JIM_RATE_LIMIT_ENABLED": "false",  # only the rate-limit tests turn it on
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "gunicorn", "wsgi:app", "--config", "gunicorn.conf.py",
        "--bind", f"127.0.0.1:{port}", *args,
    ]
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(command, cwd=PROJECT, env=environ, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_live(base, process)
        yield Server(base, process)
    finally:
        stopped(process, 30)
        if log_path:
            log.close()


def wait_until_live(base: str, process: subprocess.Popen, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode} before serving")
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health/live", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start serving in time")
