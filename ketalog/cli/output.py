"""What the commands share for reading arguments and writing answers: dates in, plain
tables and local times out (stdout is for scripts too: no colours, no wrapping)."""

from __future__ import annotations

from datetime import date

from ketalog.cli.context import CliError
from ketalog.domain.clock import from_iso


def day(text: str | None, flag: str) -> date | None:
    """A --from/--to argument: None when not given, a CliError naming the flag when it
    is not a date."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{flag} must be a date YYYY-MM-DD (got {text!r})") from None


def local(text: object) -> str:
    """A stored UTC time in the workstation's zone, to the minute; '-' when absent."""
    if not text:
        return "-"
    return from_iso(str(text)).astimezone().strftime("%Y-%m-%d %H:%M")


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True))
             for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
