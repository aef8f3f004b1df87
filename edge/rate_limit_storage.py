"""A ``limits`` storage in a SQLite file, so that the gunicorn workers of one machine share one count.

Per-process memory would give each worker a limit of its own, and Redis may not be running where the
embedded SQLite store is the default. ``limits`` registers every ``Storage`` subclass under the schemes it
names, so this one answers ``jim-sqlite:////absolute/path/rate-limits.db`` (SQLAlchemy's form: three
slashes, then the path). It serves two strategies, each counted by one statement per request, which SQLite
runs atomically across processes:

- the fixed window (``counters``): one counter and its expiry per key;
- the moving window (``entries``): a log of the requests a key was allowed, one row each, kept until its
  expiry; a request is allowed while fewer than the limit are in the log. Since only allowed requests are
  logged, a key at its limit holds exactly ``limit`` rows, and its next request is allowed when the oldest
  one expires.

Times are compared as ``limits``' own memory and Redis storages compare them: an entry still counts at the
very instant it expires.
"""
import os
import sqlite3
import threading
import time

from limits.storage import MovingWindowSupport, Storage

SCHEME = "jim-sqlite"
PURGE_INTERVAL_SECONDS = 60
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries (key TEXT NOT NULL, expires REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS entries_by_key ON entries (key, expires)",
)


class SQLiteStorage(Storage, MovingWindowSupport):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, timeout: float = 2, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = uri[len(SCHEME + ":///"):]
        # A worker waits this long for another's write; past it the limiter falls back to memory.
        self.timeout = float(timeout)
        self.local = threading.local()
        self.next_purge = 0.0

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def connection(self) -> sqlite3.Connection:
        # One connection per thread and per process: a forked worker must not share its parent's.
        if getattr(self.local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # counters need not survive a power cut
            for statement in SCHEMA:
                connection.execute(statement)
            self.local.connection, self.local.pid = connection, os.getpid()
        return self.local.connection

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        self.purge(now)
        # One statement, so atomic across workers; an expired counter starts a new window. fetchall steps
        # the statement to its end, which commits it and releases the write lock.
        rows = self.connection().execute(
            "INSERT INTO counters (key, count, expires) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO UPDATE SET"
            " count = CASE WHEN expires <= ?4 THEN ?2 ELSE count + ?2 END,"
            " expires = CASE WHEN expires <= ?4 THEN ?3 ELSE expires END"
            " RETURNING count",
            (key, amount, now + expiry, now),
        ).fetchall()
        return rows[0][0]

    def get(self, key: str) -> int:
        row = self.connection().execute(
            "SELECT count FROM counters WHERE key = ? AND expires > ?", (key, time.time())
        ).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self.connection().execute(
            "SELECT expires FROM counters WHERE key = ? AND expires > ?", (key, now)
        ).fetchone()
        return row[0] if row else now

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        now = time.time()
        self.purge(now)
        # One statement: SQLite takes the write lock before it counts, so two workers cannot both take the
        # last place. It reads the log before inserting into it, so the count is the one before this request.
        inserted = self.connection().execute(
            "INSERT INTO entries (key, expires)"
            " WITH RECURSIVE one (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM one WHERE n < ?3)"
            " SELECT ?1, ?2 FROM one"
            " WHERE (SELECT count(*) FROM entries WHERE key = ?1 AND expires >= ?4) + ?3 <= ?5",
            (key, now + expiry, amount, now, limit),
        ).rowcount
        return inserted > 0

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """When the oldest entry still counting was allowed, and how many count."""
        now = time.time()
        oldest, count = self.connection().execute(
            "SELECT min(expires), count(*) FROM entries WHERE key = ? AND expires >= ?", (key, now)
        ).fetchone()
        return (now, 0) if count == 0 else (oldest - expiry, count)

    def check(self) -> bool:
        try:
            self.connection().execute("SELECT 1").fetchall()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int:
        connection = self.connection()
        return connection.execute("DELETE FROM counters").rowcount + connection.execute("DELETE FROM entries").rowcount

    def clear(self, key: str) -> None:
        connection = self.connection()
        connection.execute("DELETE FROM counters WHERE key = ?", (key,))
        connection.execute("DELETE FROM entries WHERE key = ?", (key,))

    def purge(self, now: float):
        """Drop what has expired now and then, so the file holds only the current windows and logs."""
        if now >= self.next_purge:
            self.next_purge = now + PURGE_INTERVAL_SECONDS
            connection = self.connection()
            connection.execute("DELETE FROM counters WHERE expires <= ?", (now,))
            connection.execute("DELETE FROM entries WHERE expires < ?", (now,))
