"""`ketalog verify`: everything that can prove the file was not damaged or tampered with."""

from __future__ import annotations

import sqlite3

from ketalog.domain.hashing import content_hash
from ketalog.store.audit import walk_chain
from ketalog.store.content import session_content
from ketalog.store.schema import protection_triggers
from ketalog.store.store import Store


def verify_store(store: Store) -> list[str]:
    problems: list[str] = []
    try:
        problems += store.cipher_problems()
        problems += store.integrity_problems()
    except sqlite3.DatabaseError as exc:  # a damaged page can stop the check itself
        return [*problems, f"integrity: the file is damaged ({exc})"]
    problems += store.foreign_key_problems()
    missing = sorted(set(protection_triggers()) - store.trigger_names())
    if missing:
        problems.append(f"protection triggers missing (records could be changed): "
                        f"{', '.join(missing)}")
    problems += list(walk_chain(store.conn))
    for session_id in store.signed_session_ids():
        signatures = store.rows("signatures", order_by="id", session_id=session_id)
        if not signatures:
            problems.append(f"session {session_id} is signed but has no signature")
            continue
        actual = content_hash(session_content(store, session_id))
        if signatures[-1]["content_hash"] != actual:
            problems.append(f"session {session_id}: content no longer matches its signature "
                            f"(changed after signing)")
    return problems
