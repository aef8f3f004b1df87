"""Big systems: how long an import of one takes, and each read of it against json's own round trip of its body.

    python bench/big_systems.py                  # both stores, every size: about 3 minutes
    python bench/big_systems.py --store sqlite --sizes 2000 20000

In-process (Flask's test client: no HTTP, no gunicorn, so that the figures are the service's own work), on a
SQLite file and a PostgreSQL database of the bench's own (dropped at the end), against a throwaway slapd
(tests/ldap_directory.py) that it fills with OUs (regions of 10 sites of 100 teams), and PostgreSQL schemas
of tables of 25 columns. For each: the import's time and how far it raised the process's peak RSS, a
re-import of the unchanged system, GET partitions or object-types against what json.loads + json.dumps of
the same body take, a container's or an object type's PUT, and how long another system's PUTs took while
the first import ran. A directory past the limit (connectors/limits.py) is refused before anything is
written: its line says how soon.
"""
import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path[:0] = [str(PROJECT), str(PROJECT / "tests")]
from app import create_app  # noqa: E402
from conftest import POSTGRES_SERVER, TEST_ENCRYPTION_KEY, build_schema  # noqa: E402
from database import db  # noqa: E402
from ldap_directory import SERVICE_DN, SERVICE_PASSWORD, SUFFIX, running_directory  # noqa: E402
from models import Role  # noqa: E402
from sql_servers import POSTGRES, many_tables, postgres_database  # noqa: E402

import auth  # noqa: E402
from connectors import ldap, sql  # noqa: E402
from connectors.interface import ImportLimits  # noqa: E402

SYSTEMS = "/api/v1/synchronisation/connected-systems"
COLUMNS = 25
TREE_OUS = 5  # the throwaway directory's own (tests/ldap_directory.py)
REPEATS = 3


def megabytes(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def measured(call):
    """What ``call()`` returns, its seconds, and how far it raised the peak RSS (MB)."""
    Path("/proc/self/clear_refs").write_text("5")
    before = megabytes("VmRSS")
    started = time.perf_counter()
    answer = call()
    return answer, time.perf_counter() - started, megabytes("VmHWM") - before


def json_round_trip(body: bytes) -> float:
    """What json itself takes to load and dump the body, the floor of any answer of it: the best of three."""
    return min(seconds_of(lambda: json.dumps(json.loads(body))) for _ in range(REPEATS))


def seconds_of(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def best_read(client, path: str, admin):
    """A GET's answer and its best time of three, after one that warms the statements' caches: on a machine
    as busy as this one, the best is the one least disturbed, for the read and json's round trip alike."""
    answer = client.get(path, headers=admin)
    assert answer.status_code == 200, answer.json
    return answer, min(seconds_of(lambda: client.get(path, headers=admin)) for _ in range(REPEATS))


@contextmanager
def service(store: str, folder: Path):
    """The app on ``store`` (a fresh SQLite file, or a PostgreSQL database of its own) and an admin key."""
    name = f"jim_bench_big_{os.getpid()}"
    if store == "sqlite":
        url = f"sqlite:///{folder / f'bench-{time.monotonic_ns()}.db'}"
    else:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {name}")
        url = f"{POSTGRES_SERVER}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "JIM_ENCRYPTION_KEYS": [TEST_ENCRYPTION_KEY],
                      "JIM_RATE_LIMIT_ENABLED": False})
    try:
        with app.app_context():
            build_schema()
            key = auth.create_key("bench", Role.ADMINISTRATOR)[1]
        yield app.test_client(), {"X-Api-Key": key}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if store != "sqlite":
            with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def new_system(client, admin, connector, values: dict) -> int:
    created = client.post(SYSTEMS, json={"name": f"Big {time.monotonic_ns()}", "connectorDefinitionId": connector.CONNECTOR.id},
                          headers=admin)
    system_id = created.json["id"]
    body = {"settingValues": {str(setting.id): {setting.value_key: value} for setting, value in values.items()}}
    answer = client.put(f"{SYSTEMS}/{system_id}", json=body, headers=admin)
    assert answer.status_code == 200, answer.json
    return system_id


@contextmanager
def other_writes(client, admin, system_id: int):
    """PUTs of another system, one after another on a thread of their own while the block runs: the seconds
    each took (on SQLite they queue for the store's one write lock behind the import's write). In one process
    they share the GIL with the import, which gunicorn's workers, each a process, do not."""
    waits, stop = [], threading.Event()

    def write():
        while not stop.is_set():
            started = time.perf_counter()
            answer = client.put(f"{SYSTEMS}/{system_id}", json={"description": f"d{len(waits)}"}, headers=admin)
            assert answer.status_code == 200, answer.json
            waits.append(time.perf_counter() - started)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        yield waits
    finally:
        stop.set()
        writer.join()


def ous(count: int, first: int = 0) -> str:
    """LDIF of OUs number ``first`` to ``count`` - 1: regions of 10 sites of 100 teams (1,011 OUs a region)."""
    entries = []
    for number in range(first, count):
        region, rest = divmod(number, 1011)
        region_dn = f"ou=Region{region:03d},{SUFFIX}"
        if rest == 0:
            entries.append(f"dn: {region_dn}\nobjectClass: organizationalUnit\nou: Region{region:03d}\n")
            continue
        site, team = divmod(rest - 1, 101)
        site_dn = f"ou=Site{site},{region_dn}"
        if team == 0:
            entries.append(f"dn: {site_dn}\nobjectClass: organizationalUnit\nou: Site{site}\n")
        else:
            entries.append(f"dn: ou=Team{team:03d},{site_dn}\nobjectClass: organizationalUnit\nou: Team{team:03d}\n")
    return "\n".join(entries)


def line(*cells):
    print("  ".join(f"{cell:>14}" if isinstance(cell, str) else f"{cell:>14.3f}" for cell in cells), flush=True)


def read_line(label: str, answer, seconds: float):
    floor = json_round_trip(answer.data)
    line(label, f"{len(answer.data) / 1e6:.1f} MB", seconds, floor, f"{seconds / floor:.1f} x json")


def hierarchies(store: str, sizes: list[int], folder: Path):
    print(f"\n== hierarchy import, {store}: seconds, peak RSS rise (MB), then each read against json's round trip")
    line("OUs", "import s", "peak MB", "re-import s", "PUT s")
    (folder / f"slapd-{store}").mkdir()
    with running_directory(folder / f"slapd-{store}") as directory:
        made = 0
        for size in sizes:
            directory.tool("ldapadd", ous(size, made))
            made = size
            with service(store, folder) as (client, admin):
                system_id = new_system(client, admin, ldap, {
                    ldap.HOST: directory.url, ldap.USERNAME: SERVICE_DN, ldap.PASSWORD: SERVICE_PASSWORD})
                path = f"{SYSTEMS}/{system_id}"
                other = new_system(client, admin, ldap, {ldap.HOST: directory.url})
                with other_writes(client, admin, other) as waits:
                    answer, seconds, peak = measured(lambda: client.post(f"{path}/import-hierarchy", headers=admin))
                if answer.status_code != 200:
                    line(f"{size + TREE_OUS:,}", seconds, peak, f"{answer.status_code}: {answer.json['message'][:60]}")
                    continue
                again, again_seconds, _ = measured(lambda: client.post(f"{path}/import-hierarchy", headers=admin))
                assert again.json["hasChanges"] is False
                listed, read_seconds = best_read(client, f"{path}/partitions", admin)
                region = next(found for found in listed.json[0]["containers"] if found["name"] == "Region000")
                warm, site = region["childContainers"][:2]  # the first PUT of a process compiles its statements
                client.put(f"{path}/containers/{warm['id']}", json={"selected": True}, headers=admin)
                _, put_seconds, _ = measured(lambda: client.put(f"{path}/containers/{site['id']}",
                                                                json={"selected": True}, headers=admin))
                line(f"{size + TREE_OUS:,}", seconds, peak, again_seconds, put_seconds)
                read_line("  GET partitions", listed, read_seconds)
                line("  other PUTs", f"{len(waits)} in all", max(waits), statistics.median(waits), "longest, median")


def schemas(store: str, sizes: list[int]):
    print(f"\n== SQL schema import, {store} (PostgreSQL tables of {COLUMNS} columns)")
    line("tables", "import s", "peak MB", "re-import s", "PUT s")
    for size in sizes:
        with postgres_database(many_tables(size, COLUMNS)) as database, service(store, Path(tempfile.gettempdir())) as (client, admin):
            system_id = new_system(client, admin, sql, {
                sql.DATABASE_TYPE: "PostgreSQL", sql.HOST: POSTGRES["host"], sql.PORT: POSTGRES["port"],
                sql.DATABASE_NAME: database, sql.USERNAME: POSTGRES["user"], sql.PASSWORD: "unused"})
            path = f"{SYSTEMS}/{system_id}"
            answer, seconds, peak = measured(lambda: client.post(f"{path}/import-schema", headers=admin))
            assert answer.status_code == 200, answer.json
            again, again_seconds, _ = measured(lambda: client.post(f"{path}/import-schema", headers=admin))
            listed, read_seconds = best_read(client, f"{path}/object-types", admin)
            warm, chosen = listed.json[:2]
            client.put(f"{path}/object-types/{warm['id']}", json={"selected": True}, headers=admin)
            _, put_seconds, _ = measured(lambda: client.put(f"{path}/object-types/{chosen['id']}",
                                                            json={"selected": True}, headers=admin))
            line(f"{size:,}", seconds, peak, again_seconds, put_seconds)
            read_line("  GET all", listed, read_seconds)
            for query in ("includeAttributes=false", "selected=true"):
                answer, read_seconds = best_read(client, f"{path}/object-types?{query}", admin)
                read_line(f"  ?{query.split('=')[0]}", answer, read_seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--sizes", type=int, nargs="+", help="OUs to add to the directory's own 5 before each step",
                        default=[2_000, 20_000, ImportLimits().containers - TREE_OUS, 100_000])
    parser.add_argument("--tables", type=int, nargs="+", default=[200, 2_000])
    arguments = parser.parse_args()
    logging.disable(logging.INFO)  # the request log and alembic's: the figures are the output
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="jim-bench-big-")))
        for store in arguments.store or ("sqlite", "postgresql"):
            hierarchies(store, arguments.sizes, folder)
            schemas(store, arguments.tables)


if __name__ == "__main__":
    main()
