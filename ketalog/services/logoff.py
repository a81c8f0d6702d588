"""When a workstation must log its user off, decided against the Clock (so tests fix
time): after the clinic's idle minutes without input, or when an emergency grant runs
out. The GUI asks every few seconds and records the logoff here."""

from __future__ import annotations

from datetime import datetime, timedelta

from ketalog.services.context import Context
from ketalog.services.emergency import end_emergency
from ketalog.services.errors import service_boundary
from ketalog.services.settings import auto_logoff_minutes

IDLE = "idle"
EMERGENCY_ENDED = "emergency access ended"


@service_boundary
def logoff_due(ctx: Context, last_input_at: datetime) -> str | None:
    """IDLE, EMERGENCY_ENDED or None (stay logged in)."""
    now = ctx.clock.now()
    if ctx.emergency_over():
        return EMERGENCY_ENDED
    if now - last_input_at >= timedelta(minutes=auto_logoff_minutes(ctx)):
        return IDLE
    return None


@service_boundary
def record_logoff(ctx: Context, why: str) -> None:
    """Audit an automatic logoff, and close an emergency grant with it."""
    with ctx.store.write(ctx.actor) as w:
        w.event("auto_logoff", "users", details={
            "why": why, "idle_minutes": auto_logoff_minutes(ctx)})
    end_emergency(ctx, why)
