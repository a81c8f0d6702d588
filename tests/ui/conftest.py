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
