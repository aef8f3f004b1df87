"""Where a PUT's time goes: the seed's PUT (name plus two settings) in-process, with Flask's test client.

    python bench/profile_put.py                  # SQLite in a temporary folder
    python bench/profile_put.py --puts 500 --database-url postgresql://postgres@127.0.0.1:5432/DB

Prints, for one PUT: the SQL statements it sends (SQLAlchemy's ``before_cursor_execute``, plus commits and
rollbacks) and the Python function calls it makes (cProfile, counted inside the WSGI app only, so the test
client's own work is left out); the time of a PUT and of a GET without a profiler; cProfile's hottest
functions; and pyinstrument's call tree, which says which step the time goes to. A PostgreSQL database given
with --database-url must exist; its tables are created and emptied.
"""
import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet
from pyinstrument import Profiler
from sqlalchemy import event

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
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
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "JIM_ENCRYPTION_KEYS": [Fernet.generate_key().decode()],
                      "JIM_LOG_LEVEL": "WARNING"})
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


def show_cprofile(target: Target, count: int, top: int):
    profile = cProfile.Profile()
    inner = target.app.wsgi_app
    target.app.wsgi_app = profiled_wsgi(inner, profile)
    try:
        for _ in range(count):
            target.put()
    finally:
        target.app.wsgi_app = inner  # pyinstrument cannot sample while cProfile is on
    stats = pstats.Stats(profile)
    print(f"\n== cProfile: {stats.total_calls / count:.0f} function calls a PUT "
          f"({stats.prim_calls / count:.0f} primitive), inside the WSGI app")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(top)
        print(f"\n-- by {order}, top {top}:")
        print(out.getvalue().split("\n\n", 2)[-1].rstrip())


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

    with tempfile.TemporaryDirectory(prefix="jim-profile-") as folder:
        url = database_url(args.database_url or f"sqlite:///{folder}/jim.db", folder)
        print(f"profiling PUT on {url.split(':')[0]}, {args.puts} PUTs a measure")
        target = Target(url)
        for _ in range(50):  # warm up: compiled-statement caches, imports, the pool
            target.put()
        show_statements(target)
        show_times(target, args.puts)
        show_cprofile(target, args.puts, args.top)
        show_pyinstrument(target, args.puts)
        with target.app.app_context():
            if args.database_url:
                db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
