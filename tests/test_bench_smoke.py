"""The benchmark runs end to end: a second a scenario, one round. It checks what the run reports, not its speed."""
import os
import re
import shutil
import subprocess
import sys

import psycopg
import pytest

from absent import absent
from conftest import POSTGRES_SERVER, postgres_admin
from samba_dc import require_samba
from servers import PROJECT

FINAL_LINES = [
    r"ratio put/floor sqlite = \d+\.\d+",
    r"ratio put/floor postgres = \d+\.\d+",
    r"ratio get/floor sqlite = \d+\.\d+",
    r"lost updates = 0",
    r"non-2xx = 0",
]


@pytest.fixture
def benchmark_can_run():
    if shutil.which("wrk") is None and os.geteuid() != 0:
        pytest.skip("wrk is not installed and cannot be installed without root: apt-get install wrk")
    try:
        postgres_admin().close()
    except psycopg.OperationalError as error:
        absent(f"PostgreSQL is not reachable at {POSTGRES_SERVER}: {error}")


@pytest.mark.slow
def test_a_short_benchmark_completes_with_no_lost_update_and_no_error(benchmark_can_run):
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--seconds", "1", "--rounds", "1", "--systems", "2",
         "--postgres", POSTGRES_SERVER],
        cwd=PROJECT, capture_output=True, text=True, timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    last_lines = result.stdout.strip().splitlines()[-len(FINAL_LINES):]
    for pattern, line in zip(FINAL_LINES, last_lines, strict=True):
        assert re.fullmatch(pattern, line), result.stdout


@pytest.mark.slow
def test_the_active_directory_benchmark_completes_and_a_re_import_writes_nothing(benchmark_can_run):
    require_samba()
    result = subprocess.run(
        [sys.executable, "bench/active_directory.py", "--rounds", "1", "--ous", "20"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr  # 1 when the re-import wrote anything
    assert re.search(r"^ +29 +5,431 ", result.stdout, re.MULTILINE), result.stdout  # the object types' line
    assert len(re.findall(r"^ +(sqlite|postgresql) +20 +", result.stdout, re.MULTILINE)) == 2, result.stdout
