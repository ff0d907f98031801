"""PostgreSQL behind the database seam: pooled connections that speak the store's portable SQL, and the
LangGraph checkpointer on its own pool, so several app instances can share one server.

The store writes SQLite-style SQL (`?` placeholders, `REAL`); `PgConnection` rewrites it once per
statement and hands back rows that read both by position and by name, as `sqlite3.Row` does. psycopg,
its pool and the checkpointer are imported only when a `postgresql://` URL is opened.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from trainer.team.database import StoreError, safe_url

POOL_SIZE = 16  # connections per pool and process; two pools per instance stay far below max_connections
CONNECT_TIMEOUT = 10  # seconds to reach the server before the command gives up with a message
POOL_TIMEOUT = 30.0  # seconds a request may wait for a free connection under load
# Advisory-lock keys: concurrent instances starting at once run each set of migrations exactly once.
STORE_MIGRATION_LOCK = 0x7472_6E01
CHECKPOINT_MIGRATION_LOCK = 0x7472_6E02


@lru_cache(maxsize=256)
def pg_sql(sql: str) -> str:
    """The store's SQL in PostgreSQL's dialect: `%s` placeholders, and REAL as a double, not a float4."""
    sql = sql.replace("%", "%%").replace("?", "%s")
    return re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)


class Row(dict):
    """A result row readable as `row["name"]`, `row[0]` and `dict(row)`, like `sqlite3.Row`."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)


def _row_factory(cursor: Any) -> Any:
    names = [c.name for c in cursor.description or []]
    return lambda values: Row(zip(names, values, strict=True))


class PgConnection:
    """A pooled psycopg connection with the one method the store uses: `execute(sql, args)`."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.conn.execute(pg_sql(sql), tuple(args))


def _reason(exc: Exception) -> str:
    """psycopg's first line, without the URL (it may hold a password)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class PostgresPools:
    """The store's pool and the checkpointer's pool of one process, opened on first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store_pool: Any = None
        self._saver: Any = None

    def __repr__(self) -> str:
        return f"PostgresPools({safe_url(self.url)!r})"

    def check(self) -> None:
        """Reach the server now, so a wrong URL or a server that is down stops the command with a message."""
        import psycopg

        try:
            psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT).close()
        except psycopg.Error as exc:
            raise StoreError(f"{safe_url(self.url)}: cannot connect to PostgreSQL ({_reason(exc)})") from None

    def _pool(self, **kwargs: Any) -> Any:
        from psycopg_pool import ConnectionPool

        pool = ConnectionPool(
            self.url,
            min_size=1,
            max_size=POOL_SIZE,
            timeout=POOL_TIMEOUT,
            kwargs={"connect_timeout": CONNECT_TIMEOUT, **kwargs},
            open=False,
            name="trainer",
        )
        pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        return pool

    @contextmanager
    def connect(self) -> Iterator[PgConnection]:
        """One unit of work in one transaction: committed when the block ends, rolled back on an error."""
        if self._store_pool is None:
            self._store_pool = self._pool(row_factory=_row_factory)
        with self._store_pool.connection() as conn:
            yield PgConnection(conn)

    @staticmethod
    def lock_for_migration(conn: PgConnection) -> None:
        conn.conn.execute("SELECT pg_advisory_xact_lock(%s)", (STORE_MIGRATION_LOCK,))

    def checkpointer(self) -> Any:
        """LangGraph's PostgresSaver on a pool of its own; its tables are set up once, under a lock."""
        if self._saver is not None:
            return self._saver
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row

        pool = self._pool(autocommit=True, prepare_threshold=0, row_factory=dict_row)
        saver = PostgresSaver(pool)
        # PostgresSaver takes one instance-wide lock around every query, pool or not (langgraph#7259), so
        # an instance's checkpoints were written one at a time and capped its turns/s below one core.
        # On a pool each query has a connection of its own: let as many run as the pool holds.
        saver.lock = threading.BoundedSemaphore(POOL_SIZE)
        with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as lock:
            lock.execute("SELECT pg_advisory_lock(%s)", (CHECKPOINT_MIGRATION_LOCK,))
            saver.setup()  # the lock ends with the connection
        self._saver = saver
        return saver

    def close(self) -> None:
        if self._store_pool is not None:
            self._store_pool.close()
        if self._saver is not None:
            self._saver.conn.close()
