"""Break-glass emergency access: when no account can be used normally (the only
provider locked out mid-infusion, no admin on site), an active user gets in with their
own password and a written reason, for EMERGENCY_MINUTES, with clinical roles only.
It is loud on purpose: audited at start, on every entry written under it (the actor
name carries the grant's number), at its end, and it waits for an admin's review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ketalog.domain.clock import Clock, from_iso, to_iso
from ketalog.domain.entities import Role
from ketalog.services.auth import (
    MAX_FAILED_LOGINS,
    list_users,
    load_user,
    password_ok,
    record_failure,
)
from ketalog.services.context import Context, Emergency
from ketalog.services.errors import (
    AccountLocked,
    LoginFailed,
    PermissionDenied,
    ServiceError,
    service_boundary,
)
from ketalog.services.users import active_admins
from ketalog.store.audit_query import count_tagged
from ketalog.store.store import Actor, Store

EMERGENCY_MINUTES = 60
MIN_REASON_LENGTH = 10
# A locked account may still break the glass with the right password, but only a few
# more wrong passwords are tolerated: the lockout must not become a guessing channel.
EXTRA_TRIES_WHEN_LOCKED = 3


class EmergencyRefused(ServiceError):
    pass


@dataclass(frozen=True)
class EmergencyRecord:
    id: int
    username: str
    display_name: str
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    reason: str
    account_was_locked: bool
    entries: int  # audit entries written under the grant
    reviewed_at: datetime | None = None
    reviewed_by: str = ""
    review_note: str = ""


@service_boundary
def start_emergency(store: Store, clock: Clock, username: str, password: str,
                    reason: str) -> Context:
    """Check the user's own password (locked accounts too), then grant clinical access
    for EMERGENCY_MINUTES. The account stays locked: an admin unlocks it on review."""
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise EmergencyRefused("emergency access needs a reason (at least "
                               f"{MIN_REASON_LENGTH} characters: what is happening, which "
                               "patient)")
    user = load_user(store, username)
    if user is None or not user.active:
        with store.write(Actor(None, username.strip()[:64] or "?")) as w:
            w.event("emergency_access_failed", "users", "",
                    {"reason": "unknown or inactive user"}, reason=reason)
        raise LoginFailed("wrong username or password")
    row = store.get("users", user.id)  # type: ignore[arg-type]
    assert row is not None
    failures = int(row["failed_logins"])  # type: ignore[call-overload]
    if failures >= MAX_FAILED_LOGINS + EXTRA_TRIES_WHEN_LOCKED:
        with store.write(Actor(user.id, user.username)) as w:
            w.event("emergency_access_refused", "users", str(row["uuid"]),
                    {"failed_logins": failures}, reason=reason)
        raise AccountLocked(f"emergency access for {user.username} is closed after too many "
                            "wrong passwords; an admin must unlock the account")
    if not password_ok(str(row["password_hash"]), password):
        record_failure(store, user, "emergency_access")
        raise LoginFailed("wrong password for emergency access")
    now = clock.now()
    expires = now + timedelta(minutes=EMERGENCY_MINUTES)
    actor = Actor(user.id, user.username)
    with store.write(actor) as w:
        grant_id = w.insert("emergency_access", {
            "user_id": user.id, "started_at": to_iso(now), "expires_at": to_iso(expires),
            "reason": reason, "account_was_locked": int(user.locked)}, reason=reason)
        grant = store.get("emergency_access", grant_id)
        assert grant is not None
        w.event("emergency_access_started", "emergency_access", str(grant["uuid"]),
                {"user": user.username, "expires_at": to_iso(expires),
                 "account_was_locked": user.locked, "minutes": EMERGENCY_MINUTES},
                reason=reason)
    return Context(store, clock, user, Emergency(grant_id, now, expires, reason))


@service_boundary
def end_emergency(ctx: Context, why: str = "logged out") -> None:
    """Logout, auto-logoff or expiry: close the grant (audited). Idempotent."""
    if ctx.emergency is None:
        return
    row = ctx.store.get("emergency_access", ctx.emergency.id)
    if row is None or row["ended_at"] is not None:
        return
    now = min(ctx.clock.now(), ctx.emergency.expires_at)
    with ctx.store.write(ctx.actor) as w:
        w.update("emergency_access", ctx.emergency.id, {"ended_at": to_iso(now)}, reason=why)
        w.event("emergency_access_ended", "emergency_access", str(row["uuid"]), {"why": why})


def _tagged_entries(store: Store, row: dict[str, object]) -> int:
    user = store.get("users", int(row["user_id"]))  # type: ignore[call-overload]
    name = f"{user['username'] if user else '?'} [emergency #{row['id']}]"
    return count_tagged(store, int(row["user_id"]), str(row["started_at"]),  # type: ignore[call-overload]
                        name)


def _record(ctx: Context, row: dict[str, object]) -> EmergencyRecord:
    user = ctx.store.get("users", int(row["user_id"]))  # type: ignore[call-overload]
    reviewer = (ctx.store.get("users", int(row["reviewed_by"]))  # type: ignore[call-overload]
                if row["reviewed_by"] is not None else None)

    def when(value: object) -> datetime | None:
        return None if value is None else from_iso(str(value))

    started, expires = when(row["started_at"]), when(row["expires_at"])
    assert started is not None and expires is not None
    return EmergencyRecord(
        id=int(row["id"]), username=str(user["username"]) if user else "?",  # type: ignore[call-overload]
        display_name=str(user["display_name"]) if user else "?",
        started_at=started, expires_at=expires, ended_at=when(row["ended_at"]),
        reason=str(row["reason"]), account_was_locked=bool(row["account_was_locked"]),
        entries=_tagged_entries(ctx.store, row),
        reviewed_at=when(row["reviewed_at"]),
        reviewed_by=str(reviewer["username"]) if reviewer else "",
        review_note=str(row["review_note"]))


@service_boundary
def pending_reviews(ctx: Context) -> list[EmergencyRecord]:
    """Emergency accesses no admin has acknowledged yet, oldest first."""
    ctx.require(Role.ADMIN, action="review emergency access")
    return [_record(ctx, r) for r in ctx.store.rows("emergency_access", order_by="started_at",
                                                    reviewed_at=None)]


@service_boundary
def review_emergency(ctx: Context, grant_id: int, note: str) -> None:
    """An admin acknowledges an emergency access with a note (what was checked)."""
    ctx.require(Role.ADMIN, action="review emergency access")
    note = note.strip()
    if not note:
        raise ServiceError("write a review note (what you checked, what follows)")
    row = ctx.store.get("emergency_access", grant_id)
    if row is None:
        raise ServiceError(f"no emergency access #{grant_id}")
    if row["reviewed_at"] is not None:
        raise ServiceError(f"emergency access #{grant_id} was already reviewed")
    if row["user_id"] == ctx.user.id and len(active_admins(list_users(ctx))) > 1:
        raise PermissionDenied("another admin must review your own emergency access")
    with ctx.store.write(ctx.actor) as w:
        w.update("emergency_access", grant_id, {
            "reviewed_at": to_iso(ctx.clock.now()), "reviewed_by": ctx.user.id,
            "review_note": note}, reason=note)
        w.event("emergency_access_reviewed", "emergency_access", str(row["uuid"]),
                {"grant": grant_id}, reason=note)
