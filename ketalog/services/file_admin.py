"""An admin of a database file, checked against that file's own accounts: what
authorises work on a file nobody is logged in to (restoring a backup at start-up,
moving a clinic's file onto its server). The file is opened read-only."""

from __future__ import annotations

import logging
from pathlib import Path

from ketalog.domain.clock import Clock
from ketalog.domain.entities import Role, User
from ketalog.services.auth import load_user, password_ok
from ketalog.services.errors import LoginFailed, PermissionDenied, service_boundary
from ketalog.store import users as user_rows
from ketalog.store.connection import read_only_store
from ketalog.store.engine import FileKind, classify

__all__ = ["admin_of"]

log = logging.getLogger("ketalog.file_admin")


@service_boundary
def admin_of(source: Path, clock: Clock, username: str, password: str,
             passphrase: str | None, *, what: str, to: str) -> User:
    """An active, unlocked admin of the file at `source` with this password, or an
    error worded for `what` the file is ("file", "backup") and what the admin is `to`
    do ("restore the database")."""
    key = passphrase if classify(source) is FileKind.ENCRYPTED else None
    store = read_only_store(source, clock, passphrase=key)
    try:
        user = load_user(store, username)
        stored = user_rows.login_state(store, user.id) if user is not None else None
        ok = (user is not None and stored is not None and user.active
              and password_ok(stored.password_hash, password))
    finally:
        store.close()
    if not ok or user is None:
        log.warning("refused: bad credentials for %r (to %s, the %s %s)", username, to,
                    what, source)
        raise LoginFailed(f"wrong username or password (checked against the {what}'s "
                          "accounts)")
    if user.locked:
        raise PermissionDenied(f"account {user.username} is locked in that {what}")
    if not user.has_role(Role.ADMIN):
        raise PermissionDenied(f"{user.username} may not {to} (needs role admin)")
    return user
