"""Every GUI test gets its own per-workstation settings (window sizes, alarm sound), so
no test reads what another wrote, and none touches the real user's settings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def workstation_settings(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    yield folder


def backed_up(qtbot, controller, why: str = "manual") -> bool:  # noqa: ANN001
    """Start the controller's backup and wait for it to end (it runs on the task runner):
    True when one was written, False when none started or it failed."""
    ended: list[bool] = []
    if not controller.backup(why, then=ended.append):
        return False
    qtbot.waitUntil(lambda: bool(ended), timeout=60_000)
    return ended[0]
