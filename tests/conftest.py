"""Shared fixtures. Qt runs offscreen in tests; time is fixed."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from ketalog.domain.clock import FixedClock  # noqa: E402


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))


@pytest.fixture
def store(tmp_path: Path, clock: FixedClock):
    from ketalog.store.connection import open_store

    s = open_store(tmp_path / "ketalog.db", clock)
    yield s
    s.close()
