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
