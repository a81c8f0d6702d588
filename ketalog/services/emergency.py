"""Break-glass emergency access: when no account can be used normally (the only
provider locked out mid-infusion, no admin on site), an active user gets in with their
own password and a written reason, for EMERGENCY_MINUTES, with clinical roles only.
It is loud on purpose: audited at start, on every entry written under it (the actor
name carries the grant's number), at its end, and it waits for an admin's review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ketalog.domain.clock import Clock, to_iso
from ketalog.domain.entities import Role, User
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
from ketalog.store import emergency_access as grant_rows
from ketalog.store import users as user_rows
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
    stored = user_rows.login_state(store, user.id)
    assert stored is not None
    failures = stored.failed_logins
    if failures >= MAX_FAILED_LOGINS + EXTRA_TRIES_WHEN_LOCKED:
        with store.write(Actor(user.id, user.username)) as w:
            w.event("emergency_access_refused", "users", stored.uuid,
                    {"failed_logins": failures}, reason=reason)
        raise AccountLocked(f"emergency access for {user.username} is closed after too many "
                            "wrong passwords; an admin must unlock the account")
    if not password_ok(stored.password_hash, password):
        record_failure(store, user, "emergency_access")
        raise LoginFailed("wrong password for emergency access")
    now = clock.now()
    expires = now + timedelta(minutes=EMERGENCY_MINUTES)
    actor = Actor(user.id, user.username)
    with store.write(actor) as w:
        grant_id = grant_rows.insert_grant(w, user.id, now, expires, reason, user.locked)
        grant = grant_rows.grant(store, grant_id)
        assert grant is not None
        w.event("emergency_access_started", "emergency_access", grant.uuid,
                {"user": user.username, "expires_at": to_iso(expires),
                 "account_was_locked": user.locked, "minutes": EMERGENCY_MINUTES},
                reason=reason)
    return Context(store, clock, user, Emergency(grant_id, now, expires, reason))


@service_boundary
def end_emergency(ctx: Context, why: str = "logged out") -> None:
    """Logout, auto-logoff or expiry: close the grant (audited). Idempotent."""
    if ctx.emergency is None:
        return
    row = grant_rows.grant(ctx.store, ctx.emergency.id)
    if row is None or row.ended_at is not None:
        return
    now = min(ctx.clock.now(), ctx.emergency.expires_at)
    with ctx.store.write(ctx.actor) as w:
        grant_rows.end_grant(w, ctx.emergency.id, now, why)
        w.event("emergency_access_ended", "emergency_access", row.uuid, {"why": why})


def _tagged_entries(store: Store, grant: grant_rows.Grant, user: User | None) -> int:
    name = f"{user.username if user else '?'} [emergency #{grant.id}]"
    return count_tagged(store, grant.user_id, to_iso(grant.started_at), name)


def _record(ctx: Context, grant: grant_rows.Grant) -> EmergencyRecord:
    user = user_rows.user(ctx.store, grant.user_id)
    reviewer = (user_rows.user(ctx.store, grant.reviewed_by)
                if grant.reviewed_by is not None else None)
    return EmergencyRecord(
        id=grant.id, username=user.username if user else "?",
        display_name=user.display_name if user else "?",
        started_at=grant.started_at, expires_at=grant.expires_at, ended_at=grant.ended_at,
        reason=grant.reason, account_was_locked=grant.account_was_locked,
        entries=_tagged_entries(ctx.store, grant, user),
        reviewed_at=grant.reviewed_at,
        reviewed_by=reviewer.username if reviewer else "",
        review_note=grant.review_note)


@service_boundary
def pending_reviews(ctx: Context) -> list[EmergencyRecord]:
    """Emergency accesses no admin has acknowledged yet, oldest first."""
    ctx.require(Role.ADMIN, action="review emergency access")
    return [_record(ctx, g) for g in grant_rows.awaiting_review(ctx.store)]


@service_boundary
def review_emergency(ctx: Context, grant_id: int, note: str) -> None:
    """An admin acknowledges an emergency access with a note (what was checked)."""
    ctx.require(Role.ADMIN, action="review emergency access")
    note = note.strip()
    if not note:
        raise ServiceError("write a review note (what you checked, what follows)")
    row = grant_rows.grant(ctx.store, grant_id)
    if row is None:
        raise ServiceError(f"no emergency access #{grant_id}")
    if row.reviewed_at is not None:
        raise ServiceError(f"emergency access #{grant_id} was already reviewed")
    if row.user_id == ctx.user.id and len(active_admins(list_users(ctx))) > 1:
        raise PermissionDenied("another admin must review your own emergency access")
    with ctx.store.write(ctx.actor) as w:
        grant_rows.review_grant(w, grant_id, ctx.clock.now(), ctx.user.id, note)
        w.event("emergency_access_reviewed", "emergency_access", row.uuid,
                {"grant": grant_id}, reason=note)
