"""Child process for test_crash_durability: records vitals in a loop and prints each
row's uuid only after its transaction has committed. Killed with SIGKILL by the test.

usage: python crash_writer.py DB_PATH USERNAME PASSWORD SESSION_ID SOURCE_TAG [COUNT]
With COUNT it stops after that many readings (two writers on one file); an encrypted
database takes its passphrase from KETALOG_PASSPHRASE.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ketalog.domain.clock import FixedClock  # noqa: E402
from ketalog.services import auth, sessions  # noqa: E402
from ketalog.store.connection import open_store  # noqa: E402


def main(db_path: str, username: str, password: str, session_id: int, tag: str,
         count: int | None = None) -> None:
    clock = FixedClock(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    store = open_store(db_path, clock, create=False,
                       passphrase=os.environ.get("KETALOG_PASSPHRASE") or None)
    ctx = auth.login(store, clock, username, password)  # argon2: once per process
    print("ready", flush=True)
    n = 0
    while count is None or n < count:
        n += 1
        reading = sessions.record_vitals(
            ctx, session_id, {"sbp_mmhg": 100 + n % 60, "dbp_mmhg": 60 + n % 30,
                              "hr_bpm": 60 + n % 50, "spo2_pct": 95 + n % 5},
            source=tag)
        print(reading.uuid, flush=True)  # only once the commit has returned


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5],
         int(sys.argv[6]) if len(sys.argv) > 6 else None)
