"""One collection at a time per database, with a lock the OS or the database frees when its holder dies.

PostgreSQL: a session advisory lock held on a dedicated connection (freed when the connection or process ends); the
holder is described by that connection's `application_name`. SQLite: `flock` on a file next to the database (freed by
the kernel when the process dies), whose content describes the holder.

Workers (`mtx worker`, tracker.workers) hold the same PostgreSQL key *shared*: any number of them at once, while a
plain `mtx collect` needs it exclusively, so the two never collect the same database at the same time (repositories
are then kept apart by the queue's per-repository job locks).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.pool import NullPool
from sqlalchemy.engine import make_url

from tracker import db as dbm

ADVISORY_KEY = (0x6D7478, 1)  # ("mtx", collect)


class LockHeld(RuntimeError):
    """Another collection holds the lock; the message says who."""


WORKER_HOLDER = "mtx worker"


def holder_description(user: str, command: str = "mtx collect") -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{command} by {user} on {socket.gethostname()} pid {os.getpid()} since {now}"


class CollectionLock:
    """``shared=True``: a worker's hold (PostgreSQL only), compatible with other workers, not with `mtx collect`."""

    def __init__(self, url: str, user: str, *, shared: bool = False) -> None:
        self.url = dbm.normalise_url(url)
        self.user = user
        self.shared = shared
        self._fd: int | None = None
        self._conn = None

    def __enter__(self) -> "CollectionLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "postgresql":
            self._acquire_postgres()
        else:
            db_path = Path(parsed.database or "mtx.db").resolve()
            self._acquire_file(db_path.with_name(db_path.name + ".collect.lock"))

    def _acquire_postgres(self) -> None:
        from sqlalchemy import create_engine

        description = holder_description(self.user, WORKER_HOLDER if self.shared else "mtx collect")[:63]
        engine = create_engine(self.url, poolclass=NullPool,
                               connect_args={"application_name": description})
        conn = engine.connect()
        function = "pg_try_advisory_lock_shared" if self.shared else "pg_try_advisory_lock"
        got = conn.execute(text(f"SELECT {function}(:a, :b)"),
                           {"a": ADVISORY_KEY[0], "b": ADVISORY_KEY[1]}).scalar()
        conn.commit()
        if not got:
            holders = conn.execute(text(
                "SELECT a.application_name, a.pid, a.client_addr FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.classid = :a AND l.objid = :b AND l.granted "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "ORDER BY a.backend_start"),
                {"a": ADVISORY_KEY[0], "b": ADVISORY_KEY[1]}).all()
            conn.close()
            engine.dispose()
            workers = [h for h in holders if (h[0] or "").startswith(WORKER_HOLDER)]
            if workers and not self.shared:
                raise LockHeld(f"采集队列的 worker 正在运行 / {len(workers)} queue worker(s) are running "
                               f"({workers[0][0]}{' and others' if len(workers) > 1 else ''}): queue the collection "
                               "for them with `mtx collect --enqueue` instead")
            who = f"{holders[0][0] or 'unknown'} (server pid {holders[0][1]})" if holders else "another process"
            raise LockHeld(f"另一个采集任务正在运行 / another collection is running: {who}")
        self._conn = (engine, conn)

    def _acquire_file(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", "replace").strip()
            os.close(fd)
            try:
                who = json.loads(holder)["holder"]
            except (ValueError, KeyError):
                who = "another process"
            raise LockHeld(f"另一个采集任务正在运行 / another collection is running: {who} (lock file {path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"holder": holder_description(self.user)}).encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            engine, conn = self._conn
            try:
                unlock = "pg_advisory_unlock_shared" if self.shared else "pg_advisory_unlock"
                conn.execute(text(f"SELECT {unlock}(:a, :b)"), {"a": ADVISORY_KEY[0], "b": ADVISORY_KEY[1]})
                conn.commit()
            finally:
                conn.close()
                engine.dispose()
                self._conn = None
