"""A demo clinic's file and empty clinic server databases to move it into, for the tests
of `migrate-to-server` (store/pg_migrate.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import errors as pg_errors

from ketalog.domain.clock import FixedClock
from ketalog.services.demo import DemoReport, create_demo
from ketalog.store import pg_schema
from ketalog.store.connection import open_store
from tests.pg_clinic import Clinic, copy_of, migrate, new_database
from tests.pg_server import Server

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # the conftest clock's instant


def demo_file(folder: Path) -> tuple[Path, DemoReport]:
    """The demo clinic (services/demo.py) in a file of its own, closed cleanly."""
    clock = FixedClock(NOW)
    path = folder / "clinic.sqlite"
    store = open_store(path, clock)
    try:
        report = create_demo(store, clock, seed=1)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    return path, report


def empty_database(server: Server) -> Clinic:
    """What `ketalog server init` makes for a clinic that moves its file in: the schema,
    no rows (not even the new clinic's seed rows)."""
    clinic = new_database(server)
    migrate(clinic)
    return clinic


def copy_when_idle(template: Clinic, wait_s: float = 10.0) -> Clinic:
    """copy_of(template), waiting for the server to end the sessions of connections that
    were just closed (CREATE DATABASE refuses a template anyone is connected to)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return copy_of(template)
        except pg_errors.ObjectInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def rows_per_table(clinic: Clinic) -> dict[str, int]:
    """Rows in every table but the schema steps, read as the superuser."""
    counts: dict[str, int] = {}
    with psycopg.connect(clinic.server.conninfo(clinic.name)) as conn:
        for table in pg_schema.TABLES:
            if table != pg_schema.MIGRATIONS_TABLE:
                row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                counts[table] = int(row[0]) if row else -1
    return counts
