"""Draw the application icon: resources/icons/ketalog.png (256 px) and ketalog.ico
(16-256 px, for the Windows build). Run once by hand when the design changes
(`QT_QPA_PLATFORM=offscreen .venv/bin/python tools/make_icon.py`); the files are
committed, so a build never needs this script."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
)

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZE = 256
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def _drop(cx: float, top: float, bottom: float) -> QPainterPath:
    """An infusion drop: a point at the top, round at the bottom."""
    radius = (bottom - top) * 0.34
    centre_y = bottom - radius
    path = QPainterPath(QPointF(cx, top))
    path.cubicTo(QPointF(cx + radius * 0.35, top + radius * 0.9),
                 QPointF(cx + radius, centre_y - radius * 0.55), QPointF(cx + radius, centre_y))
    path.arcTo(QRectF(cx - radius, centre_y - radius, 2 * radius, 2 * radius), 0, -180)
    path.cubicTo(QPointF(cx - radius, centre_y - radius * 0.55),
                 QPointF(cx - radius * 0.35, top + radius * 0.9), QPointF(cx, top))
    return path


def draw(size: int = SIZE) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / SIZE, size / SIZE)
    # rounded tile, teal to deep blue
    gradient = QLinearGradient(0, 0, 0, SIZE)
    gradient.setColorAt(0, QColor("#1c8c8c"))
    gradient.setColorAt(1, QColor("#17507a"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(gradient)
    p.drawRoundedRect(QRectF(8, 8, SIZE - 16, SIZE - 16), 48, 48)
    # the drop
    p.setBrush(QColor("#ffffff"))
    p.drawPath(_drop(128, 30, 154))
    # a vitals trace under the drop
    trace = [(36, 202), (92, 202), (108, 182), (126, 226), (146, 172), (164, 202), (220, 202)]
    path = QPainterPath(QPointF(*trace[0]))
    for x, y in trace[1:]:
        path.lineTo(QPointF(x, y))
    pen = QPen(QColor("#ffffff"), 14, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(pen)
    p.drawPath(path)
    p.end()
    return image


def _pil(image: QImage) -> Image.Image:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(buffer.data())))


def main() -> None:
    app = QGuiApplication([])  # noqa: F841 - QPainter on QImage needs one for fonts
    OUT.mkdir(parents=True, exist_ok=True)
    big = draw(SIZE)
    big.save(str(OUT / "ketalog.png"))
    # Small sizes drawn at their size (sharper than a downscale of the 256 px image).
    frames = [_pil(draw(w)) for w, _ in ICO_SIZES]
    frames[-1].save(OUT / "ketalog.ico", sizes=ICO_SIZES, append_images=frames[:-1])
    print(f"wrote {OUT / 'ketalog.png'} and {OUT / 'ketalog.ico'}")


if __name__ == "__main__":
    main()
