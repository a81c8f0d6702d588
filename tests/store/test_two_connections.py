"""Two connections on one file (the GUI and the monitor feed's listener) both append to
the audit chain: each write must chain onto the other's newest entry."""

from __future__ import annotations

from ketalog.store.connection import open_store
from ketalog.store.store import SYSTEM
from ketalog.store.verify import verify_store


def test_interleaved_writers_keep_one_sound_chain(tmp_path, clock):
    path = tmp_path / "k.db"
    first, second = open_store(path, clock), open_store(path, clock)
    try:
        seeded = first.count("audit_log")  # the upgrade steps' own entries
        for n in range(6):
            writer = first if n % 2 == 0 else second
            with writer.write(SYSTEM) as w:
                w.event("test", details={"n": n})
        assert verify_store(first) == []
        assert first.count("audit_log") == seeded + 6
    finally:
        first.close()
        second.close()
