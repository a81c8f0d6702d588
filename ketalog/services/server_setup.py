"""A clinic server's setting up and its schema updates (`ketalog server init|migrate`),
run by the clinic's administrator with a PostgreSQL login that may create roles and
databases (init) or is a member of the owner role (migrate). Workstations never call
these: they open the server with `database.open_server_database`, which refuses a schema
other than their own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ketalog.domain.clock import Clock, to_iso
from ketalog.domain.entities import User
from ketalog.services.clinic_setup import create_clinic
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.store import pg_connection, pg_schema
from ketalog.store.server_seed import seed_new_clinic

OWNER_ROLE = pg_schema.OWNER_ROLE
WORKSTATION_ROLE = pg_schema.WORKSTATION_ROLE


@dataclass(frozen=True)
class Login:
    """A login `server init` was asked for: a workstation's, or one for migrating."""
    name: str
    role: str
    created: bool  # False: it was there already and was left as it was


@dataclass(frozen=True)
class ServerInit:
    location: str
    roles_created: tuple[str, ...]
    roles_found: tuple[str, ...]
    database_created: bool
    steps_applied: tuple[str, ...]
    seeded_rows: int
    admin: User | None  # None when set up for a move (server migrate-from brings the users)
    protocols: int
    logins: tuple[Login, ...]


@service_boundary
def init_server(conninfo: str, clock: Clock, admin: str, admin_password: Callable[[], str],
                *, display_name: str = "", clinic_name: str = "",
                workstation_logins: Sequence[str] = (), owner_logins: Sequence[str] = (),
                login_password: Callable[[str], str] | None = None,
                for_move: bool = False) -> ServerInit:
    """Set up a new clinic on the server at `conninfo` (USER@HOST/DATABASE, USER a
    superuser or a role with CREATEROLE and CREATEDB): the owner and workstation roles
    and the database if missing, the schema as the owner role, the seed rows, the first
    admin and the protocols of the clinical reference, then the logins asked for. Refused
    before anything changes when the database already holds a clinic. The passwords are
    asked through the callbacks only when they are needed (a login that exists keeps its
    own). `for_move`: roles, database, schema and logins only, no seed rows and no admin,
    for `server migrate-from` to bring a local file's whole history (users included) into."""
    location = pg_connection.safe_location(conninfo)
    found = pg_connection.database_state(conninfo)
    if found.accounts:
        raise ServiceError(f"{location} already holds a clinic ({found.accounts} "
                           "account(s)); `ketalog server migrate` updates its schema, "
                           "`ketalog user add` adds accounts")
    if found.other_tables:
        raise ServiceError(f"{location} holds {found.other_tables} table(s) that are not "
                           "ketalog's; give `ketalog server init` the name of a new database")
    password = "" if for_move else admin_password()
    setup = pg_connection.set_up_server(conninfo, to_iso(clock.now()))
    seeded, user, protocols = 0, None, 0
    if not for_move:
        store = pg_connection.open_server_store(conninfo, clock)
        try:
            seeded = seed_new_clinic(store)
            user, protocols = create_clinic(store, clock, admin, password,
                                            display_name=display_name or admin,
                                            clinic_name=clinic_name)
        finally:
            store.close()
    logins = tuple(_login(conninfo, name, role, login_password)
                   for role, names in ((WORKSTATION_ROLE, workstation_logins),
                                       (OWNER_ROLE, owner_logins)) for name in names)
    return ServerInit(setup.location, setup.roles_created, setup.roles_found,
                      setup.database_created, setup.steps_applied, seeded, user, protocols,
                      logins)


def _login(conninfo: str, name: str, role: str,
           ask: Callable[[str], str] | None) -> Login:
    if pg_connection.login_exists(conninfo, name):
        return Login(name, role, False)
    if ask is None:
        raise ServiceError(f"no password for the new login {name}")
    return Login(name, role, pg_connection.create_login(conninfo, name, role, ask(name)))


@service_boundary
def add_server_login(conninfo: str, name: str, password: Callable[[str], str], *,
                     role: str = WORKSTATION_ROLE) -> Login:
    """One more login for a workstation (or, with OWNER_ROLE, for migrating), made by a
    login that may create roles; one that exists is left as it is."""
    if role not in (WORKSTATION_ROLE, OWNER_ROLE):
        raise ServiceError(f"a login acts as {WORKSTATION_ROLE} or {OWNER_ROLE}, not {role}")
    return _login(conninfo, name, role, password)


@service_boundary
def migrate_server(conninfo: str, clock: Clock) -> list[str]:
    """The schema steps this ketalog knows and the server lacks, applied as the owner
    role; [] when it is up to date. Refused on a server a newer ketalog migrated."""
    return pg_connection.migrate_server(conninfo, to_iso(clock.now()))
