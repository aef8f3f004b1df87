"""A real SCIM 2.0 service provider over loopback: scim2-server (User, Group, the enterprise User extension,
an in-memory store), started as its command starts it, on a free port of its own."""
import json
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from servers import free_port, stopped

COMMAND = Path(sys.executable).with_name("scim2-server")


@contextmanager
def scim_provider(bearer_token: str, folder: Path | None = None, schemas: list | None = None,
                  resource_types: list | None = None):
    """Yields the provider's SCIM base URL (``http://127.0.0.1:PORT/v2``); it accepts ``bearer_token`` alone.

    It serves RFC 7643's schemas and resource types, or ``schemas`` and ``resource_types`` (written to files
    in ``folder``) in their place.
    """
    port = free_port()
    command = [COMMAND, "--port", str(port), "--bearer-token", bearer_token]
    for option, documents in (("--schema", schemas), ("--resource-type", resource_types)):
        if documents is not None:
            path = folder / f"{option[2:]}.json"
            path.write_text(json.dumps(documents))
            command += [option, str(path)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v2"
    try:
        wait_until_serving(base, process)
        yield base
    finally:
        stopped(process)


def wait_until_serving(base: str, process: subprocess.Popen, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"scim2-server exited with {process.returncode} before serving")
        try:
            # The one endpoint it serves without a token.
            with urllib.request.urlopen(f"{base}/ServiceProviderConfig", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("scim2-server did not start serving in time")
