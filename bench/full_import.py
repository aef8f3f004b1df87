"""Full Import benchmark: objects a second, the worker's memory, and PUTs while an import runs, on each store.

    python bench/full_import.py                                  # 100,000 LDAP entries, 1,000,000 rows: ~15 min
    python bench/full_import.py --entries 20000 --rows 100000    # a quicker look
    python bench/full_import.py --stores sqlite --sources ldap

For each store (a SQLite file of its own; a PostgreSQL database jim_bench_import_<pid>, dropped at the end) and
each source (a throwaway slapd holding ``--entries`` inetOrgPerson entries of 10 selected attributes; a CSV file
of ``--rows`` rows; a PostgreSQL table of ``--rows`` rows), it configures a connected system through the API,
starts a real worker (``flask --app app worker``, a process of its own), executes the Full Import and waits for
it as Start-JIMRunProfile -Wait does, then executes it again over the unchanged source. It prints, for each
run, objects a second over the whole run (the activity's executed to completed), the worker's CPU seconds for
it (user and system, from /proc: steadier than the wall clock on a shared machine), its peak RSS (VmHWM) and
the load average. During the first LDAP import it PUTs another system and this one without pause, through
the service served by gunicorn as bench/run.py serves it (its gunicorn.conf.py; its log in bench/results),
from a client process of its own, and prints their p50 and p99, all of them and the other system's alone,
beside those of the same PUTs with nothing else running and with one core kept busy by a loop (a control: how
much of the difference is merely a busy machine).
"""
import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "tests"))
from cryptography.fernet import Fernet  # noqa: E402
from run import RESULTS, gunicorn  # noqa: E402  (bench/run.py's gunicorn, as its benchmark serves the service)

SYSTEMS = "/api/v1/synchronisation/connected-systems"
POSTGRES = os.environ.get("JIM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
ATTRIBUTES = ("cn", "sn", "givenName", "mail", "telephoneNumber", "title", "description", "employeeNumber",
              "departmentNumber")  # and uid, the external id: 10 selected
IDLE_PUTS = 2000  # PUTs measured with no import running: enough for a steady 99th percentile


def entries_ldif(count: int, suffix: str) -> str:
    parts = [f"dn: ou=Bench,{suffix}\nobjectClass: organizationalUnit\nou: Bench\n"]
    for n in range(count):
        parts.append(textwrap.dedent(f"""\
            dn: uid=u{n},ou=Bench,{suffix}
            objectClass: inetOrgPerson
            uid: u{n}
            cn: User {n}
            sn: Surname{n}
            givenName: Given{n}
            mail: u{n}@example.com
            telephoneNumber: +44 20 7946 {n % 10000:04}
            title: Engineer grade {n % 7}
            description: Benchmark entry number {n}
            employeeNumber: E{n:07}
            departmentNumber: D{n % 40}
            """))
    return "\n".join(parts)


@contextmanager
def store(name: str, folder: Path):
    if name == "sqlite":
        yield f"sqlite:///{folder / 'jim.db'}"
        return
    database = f"jim_bench_import_{os.getpid()}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {database}")
    try:
        yield f"{POSTGRES}/{database}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


class Service:
    """The app on one store, driven in-process through its test client, and its worker, a real process."""

    def __init__(self, url: str, folder: Path):
        from app import create_app  # noqa: PLC0415
        from auth import create_key  # noqa: PLC0415
        from database import db  # noqa: PLC0415
        from flask_migrate import upgrade  # noqa: PLC0415
        from models import Role, seed_catalog  # noqa: PLC0415

        self.key = Fernet.generate_key().decode()
        self.files = folder / "files"
        self.files.mkdir(exist_ok=True)
        self.environment = {"DATABASE_URL": url, "JIM_ENCRYPTION_KEY": self.key,
                            "JIM_TASK_QUEUE_URL": f"sqlite:///{folder / 'tasks.db'}",
                            "JIM_CONNECTOR_FILES_ROOT": str(self.files), "JIM_RATE_LIMIT_ENABLED": "false",
                            "JIM_LOG_LEVEL": "WARNING"}
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": url, "JIM_ENCRYPTION_KEYS": [self.key],
                               "JIM_TASK_QUEUE_URL": self.environment["JIM_TASK_QUEUE_URL"],
                               "JIM_CONNECTOR_FILES_ROOT": str(self.files), "JIM_RATE_LIMIT_ENABLED": False,
                               "JIM_LOG_LEVEL": "WARNING"},
                              instance_path=str(folder / "instance"))
        with self.app.app_context():
            upgrade()
            seed_catalog()
            api_key = create_key("bench", Role.ADMINISTRATOR)[1]
            db.session.remove()
        self.headers = {"X-Api-Key": api_key, "Content-Type": "application/json"}
        self.client = self.app.test_client()

    def call(self, method: str, path: str, expected: int = 200, **kwargs):
        answer = getattr(self.client, method)(path, headers=self.headers, **kwargs)
        assert answer.status_code == expected, (path, answer.status_code, answer.get_json())
        return answer.get_json()

    def system(self, connector_id: int, values: dict, type_name: str, external_id: str, attributes) -> int:
        from connectors import CONNECTORS  # noqa: PLC0415

        settings = CONNECTORS[connector_id].settings_by_id
        made = self.call("post", SYSTEMS, 201, json={"name": f"Bench {time.monotonic_ns()}",
                                                     "connectorDefinitionId": connector_id})
        body = {"settingValues": {str(i): {settings[i].value_key: v} for i, v in values.items()}}
        self.call("put", f"{SYSTEMS}/{made['id']}", json=body)
        self.call("post", f"{SYSTEMS}/{made['id']}/import-schema")
        chosen = next(t for t in self.call("get", f"{SYSTEMS}/{made['id']}/object-types") if t["name"] == type_name)
        self.call("put", f"{SYSTEMS}/{made['id']}/object-types/{chosen['id']}", json={"selected": True})
        by_name = {a["name"]: a["id"] for a in chosen["attributes"]}
        edits = {str(by_name[name]): {"selected": True} for name in attributes}
        edits[str(by_name[external_id])] = {"selected": True, "isExternalId": True}
        self.call("put", f"{SYSTEMS}/{made['id']}/object-types/{chosen['id']}/attributes", json={"attributes": edits})
        return made["id"]

    def profile(self, system_id: int) -> int:
        return self.call("post", f"{SYSTEMS}/{system_id}/run-profiles", 201,
                         json={"name": "Full Import", "runType": "FullImport"})["id"]

    @contextmanager
    def worker(self):
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=PROJECT,
                                   env={**os.environ, **self.environment}, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            yield process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def run(self, system_id: int, profile_id: int) -> dict:
        """Execute, wait as Start-JIMRunProfile -Wait does (it polls every 2 s; this, every 0.2 s), the activity."""
        queued = self.call("post", f"{SYSTEMS}/{system_id}/run-profiles/{profile_id}/execute", 202)
        while True:
            progress = self.call("get", f"/api/v1/activities/{queued['activityId']}/progress")
            if progress["status"] != "InProgress":
                return {**self.call("get", f"/api/v1/activities/{queued['activityId']}"),
                        "seconds": progress["elapsedSeconds"]}
            time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far, user and system: steadier than the wall clock on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def put_times(base: str, api_key: str, system_ids: list[int], stop=None, count: int = 0) -> list[float]:
    """Seconds each PUT of a description took through gunicorn, over one kept-alive connection as a client's,
    round robin over the systems, until ``stop`` (an event) is set or ``count`` PUTs are done."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"X-Api-Key": api_key, "Content-Type": "application/json", "Accept": "application/json"}
    times, n = [], 0
    try:
        while (stop is None and n < count) or (stop is not None and not stop.is_set()):
            body = json.dumps({"description": f"put {n}"})
            started = time.perf_counter()
            connection.request("PUT", f"{SYSTEMS}/{system_ids[n % len(system_ids)]}", body, headers)
            answer = connection.getresponse()
            answer.read()
            times.append(time.perf_counter() - started)
            assert answer.status == 200, answer.status
            n += 1
    finally:
        connection.close()
    return times


def put_times_into(base: str, api_key: str, system_ids: list[int], stop, into):
    into.put(put_times(base, api_key, system_ids, stop))


@contextmanager
def putting(server, api_key: str, system_ids: list[int], times: list[float]):
    """PUTs without pause while the block runs, from a process of their own (in this one, the bench's own
    polling of the run's progress would take the interpreter from the client and add to its times); their
    times added to ``times`` once the block is over."""
    spawn = multiprocessing.get_context("spawn")
    stop, into = spawn.Event(), spawn.Queue()
    client = spawn.Process(target=put_times_into, args=(server.base, api_key, system_ids, stop, into))
    client.start()
    try:
        yield
    finally:
        stop.set()
        times.extend(into.get(timeout=60))
        client.join(10)


@contextmanager
def one_core_busy():
    loop = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        loop.kill()
        loop.wait()


def quantiles(times: list[float]) -> str:
    """p50 and p99 of all the PUTs, and of those of the other system (every other one, from the first)."""
    if len(times) < 4:
        return "n/a"
    every, other = statistics.quantiles(times, n=100), statistics.quantiles(times[0::2], n=100)
    return (f"p50 {every[49] * 1000:5.1f} ms, p99 {every[98] * 1000:5.1f} ms over {len(times):,} PUTs; "
            f"the other system's p50 {other[49] * 1000:5.1f} ms, p99 {other[98] * 1000:5.1f} ms")


def measured_run(service: Service, worker: subprocess.Popen, system_id: int, profile_id: int,
                 alongside=nullcontext()) -> dict:
    """The run's activity, with the CPU seconds the worker spent on it (from when its start is over), with
    ``alongside`` entered for the run alone."""
    before = cpu_seconds(worker.pid)
    while True:  # the worker's start (imports, the app) is not the run's
        time.sleep(0.5)
        now = cpu_seconds(worker.pid)
        if now - before < 0.02:
            break
        before = now
    with alongside:
        activity = service.run(system_id, profile_id)
    return {**activity, "cpu": cpu_seconds(worker.pid) - before}


def report(store_name: str, source: str, label: str, activity: dict, rss: float):
    processed = activity["objectsProcessed"]
    rate = processed / activity["seconds"] if activity["seconds"] else float("nan")
    print(f"{store_name:10} {source:9} {label:10} {activity['status']:17} {processed:>9,} objects "
          f"{activity['seconds']:8.1f} s {rate:9,.0f} objects/s  worker CPU {activity['cpu']:6.1f} s "
          f"({processed / activity['cpu']:,.0f} objects/CPU s)  peak RSS {rss:6.1f} MiB  "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    if activity["errorMessage"]:
        print(f"{'':10} {activity['errorMessage']}", flush=True)


def ldap_source(stack: ExitStack, folder: Path, entries: int):
    from ldap_directory import ADMIN_DN, ADMIN_PASSWORD, SERVICE_DN, SERVICE_PASSWORD, SUFFIX, running_directory

    directory = stack.enter_context(running_directory(folder / "slapd"))
    subprocess.run(["ldapadd", "-x", "-H", directory.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD],
                   input=entries_ldif(entries, SUFFIX).encode(), check=True, capture_output=True, timeout=3600)
    return directory, SERVICE_DN, SERVICE_PASSWORD, SUFFIX


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--sources", default="ldap,csv,postgresql")
    options = parser.parse_args()
    sources = options.sources.split(",")
    folder = Path(tempfile.mkdtemp(prefix="jim-bench-import-"))
    (folder / "slapd").mkdir()
    try:
        with ExitStack() as stack:
            directory = ldap_source(stack, folder, options.entries) if "ldap" in sources else None
            table_database = None
            if "postgresql" in sources:
                table_database = f"jim_bench_rows_{os.getpid()}"
                with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
                    admin.execute(f"DROP DATABASE IF EXISTS {table_database} WITH (FORCE)")
                    admin.execute(f"CREATE DATABASE {table_database}")
                with psycopg.connect(f"{POSTGRES}/{table_database}", autocommit=True) as rows:
                    rows.execute("CREATE TABLE people (id integer PRIMARY KEY, name text, email text, age integer,"
                                 " hired date)")
                    rows.execute(f"INSERT INTO people SELECT n, 'Person ' || n, 'p' || n || '@example.com', "
                                 f"n % 90, DATE '2020-01-01' + n % 2000 FROM generate_series(1, {options.rows}) n")
                stack.callback(drop_database, table_database)
            for store_name in options.stores.split(","):
                store_folder = folder / store_name
                store_folder.mkdir()
                with store(store_name, store_folder) as url:
                    service = Service(url, store_folder)
                    if directory is not None:
                        bench_ldap(service, store_name, directory)
                    if "csv" in sources:
                        with open(service.files / "people.csv", "w") as file:
                            file.write("id,name,email,age,hired\n")
                            for n in range(1, options.rows + 1):
                                file.write(f"{n},Person {n},p{n}@example.com,{n % 90},2020-01-{n % 28 + 1:02}\n")
                        system_id = service.system(1, {101: "people.csv"}, "people", "id",
                                                   ["name", "email", "age", "hired"])
                        bench_source(service, store_name, "csv", system_id)
                    if table_database is not None:
                        server = psycopg.conninfo.conninfo_to_dict(POSTGRES)
                        values = {201: "PostgreSQL", 202: server.get("host", "127.0.0.1"),
                                  203: int(server.get("port", 5432)), 204: table_database,
                                  205: server.get("user", "postgres"), 206: "unused-by-trust"}
                        system_id = service.system(2, values, "people", "id", ["name", "email", "age", "hired"])
                        bench_source(service, store_name, "postgres", system_id)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def drop_database(name: str):
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def bench_source(service: Service, store_name: str, source: str, system_id: int):
    profile_id = service.profile(system_id)
    for label in ("first", "unchanged"):
        with service.worker() as worker:
            activity = measured_run(service, worker, system_id, profile_id)
            report(store_name, source, label, activity, peak_rss_mib(worker.pid))


def bench_ldap(service: Service, store_name: str, found):
    directory, bind_dn, password, suffix = found
    system_id = service.system(3, {1: directory.url, 2: bind_dn, 3: password, 4: directory.port},
                               "inetOrgPerson", "uid", ATTRIBUTES)
    service.call("post", f"{SYSTEMS}/{system_id}/import-hierarchy")
    partition = next(p for p in service.call("get", f"{SYSTEMS}/{system_id}/partitions")
                     if p["externalId"].lower() == suffix)
    service.call("put", f"{SYSTEMS}/{system_id}/partitions/{partition['id']}", json={"selected": True})
    bench = next(c for c in partition["containers"] if c["name"] == "Bench")
    service.call("put", f"{SYSTEMS}/{system_id}/containers/{bench['id']}", json={"selected": True})
    other = service.call("post", SYSTEMS, 201, json={"name": "Bench other", "connectorDefinitionId": 3})["id"]
    profile_id = service.profile(system_id)
    RESULTS.mkdir(exist_ok=True)
    with gunicorn(f"full-import-{store_name}", "wsgi:app", "/api/v1/health/live",
                  {**os.environ, **service.environment, "PYTHONUNBUFFERED": "1"}) as server:
        key, ids = service.headers["X-Api-Key"], [other, system_id]
        idle = put_times(server.base, key, ids, count=IDLE_PUTS)
        with one_core_busy():
            busy = put_times(server.base, key, ids, count=IDLE_PUTS)
        during: list[float] = []
        with service.worker() as worker:
            activity = measured_run(service, worker, system_id, profile_id, putting(server, key, ids, during))
            report(store_name, "ldap", "first", activity, peak_rss_mib(worker.pid))
    print(f"{store_name:10} PUTs through gunicorn, idle:            {quantiles(idle)}", flush=True)
    print(f"{store_name:10} PUTs through gunicorn, one core busy:   {quantiles(busy)}", flush=True)
    print(f"{store_name:10} PUTs through gunicorn, during import:   {quantiles(during)}", flush=True)
    with service.worker() as worker:
        report(store_name, "ldap", "unchanged", measured_run(service, worker, system_id, profile_id),
               peak_rss_mib(worker.pid))


if __name__ == "__main__":
    main()
