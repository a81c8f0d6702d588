"""The two engines the store runs on, for module-scoped fixtures that build a database
once per engine (function-scoped tests use the `store` and `staffed` fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketalog.domain.clock import FixedClock
from ketalog.store.store import Store

ENGINES = ("sqlite", "postgresql")


def open_new_database(engine: str, request: pytest.FixtureRequest, folder: Path,
                      clock: FixedClock) -> Store:
    """A new, migrated database of `engine` for a module-scoped fixture (parametrised
    with `params=ENGINES`): a file in `folder`, or a clinic database of the test server.
    The caller closes it."""
    if engine == "postgresql":
        from ketalog.store.pg_connection import open_server_store
        from tests.pg_clinic import WORKSTATION_LOGIN, copy_of

        clinic = copy_of(request.getfixturevalue("pg_template"))
        return open_server_store(clinic.conninfo(WORKSTATION_LOGIN), clock)
    from ketalog.store.connection import open_store

    return open_store(folder / "ketalog.db", clock)


def hold_write_lock(store: Store) -> None:
    """Begin a write on `store` and hold its write lock until `store.engine.rollback()`
    (another writer in the middle of a long write). The server's engine sends the start
    of a write with its first statement: reading the chain's head sends it."""
    head = store.engine.begin_write()
    if head is not None:
        head()
