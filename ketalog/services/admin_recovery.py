"""The way back for a clinic whose last admin is locked out (five wrong passwords) or
has forgotten the password: nobody is left who may unlock it in the app. Whoever holds
the OS account that owns the database file can already copy or replace that file, so
that account, not a password, authorises the recovery: it unlocks the admin, sets the
new password typed at the terminal (the old one stops working), makes a new signing
key pair, and is audited with the OS account's name and the reason."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from ketalog.domain.entities import Role
from ketalog.services.anchors import write_anchor
from ketalog.services.auth import check_password_policy, hash_password, load_user
from ketalog.services.errors import PermissionDenied, ServiceError, service_boundary
from ketalog.services.signing_keys import add_key
from ketalog.store import users as user_rows
from ketalog.store.store import Actor, Store


@dataclass(frozen=True)
class OsAccount:
    uid: int
    name: str


@service_boundary
def current_os_account() -> OsAccount:
    return OsAccount(os.geteuid(), getpass.getuser())


@service_boundary
def check_owner(db_path: Path, account: OsAccount) -> None:
    """Only the account owning the file (or the system administrator) may recover."""
    owner = Path(db_path).stat().st_uid
    if account.uid not in (owner, 0):
        raise PermissionDenied(f"recovering an admin needs the OS account that owns "
                               f"{db_path} (uid {owner}); you are {account.name} "
                               f"(uid {account.uid})")


@service_boundary
def recover_admin(store: Store, account: OsAccount, username: str, new_password: str,
                  reason: str) -> None:
    check_owner(store.path, account)
    if len(reason.strip()) < 10:
        raise ServiceError("give a reason of at least 10 characters (kept in the audit log)")
    user = load_user(store, username)
    if user is None or not user.has_role(Role.ADMIN):
        raise ServiceError(f"{username} is not an admin of this clinic")
    if not user.active:
        raise ServiceError(f"{username} is deactivated; recover an active admin")
    usable = [u for u in user_rows.usable_users(store)
              if u.id != user.id and u.has_role(Role.ADMIN)]
    if usable:
        names = ", ".join(u.username for u in usable)
        raise ServiceError(f"another admin can unlock {username} in the app: {names}")
    check_password_policy(new_password)
    user_uuid = user_rows.uuid_of(store, user.id)
    actor = Actor(None, f"os:{account.name}")
    with store.write(actor) as w:
        user_rows.unlock_with_password(
            w, user.id, hash_password(new_password),
            reason=f"admin recovery by OS account {account.name}: {reason.strip()}")
        add_key(w, user.id, user_uuid, new_password,
                f"admin recovery by OS account {account.name}")
        w.event("admin_recovery", "users", user_uuid,
                {"os_account": account.name, "uid": account.uid, "username": user.username},
                reason=reason.strip())
    write_anchor(store, "admin recovery")
