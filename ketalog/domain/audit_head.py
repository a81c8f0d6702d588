"""The audit chain's head as a printed or exported document carries it: an anchor outside
the file. Someone who rewrites or shortens the chain cannot change the pages already
printed, so the head on a page (or in a PDF's metadata) is checked against the chain
later by `ketalog verify --anchor` / `--document`."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Enough of the hash to read off paper and type back; 64 bits make a match by chance
# after a rewrite hopeless.
PRINTED_HEX = 16
KEYWORD_PREFIX = "ketalog-audit-head"
_KEYWORD = re.compile(rb"ketalog-audit-head:(\d{1,18}):([0-9a-f]{64})")
_TYPED = re.compile(r"^\s*#?(\d{1,18})\s*[: ]\s*([0-9a-fA-F]{12,64})\s*$")


@dataclass(frozen=True)
class AuditHead:
    """Entry number and hash of the newest audit entry when a document was gathered;
    `hash` may be a prefix (at least 12 hex digits) when typed back from paper."""

    entry: int
    hash: str

    @property
    def printed(self) -> str:
        """What the page footer shows."""
        return f"audit #{self.entry} {self.hash[:PRINTED_HEX]}"

    @property
    def keyword(self) -> str:
        """The full head, in the PDF's metadata (machine-readable, not on the page)."""
        return f"{KEYWORD_PREFIX}:{self.entry}:{self.hash}"

    def matches(self, actual_hash: str) -> bool:
        return actual_hash.startswith(self.hash.lower())


def parse_typed(text: str) -> AuditHead:
    """`1234 3f9a0b1c2d3e4f56`, `#1234 3f9a…` or `1234:<hash>`, as read off a page.
    Raises ValueError with the expected shape."""
    match = _TYPED.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not an audit head: expected the entry number and "
                         f"at least 12 hex digits of its hash, as a page's footer prints "
                         f"them (e.g. 1234 3f9a0b1c2d3e4f56)")
    return AuditHead(int(match.group(1)), match.group(2).lower())


def heads_in_pdf(data: bytes) -> list[AuditHead]:
    """The heads a ketalog PDF carries in its metadata (its Info dictionary is not
    compressed, so the keyword is found in the raw bytes)."""
    seen: list[AuditHead] = []
    for entry, digest in _KEYWORD.findall(data):
        head = AuditHead(int(entry), digest.decode("ascii"))
        if head not in seen:
            seen.append(head)
    return seen
