"""Clinic databases on the throwaway test server (tests/pg_server.py), made as
`ketalog server init` makes them: the server-wide roles, an empty database owned by the
owner role, the schema applied by the owner; tests connect as the workstation login."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from ketalog.store import pg_schema
from tests.pg_server import Server

OWNER_LOGIN = "clinic_admin"
WORKSTATION_LOGIN = "workstation_1"
NOW = "2026-11-24T14:00:00.000Z"
_names = itertools.count(1)


def unique_name() -> str:
    """A database name no other test of this run has used."""
    return f"clinic_{next(_names)}"


@dataclass
class Clinic:
    server: Server
    name: str

    def conninfo(self, user: str | None = None) -> str:
        return self.server.conninfo(self.name, user)

    def connect(self, user: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo(user), **kwargs)

    def owner(self, **kwargs: Any) -> psycopg.Connection[Any]:
        return self.connect(OWNER_LOGIN, **kwargs)

    def workstation(self, **kwargs: Any) -> psycopg.Connection[Any]:
        return self.connect(WORKSTATION_LOGIN, **kwargs)


def create_roles(server: Server) -> None:
    """The owner and workstation roles, and one login of each (roles are server-wide)."""
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        for statement in pg_schema.cluster_statements():
            conn.execute(statement)
        conn.execute(pg_schema.login_statement(OWNER_LOGIN, pg_schema.OWNER_ROLE))
        conn.execute(pg_schema.login_statement(WORKSTATION_LOGIN, pg_schema.WORKSTATION_ROLE))


def new_database(server: Server) -> Clinic:
    """An empty database made as `ketalog server init` will make one."""
    name = unique_name()
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(pg_schema.create_database_statement(name))
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        for statement in pg_schema.database_statements(name):
            conn.execute(statement)
    return Clinic(server, name)


def migrate(clinic: Clinic, steps: Sequence[pg_schema.Step] = pg_schema.STEPS) -> list[str]:
    with clinic.owner() as conn, conn.transaction():
        return pg_schema.apply(conn, NOW, steps=steps)


def seed(clinic: Clinic) -> None:
    """What `ketalog server init` writes after the schema (store/server_seed.py)."""
    from ketalog.domain.clock import FixedClock
    from ketalog.store.pg_connection import open_server_store
    from ketalog.store.server_seed import seed_new_clinic

    store = open_server_store(clinic.conninfo(WORKSTATION_LOGIN), FixedClock(
        datetime(2026, 11, 24, 14, 0, tzinfo=UTC)))
    try:
        seed_new_clinic(store)
    finally:
        store.close()


def copy_of(template: Clinic) -> Clinic:
    """A database of its own, copied from a migrated one nobody is connected to (far
    quicker than migrating)."""
    server = template.server
    name = unique_name()
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} OWNER {pg_schema.OWNER_ROLE} "
                     f"TEMPLATE {template.name}")
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        for statement in pg_schema.database_statements(name):
            conn.execute(statement)
    return Clinic(server, name)
