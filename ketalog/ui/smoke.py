"""`ketalog --smoke`: start the GUI as a clinic would, show one window, quit by itself.

Used by `make dist` on the frozen build (proves Qt's platform plugins, the store, the
fonts and the main window load) and by the start-up benchmark. With KETALOG_USER and
KETALOG_PASSWORD set it logs in without a dialog and shows the main window; without them
it shows the first window a user would see (first-run set-up or login). It quits once
that window has been painted, exit 0; a file it cannot open (damaged, newer than this
build, encrypted without KETALOG_PASSPHRASE) exits 2 with the reason instead of waiting
in a dialog; a failed login exits 4, a window never painted 3.
The closing backup and the monitor feed are left out: a smoke run must not write backups
next to the database or listen on a port."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from ketalog.domain.clock import Clock
from ketalog.services.auth import login
from ketalog.services.context import Context
from ketalog.services.database import (
    Database,
    is_server_address,
    open_database_file,
    open_server_database,
    safe_location,
)
from ketalog.services.errors import ServiceError, StoreFailed
from ketalog.services.system import needs_first_admin
from ketalog.ui.login import FirstRunDialog, LoginDialog

if TYPE_CHECKING:
    from ketalog.ui.feed_runner import FeedRunner
    from ketalog.ui.main_window import MainWindow
    from ketalog.ui.tasks import TaskRunner

PASSPHRASE_ENV = "KETALOG_PASSPHRASE"  # the same variable the command line reads (cli/context.py)
NEVER_SHOWN = 3
LOGIN_FAILED = 4
TIMEOUT_MS = 60_000


def open_for_smoke(db_path: Path | str, clock: Clock) -> Database | None:
    try:
        if is_server_address(db_path):
            return open_server_database(str(db_path), clock)
        return open_database_file(Path(db_path), clock,
                                  passphrase=os.environ.get(PASSPHRASE_ENV) or None)
    except StoreFailed as exc:
        shown = safe_location(str(db_path)) if is_server_address(db_path) else db_path
        print(f"ketalog --smoke: cannot open {shown}: {exc}", file=sys.stderr)
        return None


class _QuitWhenPainted(QObject):
    """Quits the app after the first paint of the watched window (not merely show():
    a paint proves the platform plugin, fonts and styles work)."""

    def __init__(self, app: QApplication) -> None:
        super().__init__()
        self.app, self.painted = app, False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint and not self.painted:
            self.painted = True
            QTimer.singleShot(0, self.app.quit)
        return False


class SmokeHost(Protocol):
    """What a smoke run needs of the app's controller (ui/app.py's GuiController, which
    imports this module: naming the protocol here keeps the import one way)."""

    store: Database
    clock: Clock
    where: Path | str
    ctx: Context | None
    last_ctx: Context | None
    main: MainWindow | None
    tasks: TaskRunner
    feed: FeedRunner


def run_smoke(app: QApplication, controller: SmokeHost) -> int:
    store, clock = controller.store, controller.clock
    username = os.environ.get("KETALOG_USER", "")
    password = os.environ.get("KETALOG_PASSWORD", "")
    window: QWidget
    if username and password:
        try:
            ctx = login(store, clock, username, password)
        except ServiceError as exc:
            print(f"ketalog --smoke: login as {username} failed: {exc}", file=sys.stderr)
            return LOGIN_FAILED
        controller.ctx = controller.last_ctx = ctx
        from ketalog.ui.main_window import MainWindow

        window = controller.main = MainWindow(ctx, controller.where, controller.tasks,
                                               controller.feed)
    elif not needs_first_admin(store):
        window = LoginDialog(store, clock)
    else:
        window = FirstRunDialog(store, clock)
    watcher = _QuitWhenPainted(app)
    window.installEventFilter(watcher)
    window.show()
    QTimer.singleShot(TIMEOUT_MS, app.quit)
    app.exec()
    print(f"ketalog --smoke: {window.objectName() or type(window).__name__} "
          f"{'shown' if watcher.painted else 'never painted'} "
          f"(platform {app.platformName()})", file=sys.stderr)
    window.close()
    return 0 if watcher.painted else NEVER_SHOWN
