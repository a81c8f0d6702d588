"""The clinic logo on PDF pages: read once per document, drawn at most LOGO_H tall and
LOGO_MAX_W wide with its proportions kept."""

from __future__ import annotations

import io
from functools import lru_cache

from reportlab.lib.utils import ImageReader

LOGO_H = 24.0  # points: the height of the two header lines
LOGO_MAX_W = 72.0


@lru_cache(maxsize=4)
def _reader(data: bytes) -> ImageReader:
    try:
        reader = ImageReader(io.BytesIO(data))
        width, height = reader.getSize()
    except Exception as exc:  # ReportLab/PIL raise many kinds for a bad image
        raise ValueError(f"not a readable PNG or JPEG image ({exc.__class__.__name__})") from exc
    if width <= 0 or height <= 0:
        raise ValueError("the image has no size")
    return reader


def logo_size(data: bytes) -> tuple[float, float]:
    """(width, height) in points as drawn; ValueError for an unreadable image."""
    width, height = _reader(data).getSize()
    scale = min(LOGO_H / height, LOGO_MAX_W / width)
    return width * scale, height * scale


def logo_image(data: bytes) -> ImageReader:
    return _reader(data)
