"""Windows that fit the screen: each main window remembers its size and position per
workstation (QSettings); the first time, or when the saved place is off every screen, it
opens maximised on screens up to 1366x768 (clinic laptops) and at a sensible size,
centred, on larger ones."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

SMALL_SCREEN = (1366, 768)
DEFAULT_SIZES = {"main": (1280, 800), "session": (1500, 900)}


def _key(name: str) -> str:
    return f"windows/{name}/geometry"


def small_screen(rect: QRect) -> bool:
    return rect.width() <= SMALL_SCREEN[0] or rect.height() <= SMALL_SCREEN[1]


def _on_a_screen(window: QWidget) -> bool:
    frame = window.frameGeometry()
    return any(screen.availableGeometry().intersects(frame)
               for screen in QGuiApplication.screens())


def show_fitted(window: QWidget, name: str) -> None:
    """Show at the saved geometry, else maximised on a small screen, else centred."""
    saved = QSettings().value(_key(name))
    if isinstance(saved, QByteArray | bytes) and window.restoreGeometry(QByteArray(saved)) \
            and _on_a_screen(window):
        window.show()
        return
    screen = window.screen() or QGuiApplication.primaryScreen()
    area = screen.availableGeometry() if screen else QRect(0, 0, *SMALL_SCREEN)
    if small_screen(area):
        window.showMaximized()
        return
    width, height = DEFAULT_SIZES.get(name, (1280, 800))
    width, height = min(width, area.width()), min(height, area.height())
    window.resize(width, height)
    window.move(area.x() + (area.width() - width) // 2, area.y() + (area.height() - height) // 2)
    window.show()


def remember(window: QWidget, name: str) -> None:
    """Called when the window closes or hides (log out): this workstation's next login
    opens it where it was."""
    QSettings().setValue(_key(name), window.saveGeometry())
