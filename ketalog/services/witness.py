"""A second person who authenticates on the acting user's screen: the witness of a
controlled-substance waste, the second counter of a count. Another active nurse or
provider, by username and password, never the acting user; a wrong password counts
toward that person's lockout, as at login."""

from __future__ import annotations

from ketalog.domain.entities import Role, User
from ketalog.domain.errors import PlausibilityError
from ketalog.services.auth import load_user, password_ok, record_failure
from ketalog.services.context import Context
from ketalog.services.errors import AccountLocked, LoginFailed, PermissionDenied, service_boundary
from ketalog.store import users as user_rows
from ketalog.store.store import Store

WITNESSES = (Role.NURSE, Role.PROVIDER)
EVERYONE = (Role.NURSE, Role.PROVIDER, Role.ADMIN)


@service_boundary
def verify_witness(ctx: Context, username: str, password: str) -> User:
    """Another user's username and password, checked like a login: a wrong password
    counts toward that user's lockout; the acting user can never witness themselves."""
    name = username.strip()
    if not name:
        raise PlausibilityError.single("witness", username, "required",
                                       "A witness must enter their username and password")
    if name.lower() == ctx.user.username.lower():
        raise PlausibilityError.single("witness", name, f"not {ctx.user.username}",
                                       "The witness must be another user, not the one "
                                       "wasting")
    witness = load_user(ctx.store, name)
    if witness is None or not witness.active:
        with ctx.store.write(ctx.actor) as w:
            w.event("witness_failed", "users", "", {"witness": name[:64],
                                                    "reason": "unknown or inactive user"})
        raise LoginFailed("witness: wrong username or password")
    if witness.locked:
        raise AccountLocked(f"witness account {witness.username} is locked")
    stored = user_rows.login_state(ctx.store, witness.id)
    if stored is None or not password_ok(stored.password_hash, password):
        if record_failure(ctx.store, witness, "witness"):
            raise AccountLocked(f"wrong password; account {witness.username} is now locked")
        raise LoginFailed("witness: wrong username or password")
    if not any(r in witness.roles for r in WITNESSES):
        raise PermissionDenied(f"{witness.username} may not witness controlled substances "
                               "(needs role nurse or provider)")
    if stored.failed_logins:
        with ctx.store.write(ctx.actor) as w:
            user_rows.reset_failed_logins(w, witness.id)
    return witness


@service_boundary
def witness_candidates(ctx: Context) -> list[str]:
    """Usernames who could witness for the acting user (never the user)."""
    ctx.require(*EVERYONE, action="see stock witnesses")
    return [u for u in _active_clinical(ctx.store) if u.lower() != ctx.user.username.lower()]


def _active_clinical(store: Store) -> list[str]:
    return [user.username for user in user_rows.users_by_username(store)
            if user.active and not user.locked and any(r in user.roles for r in WITNESSES)]
