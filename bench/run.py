"""The benchmark: how fast a safe PUT can be, measured as users meet the service.

    python bench/run.py                      # 3 rounds of 10 s a scenario: about 4 minutes
    python bench/run.py --seconds 1 --rounds 1   # a smoke run

It serves three things under gunicorn with the production gunicorn.conf.py, side by side on loopback: the
service on SQLite, the service on PostgreSQL (a database of its own, dropped at the end) and the floor
(bench/floor.py, a Flask view with no work). Each round drives the floor, then each store's PUT, GET of one
system and GET of the list, with wrk (16 connections, bench/wrk.lua). After each PUT round it checks that no
update was lost: every 2xx answer must be a change recorded in the database. It ends with the lines the issue
asks for: the ratios to the floor, lost updates and non-2xx answers.
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
RESULTS = BENCH / "results"  # the gunicorn logs of the last run (not committed)
sys.path.insert(0, str(PROJECT))
from config import database_url  # noqa: E402  (the service's own reading of DATABASE_URL)

SYSTEMS = "/api/v1/synchronisation/connected-systems"
LDAP_CONNECTOR = 3
MIB = 1024 * 1024
BENCH_RATE_LIMIT = 100_000_000  # requests a minute per key: far above what any run sends


@dataclass
class Server:
    """One gunicorn serving on loopback: what the load goes to, and whose workers are measured."""

    label: str
    base: str
    process: subprocess.Popen
    database: str | None = None  # the service's DATABASE_URL; None for the floor
    key: str = ""  # an Administrator API key
    system_id: int = 0  # the connected system that is PUT and read


@dataclass
class Load:
    """What one wrk run saw."""

    requests: int
    seconds: float
    sent: int
    ok: int
    non2xx: int
    p50_ms: float
    p99_ms: float
    socket_errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass
class Scenario:
    """One line of the table: its loads, one a round."""

    name: str
    loads: list[Load] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(load, attribute) for load in self.loads)

    def total(self, attribute: str) -> int:
        return sum(getattr(load, attribute) for load in self.loads)


# Starting and stopping what is measured


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(label: str, app: str, live_path: str, env: dict):
    """gunicorn with the service's gunicorn.conf.py on a free loopback port; stopped when the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", app, "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    with open(RESULTS / f"{label}.log", "wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_live(base + live_path, process)
            yield Server(label, base, process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_live(url: str, process: subprocess.Popen, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode} before serving {url}; see its log")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not serve {url} in time")


def flask_command(env: dict, *args: str) -> str:
    """Run an operator command (``flask --app app ...``) as an operator would; its output."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=PROJECT, env=env, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def call(server: Server, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        server.base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"X-Api-Key": server.key, "Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@contextmanager
def service(label: str, raw_database_url: str, systems: int):
    """The service on one store, initialised as an operator would, holding ``systems`` LDAP systems."""
    env = {
        **os.environ,
        "DATABASE_URL": raw_database_url,
        "JIM_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PYTHONUNBUFFERED": "1",
        # Rate limiting stays on, as deployed, so that its cost is measured; only its limit is out of reach,
        # or the benchmark would measure 429s.
        "JIM_RATE_LIMIT_AUTHENTICATED_PER_MINUTE": str(BENCH_RATE_LIMIT),
    }
    flask_command(env, "init-db")
    key = flask_command(env, "api-key", "create", "--name", "bench", "--role", "Administrator").strip().splitlines()[-1]
    with gunicorn(label, "wsgi:app", "/api/v1/health/live", env) as server:
        server.database, server.key = raw_database_url, key
        for number in range(1, systems + 1):
            created = call(server, "POST", SYSTEMS, {"name": f"Bench LDAP {number}", "connectorDefinitionId": LDAP_CONNECTOR})
            server.system_id = server.system_id or created["id"]
        yield server


@contextmanager
def postgres_database(server_url: str):
    """A database of this run's own on the PostgreSQL server, dropped when the block ends."""
    name = f"jim_bench_{os.getpid()}"
    try:
        admin = psycopg.connect(f"{server_url}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        raise SystemExit(f"PostgreSQL is not reachable at {server_url}: {error}") from None
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield f"{server_url}/{name}"
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# Measuring


def ensure_wrk():
    """Debian's wrk, installed when missing (this machine's user is root)."""
    if shutil.which("wrk"):
        return
    print("wrk is missing: installing Debian's wrk ...", flush=True)
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        if subprocess.run(command, stdout=subprocess.DEVNULL).returncode != 0:
            raise SystemExit("could not install wrk; install it with: apt-get install wrk")


def drive(url: str, method: str, key: str, tag: str, seconds: float, connections: int, threads: int) -> Load:
    """One wrk run against ``url``."""
    env = {**os.environ, "BENCH_METHOD": method, "BENCH_KEY": key, "BENCH_TAG": tag}
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(BENCH / "wrk.lua"), url,
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    line = next((line for line in result.stdout.splitlines() if line.startswith("BENCH ")), None)
    if result.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed on {method} {url}:\n{result.stdout}\n{result.stderr}")
    values = {name: int(value) for name, value in re.findall(r"(\w+)=(\d+)", line)}
    return Load(
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        sent=values["sent"],
        ok=values["ok"],
        non2xx=values["non2xx"],
        p50_ms=values["p50_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        socket_errors=sum(values[name] for name in ("connect_errors", "read_errors", "write_errors", "timeouts")),
    )


def recorded_changes(server: Server) -> int:
    """How many changes the store has recorded for the PUT target: its change history's "Updated" records.

    Every real change writes one, in the transaction of the change, so a 2xx without a record is a lost update.
    """
    engine = create_engine(database_url(server.database, ""))
    try:
        with engine.connect() as connection:
            return connection.scalar(
                text("SELECT count(*) FROM connected_system_changes WHERE connected_system_id = :id"
                     " AND action = 'Updated'"),
                {"id": server.system_id},
            )
    finally:
        engine.dispose()


def settled_changes(server: Server) -> int:
    """The count once the requests still in flight when wrk stopped have been served."""
    count = recorded_changes(server)
    for _ in range(50):
        time.sleep(0.1)
        again = recorded_changes(server)
        if again == count:
            return count
        count = again
    return count


def worker_peak_rss(server: Server) -> int:
    """The largest peak RSS (VmHWM) among the server's gunicorn workers, in bytes."""
    peak = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue  # a process that ended meanwhile
        if int(fields.get("PPid", "0")) == server.process.pid and "VmHWM" in fields:
            peak = max(peak, int(fields["VmHWM"].split()[0]) * 1024)
    return peak


@dataclass
class PutCheck:
    """One PUT round's count: every 2xx must be a recorded change."""

    label: str
    ok: int
    changes: int
    in_flight: int  # requests wrk sent but stopped waiting for at its deadline: served, unanswered

    @property
    def lost(self) -> int:
        return max(0, self.ok - self.changes)

    @property
    def unexplained(self) -> int:
        """Changes beyond the 2xx answers and the requests in flight: writes that answered an error."""
        return max(0, self.changes - self.ok - self.in_flight)


def run_round(number: int, floor: Server, services: list[Server], scenarios: dict, rss: dict, args) -> list[PutCheck]:
    def measure(name: str, url: str, method: str, key: str = "", tag: str = "") -> Load:
        load = drive(url, method, key, tag, args.seconds, args.connections, args.threads)
        scenarios.setdefault(name, Scenario(name)).loads.append(load)
        print(f"  round {number} {name:<18} {load.rate:8.0f} req/s  p50 {load.p50_ms:6.2f} ms  "
              f"p99 {load.p99_ms:6.2f} ms  non-2xx {load.non2xx}", flush=True)
        return load

    checks = []
    measure("floor GET", floor.base + "/", "GET")
    for server in services:
        one = f"{server.base}{SYSTEMS}/{server.system_id}"
        before = recorded_changes(server)
        put = measure(f"{server.label} PUT", one, "PUT", server.key, tag=f"r{number}")
        changes = settled_changes(server) - before
        checks.append(PutCheck(f"{server.label} round {number}", put.ok, changes, put.sent - put.requests))
        measure(f"{server.label} GET one", one, "GET", server.key)
        measure(f"{server.label} GET list", server.base + SYSTEMS, "GET", server.key)
    for server in (floor, *services):
        rss.setdefault(server.label, []).append(worker_peak_rss(server))
    return checks


# Reporting


def ratio(scenarios: dict, name: str) -> float:
    return scenarios[name].median("rate") / scenarios["floor GET"].median("rate")


def ratio_line(scenarios: dict, label: str, name: str) -> str:
    """One of the final lines; ``n/a`` for a store left out with --stores."""
    return f"ratio {label} = {ratio(scenarios, name):.3f}" if name in scenarios else f"ratio {label} = n/a"


def report(scenarios: dict, checks: list[PutCheck], rss: dict):
    print()
    print(f"{'scenario':<18} {'req/s by round':<22} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7} "
          f"{'non-2xx':>7} {'sock err':>8} {'/floor':>6}")
    for scenario in scenarios.values():
        by_round = " ".join(f"{load.rate:.0f}" for load in scenario.loads)
        p50, p99 = scenario.median("p50_ms"), scenario.median("p99_ms")
        print(f"{scenario.name:<18} {by_round:<22} {scenario.median('rate'):7.0f} {p50:7.2f} {p99:7.2f} "
              f"{p99 / p50 if p50 else 0:7.1f} {scenario.total('non2xx'):7d} {scenario.total('socket_errors'):8d} "
              f"{ratio(scenarios, scenario.name):6.3f}")
    print("(medians over the rounds; /floor is the median req/s over the floor's)")

    print()
    for check in checks:
        print(f"{check.label}: 2xx {check.ok}, recorded changes {check.changes}, in flight at wrk's stop "
              f"{check.in_flight}, lost {check.lost}" + (f", UNEXPLAINED CHANGES {check.unexplained}" if check.unexplained else ""))

    print()
    print("peak RSS of one worker (VmHWM), MiB, by round:")
    for label, peaks in rss.items():
        series = " ".join(f"{peak / MIB:.1f}" for peak in peaks)
        if len(peaks) < 2:
            verdict = "one round: growth not measured"
        else:
            growth = (peaks[-1] - peaks[1 if len(peaks) > 2 else 0]) / MIB
            verdict = f"grows by {growth:.1f} MiB after warm-up" if growth > 1 else "steady after warm-up"
        print(f"  {label:<9} {series}  ({verdict})")

    lost = sum(check.lost for check in checks)
    non2xx = sum(scenario.total("non2xx") for scenario in scenarios.values())
    print()
    print(f"socket errors = {sum(scenario.total('socket_errors') for scenario in scenarios.values())}")
    print(ratio_line(scenarios, "put/floor sqlite", "sqlite PUT"))
    print(ratio_line(scenarios, "put/floor postgres", "postgres PUT"))
    print(ratio_line(scenarios, "get/floor sqlite", "sqlite GET one"))
    print(f"lost updates = {lost}")
    print(f"non-2xx = {non2xx}")
    return lost, non2xx


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of one wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each over every scenario (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads (default 2)")
    parser.add_argument("--systems", type=int, default=25, help="connected systems in each store, one list page (default 25)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's, one per core)")
    parser.add_argument("--stores", default="sqlite,postgres", help="stores to measure (default: sqlite,postgres)")
    parser.add_argument(
        "--postgres", default=os.environ.get("JIM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"),
        help="PostgreSQL server to make a database on (default: JIM_TEST_POSTGRES_URL or the local one)",
    )
    args = parser.parse_args(argv)
    if args.seconds < 1:
        parser.error("--seconds must be at least 1: wrk counts whole seconds")
    args.seconds = int(args.seconds)
    args.stores = [store.strip() for store in args.stores.split(",") if store.strip()]
    if not args.stores or not set(args.stores) <= {"sqlite", "postgres"}:
        parser.error("--stores takes sqlite, postgres or both, comma-separated")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    ensure_wrk()
    if args.workers:
        os.environ["WEB_CONCURRENCY"] = str(args.workers)
    scenarios, rss, checks = {}, {}, []
    with ExitStack() as stack:
        RESULTS.mkdir(exist_ok=True)
        # The SQLite file lives on the project's disk, as the instance folder does (/tmp may be a RAM disk).
        store = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sqlite-", dir=RESULTS)))
        print(f"starting the floor and the service on {' and '.join(args.stores)} (gunicorn logs in {RESULTS}) ...",
              flush=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        floor = stack.enter_context(gunicorn("floor", "bench.floor:app", "/", env))
        services = []
        if "sqlite" in args.stores:
            services.append(stack.enter_context(service("sqlite", f"sqlite:///{store / 'jim.db'}", args.systems)))
        if "postgres" in args.stores:
            postgres_url = stack.enter_context(postgres_database(args.postgres))
            services.append(stack.enter_context(service("postgres", postgres_url, args.systems)))
        for number in range(1, args.rounds + 1):
            checks += run_round(number, floor, services, scenarios, rss, args)
    lost, non2xx = report(scenarios, checks, rss)
    return 1 if lost or non2xx or any(check.unexplained for check in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
