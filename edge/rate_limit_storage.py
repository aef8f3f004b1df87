"""A ``limits`` storage in a SQLite file, so that the gunicorn workers of one machine share one count.

Per-process memory would give each worker a limit of its own, and Redis may not be running where the
embedded SQLite store is the default. ``limits`` registers every ``Storage`` subclass under the schemes it
names, so this one answers ``jim-sqlite:////absolute/path/rate-limits.db`` (SQLAlchemy's form: three
slashes, then the path). It serves two strategies, each counted by one statement per request, which SQLite
runs atomically across processes:

- the fixed window (``counters``): one counter and its expiry per key;
- the moving window: the last ``limit`` requests a key was allowed, each in a slot of a ring (``entries``,
  with its expiry), and how many it was allowed in all (``windows``). The next request takes the slot of
  the one allowed ``limit`` requests before it: it is allowed once that one has expired, since then fewer
  than ``limit`` allowed requests remain in the window. So a request costs the same few indexed statements
  whatever the limit and however many requests the window holds (a log counted on each request cost a
  worker half its GETs at a thousand requests a second).

Times are compared as ``limits``' own memory and Redis storages compare them: an entry still counts at the
very instant it expires.
"""
import math
import os
import sqlite3
import threading
import time

from limits.storage import MovingWindowSupport, Storage

SCHEME = "jim-sqlite"
PURGE_INTERVAL_SECONDS = 60
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS windows (key TEXT PRIMARY KEY, allowed INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries (key TEXT NOT NULL, slot INTEGER NOT NULL, expires REAL NOT NULL,"
    " PRIMARY KEY (key, slot)) WITHOUT ROWID",
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
        if amount > limit:
            return False
        connection = self.connection()
        # One transaction that takes the write lock first, so two workers cannot both take the last place.
        connection.execute("BEGIN IMMEDIATE")
        try:
            # The newest of the slots these requests take holds the one allowed `limit` requests before the last.
            row = connection.execute(
                "SELECT windows.allowed, entries.expires FROM windows LEFT JOIN entries ON entries.key = windows.key"
                " AND entries.slot = (windows.allowed + ?2 - 1) % ?3 WHERE windows.key = ?1", (key, amount, limit)
            ).fetchone()
            allowed, held_until = row if row else (0, None)
            if held_until is not None and held_until >= now:
                return False
            connection.executemany(
                "INSERT INTO entries (key, slot, expires) VALUES (?, ?, ?)"
                " ON CONFLICT (key, slot) DO UPDATE SET expires = excluded.expires",
                [(key, (allowed + taken) % limit, now + expiry) for taken in range(amount)],
            )
            connection.execute(
                "INSERT INTO windows (key, allowed) VALUES (?1, ?2)"
                " ON CONFLICT (key) DO UPDATE SET allowed = allowed + ?2", (key, amount))
            connection.execute("COMMIT")
            return True
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")

    def allowed(self, key: str) -> int:
        row = self.connection().execute("SELECT allowed FROM windows WHERE key = ?", (key,)).fetchone()
        return row[0] if row else 0

    def slot_expires(self, key: str, slot: int) -> float:
        row = self.connection().execute(
            "SELECT expires FROM entries WHERE key = ? AND slot = ?", (key, slot)
        ).fetchone()
        return row[0] if row else -math.inf

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """When the oldest request still counting was allowed, and how many count."""
        now = time.time()
        oldest = self.slot_expires(key, self.allowed(key) % limit)
        if oldest >= now:  # the window is full: the oldest is the one the next request waits for
            return oldest - expiry, limit
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
        """Everything forgotten; how many counters and windows there were."""
        connection = self.connection()
        connection.execute("DELETE FROM entries")
        return connection.execute("DELETE FROM counters").rowcount + connection.execute("DELETE FROM windows").rowcount

    def clear(self, key: str) -> None:
        connection = self.connection()
        for table in ("counters", "windows", "entries"):
            connection.execute(f"DELETE FROM {table} WHERE key = ?", (key,))

    def purge(self, now: float):
        """Drop what has expired now and then, so the file holds only the current windows and logs."""
        if now >= self.next_purge:
            self.next_purge = now + PURGE_INTERVAL_SECONDS
            connection = self.connection()
            connection.execute("DELETE FROM counters WHERE expires <= ?", (now,))
            connection.execute("DELETE FROM entries WHERE expires < ?", (now,))
            # A window none of whose requests counts any more starts again from its first slot.
            connection.execute("DELETE FROM windows WHERE key NOT IN (SELECT key FROM entries)")
