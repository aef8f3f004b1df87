"""Active Directory: the schema import against a bare ldap3 client fetching the same entries, a re-import that
finds nothing new (and must write nothing), the hierarchy import as OUs are added, and GET object-types against
json's own round trip of its body.

    python bench/active_directory.py                       # both stores: 2 to 3 minutes
    python bench/active_directory.py --store sqlite --rounds 3 --ous 1000 2000

In-process (Flask's test client: no HTTP, no gunicorn, so that the figures are the service's own work), on a
SQLite file and a PostgreSQL database of the bench's own (dropped at the end), against a throwaway Samba AD domain
controller (tests/samba_dc.py, which needs root and Debian's samba) over LDAPS, bound as its service account.
Each figure is the median of ``--rounds`` runs; the bare fetch, the connector's discovery alone, a first import
(of a new system) and a re-import through the API run in turn, so that the machine's other load weighs on each
alike, and "best/best" is the ratio of their fastest runs, the least disturbed. It exits 1 when a re-import of an
unchanged directory writes anything.
"""
import argparse
import logging
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import ldap3
from sqlalchemy import event

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path[:0] = [str(PROJECT), str(PROJECT / "tests")]
from big_systems import json_round_trip, line, new_system, service  # noqa: E402
from database import db  # noqa: E402
from samba_dc import BASE, SERVICE_DN, SERVICE_PASSWORD, missing_reason, running_domain_controller  # noqa: E402

from connectors import ldap  # noqa: E402
from connectors.interface import Deadline, Settings  # noqa: E402
from connectors.ldap import ad_schema  # noqa: E402
from connectors.ldap.connection import PAGE_SIZE, VerifiedTls  # noqa: E402

SYSTEMS = "/api/v1/synchronisation/connected-systems"
SCHEMA_DN = f"CN=Schema,CN=Configuration,{BASE}"


def seconds_of(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def median_seconds(call, rounds: int) -> float:
    return statistics.median(seconds_of(call) for _ in range(rounds))


def bare_fetch(dc):
    """What a bare ldap3 client does for the same entries: connect with TLS, bind, page through both searches."""
    server = ldap3.Server(dc.host, port=636, use_ssl=True, tls=VerifiedTls(dc.host, dc.ca_pem), get_info=ldap3.NONE)
    connection = ldap3.Connection(server, SERVICE_DN, SERVICE_PASSWORD, auto_bind=True, read_only=True)
    try:
        for search_filter, attributes in (("(objectClass=classSchema)", ad_schema.CLASS_ATTRIBUTES),
                                          ("(objectClass=attributeSchema)", ad_schema.ATTRIBUTE_ATTRIBUTES)):
            connection.extend.standard.paged_search(SCHEMA_DN, search_filter, attributes=attributes,
                                                    paged_size=PAGE_SIZE, generator=False)
    finally:
        connection.unbind()


@contextmanager
def counted_writes(app):
    """Counts the INSERT, UPDATE and DELETE statements the store is sent meanwhile."""
    writes = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield writes
    finally:
        event.remove(engine, "before_cursor_execute", count)


def organizational_units(dc, first: int, count: int):
    """OUs ``first`` to ``count`` - 1 under OU=Bench: 10 sites of teams, added over LDAPS as Administrator."""
    connection = dc.connect()
    try:
        if first == 0:
            connection.add(f"OU=Bench,{BASE}", "organizationalUnit")
        for number in range(first, count):
            site, team = divmod(number, 200)
            site_dn = f"OU=Site{site:02d},OU=Bench,{BASE}"
            if team == 0:
                connection.add(site_dn, "organizationalUnit")
            else:
                connection.add(f"OU=Team{team:03d},{site_dn}", "organizationalUnit")
    finally:
        connection.unbind()


def schema_figures(dc, store: str, rounds: int, folder: Path) -> bool:
    print(f"\n== AD schema import, {store}: median seconds of {rounds}; the bare fetch, the connector alone, a first "
          f"import and a re-import in turn")
    settings = {ldap.HOST: dc.ldaps_url, ldap.USERNAME: SERVICE_DN, ldap.PASSWORD: SERVICE_PASSWORD,
                ldap.TRUSTED_CA_CERTIFICATES: dc.ca_pem}
    clean = True
    with service(store, folder) as (client, admin):
        system_id = new_system(client, admin, ldap, settings)
        path = f"{SYSTEMS}/{system_id}"
        assert client.post(f"{path}/import-schema", headers=admin).status_code == 200
        bare_times, discovery_times, first_times, again_times = [], [], [], []
        given = Settings({setting.id: value for setting, value in settings.items()}, (SERVICE_PASSWORD,), None)

        def first_import():  # of a system of its own, which has no object types yet
            fresh = f"{SYSTEMS}/{new_system(client, admin, ldap, settings)}/import-schema"
            started = time.perf_counter()
            answer = client.post(fresh, headers=admin)
            first_times.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.json

        for _ in range(rounds):  # in turn, so that the machine's other load weighs on each alike
            bare_times.append(seconds_of(lambda: bare_fetch(dc)))
            discovery_times.append(seconds_of(lambda: ldap.discover_schema(given, Deadline(60))))
            first_import()
            with counted_writes(client.application) as writes:
                again_times.append(seconds_of(lambda: client.post(f"{path}/import-schema", headers=admin)))
            if writes:
                print(f"  A re-import of the unchanged directory wrote: {writes[:3]}")
                clean = False
        listed = client.get(f"{path}/object-types", headers=admin)
        read = median_seconds(lambda: client.get(f"{path}/object-types", headers=admin), rounds)
    types, attributes = len(listed.json), sum(len(found["attributes"]) for found in listed.json)
    bare, first, again = (statistics.median(times) for times in (bare_times, first_times, again_times))
    line("bare ldap3 s", "connector s", "first s", "first/bare", "re-import s", "re-import/bare")
    line(bare, statistics.median(discovery_times), first, f"{first / bare:.2f} x", again, f"{again / bare:.2f} x")
    print(f"  (best/best: first {min(first_times) / min(bare_times):.2f} x, re-import "
          f"{min(again_times) / min(bare_times):.2f} x; no re-import of the unchanged directory wrote anything: "
          f"{clean})")
    line("object types", "attributes", "GET s", "json s", "GET/json")
    floor = json_round_trip(listed.data)
    line(f"{types}", f"{attributes:,}", read, floor, f"{read / floor:.1f} x")
    print(f"  ({len(listed.data) / 1e6:.2f} MB; a first import writes {types} types and {attributes:,} attributes)")
    return clean


def hierarchy_figures(dc, stores: list[str], sizes: list[int], rounds: int, folder: Path):
    print(f"\n== AD hierarchy import: OUs added under OU=Bench; the re-import's median of {rounds}")
    line("store", "OUs added", "containers", "import s", "ms/container", "re-import s")
    settings = {ldap.HOST: dc.ldaps_url, ldap.USERNAME: SERVICE_DN, ldap.PASSWORD: SERVICE_PASSWORD,
                ldap.TRUSTED_CA_CERTIFICATES: dc.ca_pem}
    made = 0
    for size in [0, *sizes]:
        if size > made:
            organizational_units(dc, made, size)
            made = size
        for store in stores:
            with service(store, folder) as (client, admin):
                system_id = new_system(client, admin, ldap, settings)
                path = f"{SYSTEMS}/{system_id}"
                started = time.perf_counter()
                answer = client.post(f"{path}/import-hierarchy", headers=admin)
                seconds = time.perf_counter() - started
                assert answer.status_code == 200, answer.json
                again = median_seconds(lambda: client.post(f"{path}/import-hierarchy", headers=admin), rounds)
                containers = answer.json["totalContainers"]
            line(store, f"{size:,}", f"{containers:,}", seconds, f"{seconds / containers * 1000:.3f}", again)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--ous", type=int, nargs="+", default=[1_000, 2_000])
    arguments = parser.parse_args()
    reason = missing_reason()
    if reason:
        raise SystemExit(reason)
    logging.disable(logging.INFO)  # the request log and alembic's: the figures are the output
    clean = True
    with tempfile.TemporaryDirectory(prefix="jim-bench-ad-") as folder, \
            running_domain_controller(Path(folder)) as dc:
        stores = arguments.store or ("sqlite", "postgresql")
        for store in stores:
            clean = schema_figures(dc, store, arguments.rounds, Path(folder)) and clean
        hierarchy_figures(dc, stores, arguments.ous, arguments.rounds, Path(folder))
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
