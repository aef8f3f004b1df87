"""A real gunicorn over loopback, for tests where behaviour across processes matters."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, encryption_key: str, *args: str, env: dict | None = None, log_path=None):
    """Serve the app with gunicorn on a free loopback port; yields the base URL and stops it afterwards."""
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
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
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
