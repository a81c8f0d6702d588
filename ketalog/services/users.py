"""User administration beyond login: the admin's list, deactivate and reactivate.
Accounts are never deleted (the audit log and signatures name them); a deactivated
account cannot log in. The clinic must always keep one active admin."""

from __future__ import annotations

from ketalog.domain.entities import Role, User
from ketalog.services.auth import list_users, load_user
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.store import users as user_rows


@service_boundary
def active_admins(users: list[User]) -> list[User]:
    return [u for u in users if u.active and u.has_role(Role.ADMIN)]


def _user(ctx: Context, username: str) -> User:
    user = load_user(ctx.store, username)
    if user is None:
        raise ServiceError(f"no user named {username}")
    return user


@service_boundary
def set_active(ctx: Context, username: str, active: bool, reason: str) -> User:
    """Deactivate (cannot log in) or reactivate an account, with a reason."""
    ctx.require(Role.ADMIN, action="deactivate or reactivate users")
    if not reason.strip():
        raise ServiceError("give a reason (kept in the audit log)")
    user = _user(ctx, username)
    if not active:
        if user.id == ctx.user.id:
            raise ServiceError("you cannot deactivate your own account")
        others = [u for u in active_admins(list_users(ctx)) if u.id != user.id]
        if user.has_role(Role.ADMIN) and user.active and not others:
            raise ServiceError(f"{user.username} is the last active admin; make another "
                               "admin first")
    if user.active == active:
        return user
    with ctx.store.write(ctx.actor) as w:
        user_rows.set_active(w, user.id, active, reason=reason.strip(),
                             expected={"active": int(user.active)})  # not changed meanwhile
    return _user(ctx, username)
