"""User accounts and their roles in the store: the one module that names the users and
user_roles tables and orders them. Reads return domain `User`s (and, for checking a
password, `LoginState`); writes go through the caller's audited `Writer`, so every
change keeps its audit entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ketalog.domain.entities import Role, User
from ketalog.store.store import Store, Writer
from ketalog.store.values import as_flag, as_int, as_text

TABLE = "users"
ROLES_TABLE = "user_roles"
BY_USERNAME = "username"  # the column's NOCASE collation: "ann" and "Ann" sort together
BY_DISPLAY_NAME = "display_name, id"  # ties (two "Dr Lee") in the order they were added


@dataclass(frozen=True)
class LoginState:
    """What checking a password needs, as the row holds it now (the hash, the failures in
    a row, the lock), and the uuid its audit entries name; it never leaves the services."""

    user_id: int
    uuid: str
    password_hash: str
    failed_logins: int
    locked: bool


# -- reads -------------------------------------------------------------------
def roles_of(store: Store, user_id: int) -> list[Role]:
    """A user's roles by name (none for an unknown id)."""
    return [Role(as_text(r["role"]))
            for r in store.rows(ROLES_TABLE, order_by="role", user_id=user_id)]


def _user(store: Store, row: dict[str, object]) -> User:
    user_id = as_int(row["id"])
    return User(id=user_id, username=as_text(row["username"]),
                display_name=as_text(row["display_name"]),
                credentials=as_text(row["credentials"]),
                roles=frozenset(roles_of(store, user_id)),
                failed_logins=as_int(row["failed_logins"]), locked=as_flag(row["locked"]),
                active=as_flag(row["active"]))


def user(store: Store, user_id: int) -> User | None:
    row = store.get(TABLE, user_id)
    return None if row is None else _user(store, row)


def user_named(store: Store, username: str) -> User | None:
    """The account with this username, in any letter case (the column's collation)."""
    row = store.get_by(TABLE, username=username)
    return None if row is None else _user(store, row)


def users_by_username(store: Store) -> list[User]:
    """Every account, active or not, by username (the admin's list)."""
    return [_user(store, r) for r in store.rows(TABLE, order_by=BY_USERNAME)]


def active_users_by_display_name(store: Store) -> list[User]:
    """Active accounts (locked ones included) by display name (the providers' list)."""
    return [_user(store, r) for r in store.rows(TABLE, order_by=BY_DISPLAY_NAME, active=1)]


def usable_users(store: Store) -> list[User]:
    """Accounts that are active and not locked, oldest first."""
    return [_user(store, r) for r in store.rows(TABLE, order_by="id", active=1, locked=0)]


def any_user(store: Store) -> bool:
    return store.count(TABLE) > 0


def uuid_of(store: Store, user_id: int) -> str:
    """The account's uuid (what its audit entries name), "" for an unknown id."""
    row = store.get(TABLE, user_id)
    return "" if row is None else as_text(row["uuid"])


def login_state(store: Store, user_id: int) -> LoginState | None:
    row = store.get(TABLE, user_id)
    if row is None:
        return None
    return LoginState(user_id=as_int(row["id"]), uuid=as_text(row["uuid"]),
                       password_hash=as_text(row["password_hash"]),
                       failed_logins=as_int(row["failed_logins"]),
                       locked=as_flag(row["locked"]))


# -- writes ------------------------------------------------------------------
def insert_user(w: Writer, *, username: str, display_name: str, credentials: str,
                password_hash: str, created_at: str) -> int:
    """A new account without roles (`set_roles` gives them); returns its id."""
    return w.insert(TABLE, {"username": username, "display_name": display_name,
                            "credentials": credentials, "password_hash": password_hash,
                            "created_at": created_at})


def set_roles(w: Writer, user_id: int, user_uuid: str, roles: Sequence[str]) -> None:
    """Replace a user's roles; one audit entry (table user_roles, the user's uuid) holds
    the old and the new list, and nothing is written when they are the same."""
    old = [as_text(r["role"]) for r in w.store.rows(ROLES_TABLE, user_id=user_id)]
    if sorted(old) == sorted(roles):
        return
    w.conn.execute(f"DELETE FROM {ROLES_TABLE} WHERE user_id = ?", [user_id])
    w.conn.executemany(f"INSERT INTO {ROLES_TABLE} (user_id, role) VALUES (?, ?)",
                       [(user_id, r) for r in sorted(set(roles))])
    w.audit("update", ROLES_TABLE, user_uuid, {"roles": sorted(old)},
            {"roles": sorted(set(roles))})


def reset_failed_logins(w: Writer, user_id: int) -> None:
    """A right password ends a run of wrong ones."""
    w.update(TABLE, user_id, {"failed_logins": 0})


def count_failure(w: Writer, user_id: int, failures: int, locked: bool, reason: str) -> None:
    """A wrong password: the new count of failures in a row, and the lock at the limit."""
    w.update(TABLE, user_id, {"failed_logins": failures, "locked": int(locked)}, reason=reason)


def unlock(w: Writer, user_id: int, reason: str) -> None:
    w.update(TABLE, user_id, {"locked": 0, "failed_logins": 0}, reason=reason)


def unlock_with_password(w: Writer, user_id: int, password_hash: str, reason: str) -> None:
    """Unlock and set a new password in one change (an admin's recovery)."""
    w.update(TABLE, user_id, {"locked": 0, "failed_logins": 0, "password_hash": password_hash},
             reason=reason)


def set_password_hash(w: Writer, user_id: int, password_hash: str, reason: str) -> None:
    w.update(TABLE, user_id, {"password_hash": password_hash}, reason=reason)


def set_active(w: Writer, user_id: int, active: bool, reason: str,
               expected: Mapping[str, object] | None = None) -> None:
    """Refused when the row no longer holds `expected` (edit_conflicts.py)."""
    w.update(TABLE, user_id, {"active": int(active)}, reason=reason, expected=expected)


def ever_had_users(store: Store) -> bool:
    """The audit log names a users row: accounts existed here once (a file whose users
    were deleted outside ketalog is not a new clinic)."""
    return store.count("audit_log", table_name=TABLE) > 0
