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
from ketalog.store import users as user_rows
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
    return user_rows.user_named(store, username.strip())


@service_boundary
def user_by_id(store: Store, user_id: int) -> User | None:
    return user_rows.user(store, user_id)


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
        uid = user_rows.insert_user(w, username=username, display_name=display_name or username,
                                    credentials=credentials,
                                    password_hash=hash_password(password),
                                    created_at=to_iso(clock.now()))
        uuid = user_rows.uuid_of(store, uid)
        user_rows.set_roles(w, uid, uuid, role_list)
        add_key(w, uid, uuid, password, "account created")
    user = load_user(store, username)
    assert user is not None
    return user


@service_boundary
def bootstrap_admin(store: Store, clock: Clock, username: str, password: str,
                    display_name: str = "", clinic_name: str = "") -> User:
    """First run only: create the first admin (and name the clinic). Refused afterwards."""
    if user_rows.any_user(store):
        raise ServiceError("this database already has users; ask an admin to add you")
    if user_rows.ever_had_users(store) or patient_rows.any_patient(store):
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
            w.event("login_refused_locked", "users", user_rows.uuid_of(store, user.id))
        raise AccountLocked(f"account {user.username} is locked after repeated failed "
                            "logins; an admin must unlock it")
    stored = _login_state(store, user)
    if not password_ok(stored.password_hash, password):
        locked = record_failure(store, user, "login")
        if locked:
            raise AccountLocked(f"wrong password; account {user.username} is now locked after "
                                f"{MAX_FAILED_LOGINS} failed attempts; an admin must unlock it")
        raise LoginFailed("wrong username or password")
    key = open_key(store, user.id, password)
    with store.write(Actor(user.id, user.username)) as w:
        if user.failed_logins:
            user_rows.reset_failed_logins(w, user.id)
        if key is None:
            key = replace_missing_key(store, w, user.id, password)
        w.event("login", "users", stored.uuid)
    write_anchor(store, "login")
    fresh = user_by_id(store, user.id)
    assert fresh is not None
    return Context(store, clock, fresh, signing_key=key)


def _login_state(store: Store, user: User) -> user_rows.LoginState:
    """The stored password of a user just read (accounts are never deleted)."""
    stored = user_rows.login_state(store, user.id)
    assert stored is not None
    return stored


@service_boundary
def record_failure(store: Store, user: User, what: str) -> bool:
    """Count a failed password entry (login or signature); lock at the limit."""
    with store.write(Actor(user.id, user.username)) as w:
        stored = _login_state(store, user)
        failures = stored.failed_logins + 1
        locked = failures >= MAX_FAILED_LOGINS
        user_rows.count_failure(w, user.id, failures, locked, reason=f"failed {what}")
        w.event(f"{what}_failed", "users", stored.uuid,
                {"failed_logins": failures, "locked": locked})
    return locked


@service_boundary
def reauthenticate(ctx: Context, password: str, purpose: str) -> None:
    """Password re-entry (e.g. to sign); failures count toward the lockout."""
    ctx.refuse_in_emergency(f"re-enter a password for {purpose}")
    stored = user_rows.login_state(ctx.store, ctx.user.id)
    if stored is None or stored.locked:
        raise AccountLocked(f"account {ctx.user.username} is locked")
    if not password_ok(stored.password_hash, password):
        if record_failure(ctx.store, ctx.user, purpose):
            raise AccountLocked(f"wrong password; account {ctx.user.username} is now locked")
        raise LoginFailed("wrong password")
    if stored.failed_logins:
        with ctx.store.write(ctx.actor) as w:
            user_rows.reset_failed_logins(w, ctx.user.id)


@service_boundary
def unlock(ctx: Context, username: str, reason: str) -> None:
    ctx.require(Role.ADMIN, action="unlock accounts")
    if not reason.strip():
        raise ServiceError("give a reason for unlocking the account")
    user = load_user(ctx.store, username)
    if user is None:
        raise ServiceError(f"no user named {username}")
    with ctx.store.write(ctx.actor) as w:
        user_rows.unlock(w, user.id, reason=reason)


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
        user_rows.set_password_hash(w, user.id, hash_password(new_password),
                                    reason="password set")
        # The old key is sealed under the old password: a new pair, the old one kept so
        # every earlier signature still verifies.
        add_key(w, user.id, user_rows.uuid_of(ctx.store, user.id), new_password,
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
    return user_rows.users_by_username(ctx.store)
