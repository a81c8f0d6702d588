"""Anchors outside the file: the audit chain's head (entry number and hash) written to
an append-only log in the backup folder (configurable, e.g. another disk) at every
login, signature, backup, export and restore. Someone with the database file can
rewrite or shorten its chain consistently, but not the anchors already written
elsewhere (nor the heads inside the backups): `verify` checks that the chain still holds
every one of them.

On a clinic server there is no file beside which to keep them: the workstation's role
cannot rewrite the server's audit log at all (its triggers and grants refuse it), and
the server's own backups are the administrator's pg_dump files, so no anchor is written
or read from a workstation there."""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ketalog.domain.audit_head import AuditHead, heads_in_pdf, parse_typed
from ketalog.domain.clock import to_iso
from ketalog.paths import data_dir
from ketalog.services.backup_files import ANCHOR_FOLDER_SETTING, backup_folder, list_backups
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.store import settings as stored
from ketalog.store.anchor_queries import audit_hash, audit_head, head_of_file, last_restore_at
from ketalog.store.errors import StoreError
from ketalog.store.private_files import private_folder
from ketalog.store.store import Store

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Anchor:
    entry: int
    hash: str
    at: str
    why: str
    source: str  # where it was found, for the message


@service_boundary
def default_backup_folder(store: Store) -> Path:
    """Beside the local file; for a clinic server, this workstation's own data folder:
    each workstation keeps its own copy of the heads it saw, which whoever holds the
    server cannot rewrite."""
    local = store.local_file
    if local is None:
        return data_dir() / "server-anchors"
    return backup_folder(store, local.parent / "backups")


def _log_stem(store: Store) -> str:
    local = store.local_file
    if local is not None:
        return local.stem
    return re.sub(r"[^A-Za-z0-9._-]+", "_", store.location.split("://", 1)[-1]).strip("_")


@service_boundary
def anchor_log_path(store: Store) -> Path:
    chosen = stored.text(store, ANCHOR_FOLDER_SETTING)
    folder = Path(chosen).expanduser() if chosen else default_backup_folder(store)
    return folder / f"{_log_stem(store)}-anchors.log"


@service_boundary
def current_head(store: Store) -> AuditHead | None:
    """The head a document gathered now carries (printed in its footer, in its metadata)."""
    head = audit_head(store)
    return None if head is None else AuditHead(*head)


@service_boundary
def write_anchor(store: Store, why: str) -> Path | None:
    """Append the current head. Never fails the action it follows (a disconnected backup
    drive must not stop a login): a failure is logged and None returned. For a clinic
    server the log is this workstation's own (`default_backup_folder`)."""
    head = audit_head(store)
    if head is None:
        return None
    path = anchor_log_path(store)
    local = store.local_file
    line = json.dumps({"db": str(local.resolve()) if local else store.location,
                       "entry": head[0], "hash": head[1],
                       "at": to_iso(store.clock.now()), "why": why}, sort_keys=True) + "\n"
    try:
        private_folder(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        _log.warning("could not write the audit anchor to %s: %s", path, exc)
        return None
    return path


@service_boundary
def read_anchors(path: Path) -> list[Anchor]:
    anchors: list[Anchor] = []
    if not path.is_file():
        return anchors
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, 1):
            try:
                data = json.loads(text)
                anchors.append(Anchor(int(data["entry"]), str(data["hash"]), str(data["at"]),
                                      str(data.get("why", "")), f"{path.name} line {number}"))
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line (power cut mid-append) is not evidence
    return anchors


def _backup_anchors(store: Store, since: str) -> tuple[list[Anchor], list[str]]:
    anchors: list[Anchor] = []
    problems: list[str] = []
    if store.local_file is None:
        return anchors, problems  # a server's backups are pg_dump archives, not files here
    for backup in list_backups(default_backup_folder(store), store.local_file):
        if to_iso(backup.taken_at) <= since:
            continue  # of the history a restore replaced
        try:
            head = head_of_file(backup.path, store.passphrase)
        except (sqlite3.Error, StoreError) as exc:
            problems.append(f"backup {backup.path.name} could not be read for its audit "
                            f"head ({exc})")
            continue
        if head is not None:
            anchors.append(Anchor(head[0], head[1], to_iso(backup.taken_at), "backup",
                                  f"backup {backup.path.name}"))
    return anchors, problems


@service_boundary
def anchor_problems(store: Store) -> list[str]:
    """Every anchor and backup head since the last restore must still be in the chain
    (on a clinic server: this workstation's own anchors)."""
    since = last_restore_at(store) or ""
    anchors, problems = _backup_anchors(store, since)
    anchors += read_anchors(anchor_log_path(store))
    checked: dict[tuple[int, str], Anchor] = {}
    for anchor in sorted(anchors, key=lambda a: a.entry):
        if anchor.at > since:
            checked.setdefault((anchor.entry, anchor.hash), anchor)
    return problems + head_problems(store, [
        (AuditHead(a.entry, a.hash), f"{a.source} ({a.why}, {a.at})") for a in checked.values()])


@service_boundary
def anchor_count(store: Store) -> int:
    return len(read_anchors(anchor_log_path(store)))


@service_boundary
def document_heads(path: Path) -> list[AuditHead]:
    """The heads a ketalog PDF carries; a file that cannot be read raises ServiceError."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ServiceError(f"could not read {path}: {exc.strerror or exc}") from exc
    heads = heads_in_pdf(data)
    if not heads:
        raise ServiceError(f"{path} carries no audit head (not a ketalog PDF, or one printed "
                           "before documents carried it)")
    return heads


@service_boundary
def head_problems(store: Store, heads: list[tuple[AuditHead, str]]) -> list[str]:
    """Each (head, where it came from) against the chain: an entry gone means entries were
    deleted, a different hash that the chain was rewritten."""
    problems = []
    for head, source in heads:
        actual = audit_hash(store, head.entry)
        if actual is None:
            problems.append(f"audit log entry {head.entry} is gone, but {source} recorded it: "
                            "entries were deleted")
        elif not head.matches(actual):
            problems.append(f"audit log entry {head.entry} differs from {source}: the chain "
                            "was rewritten")
    return problems


@service_boundary
def given_heads(documents: list[Path], typed: list[str]) -> list[tuple[AuditHead, str]]:
    """Heads handed to `verify`: read from PDFs, or typed back from a page's footer."""
    heads: list[tuple[AuditHead, str]] = []
    for path in documents:
        heads += [(head, f"document {Path(path).name}") for head in document_heads(path)]
    for text in typed:
        try:
            heads.append((parse_typed(text), f"the page footer typed in ({text.strip()})"))
        except ValueError as exc:
            raise ServiceError(str(exc)) from exc
    return heads
