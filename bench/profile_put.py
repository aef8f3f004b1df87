"""Where a PUT's time goes: the seed's PUT (name plus two settings) in-process, with Flask's test client.

    python bench/profile_put.py                  # SQLite, a temporary file under bench/results
    python bench/profile_put.py --puts 500 --database-url postgresql://postgres@127.0.0.1:5432/DB

Prints, for one PUT: the SQL statements it sends (SQLAlchemy's ``before_cursor_execute``, plus commits and
rollbacks); the time of a PUT and of a GET without a profiler; the PUT step by step (authenticate, lock and
load, validate, apply, flush, COMMIT, dump, the driver's own time), with the time and the function calls of
each; the calls a PUT makes inside the WSGI app (cProfile, so the test client's own work is left out) and
cProfile's hottest functions; and pyinstrument's call tree. A PostgreSQL database given
with --database-url must exist; its tables are created and emptied.
"""
import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet
from limits.strategies import FixedWindowRateLimiter
from marshmallow import Schema
from pyinstrument import Profiler
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.orm import Session

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results"
sys.path.insert(0, str(PROJECT))
import app as app_module  # noqa: E402
import auth  # noqa: E402
import systems  # noqa: E402
from app import create_app  # noqa: E402
from auth import create_key  # noqa: E402
from config import database_url  # noqa: E402
from database import db  # noqa: E402
from models import Role, seed_catalog  # noqa: E402

SYSTEMS = "/api/v1/synchronisation/connected-systems"


class PutBodies:
    """The benchmark's PUT: every one a real change (new name, new values of settings 1 and 2)."""

    def __init__(self):
        self.count = 0

    def next(self) -> dict:
        self.count += 1
        n = self.count
        return {
            "name": f"Profiled {n}",
            "settingValues": {
                "1": {"stringValue": f"ldap://dc-{n}.example.com:389"},
                "2": {"stringValue": f"CN=svc-{n},OU=Service,DC=example,DC=com"},
            },
        }


def make_app(url: str):
    # Rate limiting on, as deployed, with a limit no profile reaches: its cost is part of a PUT's.
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "JIM_ENCRYPTION_KEYS": [Fernet.generate_key().decode()],
                      "JIM_LOG_LEVEL": "WARNING", "JIM_RATE_LIMIT_AUTHENTICATED_PER_MINUTE": 100_000_000})
    with app.app_context():
        db.create_all()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        seed_catalog()
        key = create_key("profile", Role.ADMINISTRATOR)[1]
    return app, key


class Counted:
    """Counts what the app sends to the database: statements (with their text) and commits and rollbacks."""

    def __init__(self, engine):
        self.statements, self.commits, self.rollbacks = [], 0, 0
        event.listen(engine, "before_cursor_execute", self.on_execute)
        event.listen(engine, "commit", self.on_commit)
        event.listen(engine, "rollback", self.on_rollback)

    def on_execute(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(" ".join(statement.split()))

    def on_commit(self, conn):
        self.commits += 1

    def on_rollback(self, conn):
        self.rollbacks += 1

    def reset(self):
        self.statements, self.commits, self.rollbacks = [], 0, 0


def profiled_wsgi(inner, profile: cProfile.Profile):
    """A WSGI callable with the profiler on only while the app itself runs."""

    def wsgi_app(environ, start_response):
        profile.enable()
        try:
            return inner(environ, start_response)
        finally:
            profile.disable()

    return wsgi_app


class Target:
    """The app, its test client and the system to PUT, set up as an operator and a client would."""

    def __init__(self, url: str):
        self.app, key = make_app(url)
        self.client = self.app.test_client()
        self.headers = {"X-Api-Key": key, "Content-Type": "application/json", "Accept": "application/json"}
        created = self.client.post(SYSTEMS, json={"name": "Profiled LDAP", "connectorDefinitionId": 3},
                                   headers=self.headers)
        self.one = f"{SYSTEMS}/{created.json['id']}"
        self.bodies = PutBodies()

    def put(self):
        response = self.client.put(self.one, json=self.bodies.next(), headers=self.headers)
        assert response.status_code == 200, response.json

    def get(self):
        assert self.client.get(self.one, headers=self.headers).status_code == 200


def show_statements(target: Target):
    with target.app.app_context():
        counted = Counted(db.engine)
    target.put()
    print(f"== one PUT: {len(counted.statements)} SQL statements, {counted.commits} commit(s), "
          f"{counted.rollbacks} rollback(s)")
    for number, statement in enumerate(counted.statements, 1):
        print(f"  {number}. {statement[:150]}")
    counted.reset()
    target.get()
    print(f"   (a GET of one system: {len(counted.statements)} statements, {counted.commits} commit(s), "
          f"{counted.rollbacks} rollback(s))")


def show_times(target: Target, count: int):
    for name, request in (("PUT", target.put), ("GET one", target.get)):
        started = time.perf_counter()
        for _ in range(count):
            request()
        print(f"== {name}: {(time.perf_counter() - started) * 1000 / count:.2f} ms without a profiler, "
              f"test client included")


def profiled(target: Target, request, count: int) -> cProfile.Profile:
    """cProfile of ``count`` requests, inside the WSGI app only."""
    profile = cProfile.Profile()
    inner = target.app.wsgi_app
    target.app.wsgi_app = profiled_wsgi(inner, profile)
    try:
        for _ in range(count):
            request()
    finally:
        target.app.wsgi_app = inner  # pyinstrument cannot sample while cProfile is on
    return profile


def show_cprofile(target: Target, count: int, top: int):
    profile = profiled(target, target.put, count)
    stats = pstats.Stats(profile)
    gets = pstats.Stats(profiled(target, target.get, count))
    print(f"\n== cProfile: {stats.total_calls / count:.0f} function calls a PUT "
          f"({stats.prim_calls / count:.0f} primitive), {gets.total_calls / count:.0f} a GET of one system, "
          "inside the WSGI app")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(top)
        print(f"\n-- by {order}, top {top}:")
        print(out.getvalue().split("\n\n", 2)[-1].rstrip())


# The steps of a PUT, each the function (module or class, and name) where it is looked up when called. The time
# and calls of a step exclude those of the steps it calls (the driver's time is not counted in save).
STEPS = [
    ("auth.lookup: the key, the first read", auth, "lookup"),
    # (its before_request hook is bound at init_app, so the step wraps what the hook calls: the count itself)
    ("rate limit: count the request", FixedWindowRateLimiter, "hit"),
    ("read the JSON body", app_module, "json_object"),
    ("systems.peek: connector and version, unlocked", systems, "peek"),
    ("systems.read_locked: row, values, object types, locked", systems, "read_locked"),
    ("systems.updated: the system as the PUT leaves it", systems, "updated"),
    ("systems.save: diff, seal, the writes and the history row", systems, "save"),
    ("commit_writes: UPDATE, upsert, history INSERT (and COMMIT)", systems, "commit_writes"),
    ("session.connection (BEGIN)", Session, "connection"),
    ("driver SQL: BEGIN, ROLLBACK, BEGIN IMMEDIATE", Connection, "exec_driver_sql"),
    ("session.commit (COMMIT)", Session, "commit"),
    ("marshmallow load (validate)", Schema, "load"),
    ("marshmallow dump", Schema, "dump"),
    ("driver: execute statements", DefaultDialect, "do_execute"),
    ("driver: execute statements", DefaultDialect, "do_executemany"),
    ("driver: COMMIT (the durable write)", DefaultDialect, "do_commit"),
]
REST = "the rest: Flask, Werkzeug, the test client"


class StepMeter:
    """Time and function calls of each step of a PUT, each exclusive of the steps nested in it."""

    def __init__(self):
        self.stack, self.seconds, self.calls = [REST], Counter(), Counter()
        self.mark = time.perf_counter()

    def switch(self):
        now = time.perf_counter()
        self.seconds[self.stack[-1]] += now - self.mark
        self.mark = now

    def wrap(self, label, function):
        def step(*args, **kwargs):
            self.switch()
            self.stack.append(label)
            try:
                return function(*args, **kwargs)
            finally:
                self.switch()
                self.stack.pop()

        return step

    def count_call(self, frame, event_name, arg):
        if event_name in ("call", "c_call"):
            self.calls[self.stack[-1]] += 1

    @contextmanager
    def installed(self):
        originals = [(owner, name, getattr(owner, name)) for _, owner, name in STEPS]
        for label, owner, name in STEPS:
            setattr(owner, name, self.wrap(label, getattr(owner, name)))
        try:
            yield self
        finally:
            for owner, name, original in originals:
                setattr(owner, name, original)


def show_steps(target: Target, count: int):
    with StepMeter().installed() as timed:  # time, without a profile hook
        for _ in range(count):
            target.put()
        timed.switch()
    with StepMeter().installed() as counted:  # calls, with one
        sys.setprofile(counted.count_call)
        try:
            for _ in range(count):
                target.put()
        finally:
            sys.setprofile(None)
    total_seconds, total_calls = sum(timed.seconds.values()), sum(counted.calls.values())
    print("\n== a PUT by step (each exclusive of the steps inside it):")
    print(f"  {'step':<45} {'ms':>6} {'share':>6} {'calls':>6}")
    for label in sorted(timed.seconds, key=timed.seconds.get, reverse=True):
        print(f"  {label:<45} {timed.seconds[label] * 1000 / count:6.2f} {timed.seconds[label] / total_seconds:6.0%} "
              f"{counted.calls[label] / count:6.0f}")
    print(f"  {'total':<45} {total_seconds * 1000 / count:6.2f} {1:6.0%} {total_calls / count:6.0f}")


def show_pyinstrument(target: Target, count: int):
    """pyinstrument over the whole loop: the tree under Flask.dispatch_request is the app's."""
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(count):
        target.put()
    profiler.stop()
    print("\n== pyinstrument (library frames folded; the test client's own frames included):")
    print(profiler.output_text(unicode=False, color=False, show_all=False))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puts", type=int, default=300, help="PUTs profiled (default 300)")
    parser.add_argument("--database-url", help="DATABASE_URL of an existing database (default: SQLite, temporary)")
    parser.add_argument("--top", type=int, default=25, help="cProfile lines shown (default 25)")
    args = parser.parse_args(argv)

    RESULTS.mkdir(exist_ok=True)
    # The SQLite file lives on the project's disk, as the instance folder does (/tmp may be a RAM disk).
    with tempfile.TemporaryDirectory(prefix="profile-", dir=RESULTS) as folder:
        url = database_url(args.database_url or f"sqlite:///{folder}/jim.db", folder)
        print(f"profiling PUT on {url.split(':')[0]}, {args.puts} PUTs a measure")
        target = Target(url)
        for _ in range(50):  # warm up: compiled-statement caches, imports, the pool
            target.put()
        show_statements(target)
        show_times(target, args.puts)
        show_steps(target, args.puts)
        show_cprofile(target, args.puts, args.top)
        show_pyinstrument(target, args.puts)
        with target.app.app_context():
            if args.database_url:
                db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
