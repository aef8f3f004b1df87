"""What scripts/throwaway-slapd and scripts/throwaway-samba-dc share: a test fixture's server run by hand, in a
temporary folder of its own, until Ctrl-C (or SIGTERM), the folder removed afterwards."""
import shutil
import signal
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path


def stop(signal_number, frame):
    raise SystemExit(0)


def run_until_stopped(prefix: str, running: Callable[[Path], AbstractContextManager],
                      announced: Callable[[object, Path], str]):
    """Runs ``running(folder)`` in a new temporary folder named from ``prefix``, says ``announced(server,
    folder)`` once it is up, and waits for a signal to stop."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        with running(folder) as server:
            print(announced(server, folder), flush=True)
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signal_number, stop)
            signal.pause()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
