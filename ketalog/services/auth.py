"""Accounts, passwords (argon2id) and login with lockout after repeated failures."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ketalog.domain.clock import Clock, to_iso
from ketalog.domain.entities import Role, User
from ketalog.services.anchors import write_anchor
from ketalog.services.context import Context
from ketalog.services.errors import AccountLocked, LoginFailed, ServiceError, service_boundary
from ketalog.services.signing_keys import add_key, open_key, replace_missing_key
from ketalog.store import patients as patient_rows
from ketalog.store.records import user_from_row
from ketalog.store.store import SYSTEM, Actor, Store

MAX_FAILED_LOGINS = 5
MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@service_boundary
def hash_password(password: str) -> str:
    return _hasher.hash(password)


@service_boundary
def password_ok(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@service_boundary
def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


@service_boundary
def load_user(store: Store, username: str) -> User | None:
    row = store.get_by("users", username=username.strip())
    if row is None:
        return None
    return user_from_row(row, store.roles_of(int(row["id"])))  # type: ignore[arg-type]


@service_boundary
def user_by_id(store: Store, user_id: int) -> User | None:
    row = store.get("users", user_id)
    return None if row is None else user_from_row(row, store.roles_of(user_id))


def _insert_user(store: Store, actor: Actor, clock: Clock, username: str, display_name: str,
                 roles: Iterable[Role], password: str, credentials: str) -> User:
    username = username.strip()
    if not username or any(c.isspace() for c in username):
        raise ServiceError("username must be one word without spaces")
    role_list = sorted({Role(r).value for r in roles})
    if not role_list:
        raise ServiceError("a user needs at least one role (nurse, provider, admin)")
    check_password_policy(password)
    with store.write(actor) as w:
        uid = w.insert("users", {"username": username, "display_name": display_name or username,
                                 "credentials": credentials, "password_hash": hash_password(password),
                                 "created_at": to_iso(clock.now())})
        row = store.get("users", uid)
        w.set_roles(uid, str(row["uuid"]), role_list)  # type: ignore[index]
        add_key(w, uid, str(row["uuid"]), password, "account created")  # type: ignore[index]
    user = load_user(store, username)
    assert user is not None
    return user


@service_boundary
def bootstrap_admin(store: Store, clock: Clock, username: str, password: str,
                    display_name: str = "", clinic_name: str = "") -> User:
    """First run only: create the first admin (and name the clinic). Refused afterwards."""
    if store.count("users"):
        raise ServiceError("this database already has users; ask an admin to add you")
    if store.count("audit_log", table_name="users") or patient_rows.any_patient(store):
        raise ServiceError("this database holds records but no accounts (they were removed "
                           "outside ketalog): it is not a new clinic; restore a backup")
    if clinic_name:
        with store.write(SYSTEM) as w:
            w.set_setting("clinic_name", clinic_name.strip())
    return _insert_user(store, SYSTEM, clock, username, display_name, [Role.ADMIN], password, "")


@service_boundary
def add_user(ctx: Context, username: str, roles: Iterable[Role], password: str,
             display_name: str = "", credentials: str = "") -> User:
    ctx.require(Role.ADMIN, action="manage users")
    return _insert_user(ctx.store, ctx.actor, ctx.clock, username, display_name, roles,
                        password, credentials)


@service_boundary
def login(store: Store, clock: Clock, username: str, password: str) -> Context:
    """Check credentials; count failures; lock after MAX_FAILED_LOGINS in a row."""
    user = load_user(store, username)
    if user is None or not user.active:
        with store.write(Actor(None, username.strip()[:64] or "?")) as w:
            w.event("login_failed", "users", "", {"reason": "unknown or inactive user"})
        raise LoginFailed("wrong username or password")
    if user.locked:
        with store.write(Actor(user.id, user.username)) as w:
            w.event("login_refused_locked", "users", _uuid(store, user))
        raise AccountLocked(f"account {user.username} is locked after repeated failed "
                            "logins; an admin must unlock it")
    row = store.get("users", user.id)  # type: ignore[arg-type]
    if not password_ok(str(row["password_hash"]), password):  # type: ignore[index]
        locked = record_failure(store, user, "login")
        if locked:
            raise AccountLocked(f"wrong password; account {user.username} is now locked after "
                                f"{MAX_FAILED_LOGINS} failed attempts; an admin must unlock it")
        raise LoginFailed("wrong username or password")
    key = open_key(store, user.id, password)  # type: ignore[arg-type]
    with store.write(Actor(user.id, user.username)) as w:
        if user.failed_logins:
            w.update("users", user.id, {"failed_logins": 0})  # type: ignore[arg-type]
        if key is None:
            key = replace_missing_key(store, w, user.id, password)  # type: ignore[arg-type]
        w.event("login", "users", str(row["uuid"]))  # type: ignore[index]
    write_anchor(store, "login")
    fresh = user_by_id(store, user.id)  # type: ignore[arg-type]
    assert fresh is not None
    return Context(store, clock, fresh, signing_key=key)


def _uuid(store: Store, user: User) -> str:
    row = store.get("users", user.id)  # type: ignore[arg-type]
    return str(row["uuid"]) if row else ""


@service_boundary
def record_failure(store: Store, user: User, what: str) -> bool:
    """Count a failed password entry (login or signature); lock at the limit."""
    with store.write(Actor(user.id, user.username)) as w:
        row = store.get("users", user.id)  # type: ignore[arg-type]
        failures = int(row["failed_logins"]) + 1  # type: ignore[index,arg-type]
        locked = failures >= MAX_FAILED_LOGINS
        w.update("users", user.id, {"failed_logins": failures, "locked": int(locked)},  # type: ignore[arg-type]
                 reason=f"failed {what}")
        w.event(f"{what}_failed", "users", str(row["uuid"]),  # type: ignore[index]
                {"failed_logins": failures, "locked": locked})
    return locked


@service_boundary
def reauthenticate(ctx: Context, password: str, purpose: str) -> None:
    """Password re-entry (e.g. to sign); failures count toward the lockout."""
    ctx.refuse_in_emergency(f"re-enter a password for {purpose}")
    row = ctx.store.get("users", ctx.user.id)  # type: ignore[arg-type]
    if row is None or row["locked"]:
        raise AccountLocked(f"account {ctx.user.username} is locked")
    if not password_ok(str(row["password_hash"]), password):
        if record_failure(ctx.store, ctx.user, purpose):
            raise AccountLocked(f"wrong password; account {ctx.user.username} is now locked")
        raise LoginFailed("wrong password")
    if row["failed_logins"]:
        with ctx.store.write(ctx.actor) as w:
            w.update("users", ctx.user.id, {"failed_logins": 0})  # type: ignore[arg-type]


@service_boundary
def unlock(ctx: Context, username: str, reason: str) -> None:
    ctx.require(Role.ADMIN, action="unlock accounts")
    if not reason.strip():
        raise ServiceError("give a reason for unlocking the account")
    user = load_user(ctx.store, username)
    if user is None:
        raise ServiceError(f"no user named {username}")
    with ctx.store.write(ctx.actor) as w:
        w.update("users", user.id, {"locked": 0, "failed_logins": 0}, reason=reason)  # type: ignore[arg-type]


@service_boundary
def set_password(ctx: Context, username: str, new_password: str) -> None:
    """Admins reset anyone's password; everyone may change their own."""
    if username.strip().lower() != ctx.user.username.lower():
        ctx.require(Role.ADMIN, action="reset another user's password")
    check_password_policy(new_password)
    user = load_user(ctx.store, username)
    if user is None:
        raise ServiceError(f"no user named {username}")
    own = user.id == ctx.user.id
    with ctx.store.write(ctx.actor) as w:
        w.update("users", user.id, {"password_hash": hash_password(new_password)},  # type: ignore[arg-type]
                 reason="password set")
        # The old key is sealed under the old password: a new pair, the old one kept so
        # every earlier signature still verifies.
        add_key(w, user.id, _uuid(ctx.store, user), new_password,  # type: ignore[arg-type]
                "password changed" if own else f"password reset by {ctx.user.username}")


@service_boundary
def change_own_password(ctx: Context, current: str, new_password: str) -> None:
    """A user's own change asks for the current password first (an unattended, unlocked
    screen must not hand the account over); wrong ones count toward the lockout."""
    check_password_policy(new_password)
    reauthenticate(ctx, current, "password change")
    set_password(ctx, ctx.user.username, new_password)


@service_boundary
def list_users(ctx: Context) -> list[User]:
    ctx.require(Role.ADMIN, action="list users")
    return [user_from_row(r, ctx.store.roles_of(int(r["id"])))  # type: ignore[arg-type]
            for r in ctx.store.rows("users", order_by="username")]
