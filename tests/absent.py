"""What a test needs and this machine lacks: the test skipped, or failed where nothing may be missing."""
import os

import pytest


def absent(message: str):
    """Skips the test, saying what is missing; with CI=true, where scripts/test installs every package and the
    services run, fails it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI needs it)", pytrace=False)
    pytest.skip(message)
