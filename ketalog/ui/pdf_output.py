"""Export and print PDFs from the GUI. Rendering runs on a worker thread with a progress
dialog; gathering the data before and writing + auditing after stay on the GUI thread,
because the store's SQLite connection belongs to it.

Printing hands the finished PDF to the system spooler (`lp` on Linux and macOS, the
shell's print verb on Windows) after the Qt print dialog picked printer and copies:
PySide6-Essentials has no PDF rasteriser, and the spooler prints PDFs natively."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QWidget

from ketalog.services.context import Context
from ketalog.services.documents import Document
from ketalog.services.errors import ServiceError
from ketalog.ui.tasks import tasks_of


def render_in_background(parent: QWidget, label: str, render: Callable[[], bytes],
                         done: Callable[[bytes], None]) -> Future[bytes]:
    """Run `render` off the GUI thread behind a busy dialog; call `done` on the GUI thread.
    A failure is shown as a message, never a traceback. The work runs on the task runner
    of `parent`'s window."""
    progress = QProgressDialog(label, "", 0, 0, parent)
    progress.setObjectName("pdfProgress")
    progress.setCancelButton(None)  # a half-rendered PDF is never written anyway
    progress.setMinimumDuration(300)
    progress.setWindowTitle("ketalog")

    def finished() -> None:
        progress.close()
        progress.deleteLater()

    def rendered(pdf: bytes) -> None:
        finished()
        done(pdf)

    def failed(error: BaseException) -> None:
        finished()
        QMessageBox.warning(parent, "PDF", f"The PDF could not be made: {error}")

    return tasks_of(parent).run(render, rendered, failed, owner=parent)


def export_document(parent: QWidget, ctx: Context, document: Document, out: Path,
                    written: Callable[[Path], None],
                    failed: Callable[[str], None]) -> Future[bytes]:
    """The one export flow: `document` was gathered on the GUI thread; it renders behind
    a busy dialog, then is written whole and audited on the GUI thread. `written(path)`
    or `failed(message)` says how it ended."""
    def save(data: bytes) -> None:
        try:
            path = document.save(ctx, data, out)
        except ServiceError as exc:
            failed(str(exc))
            return
        written(path)

    return render_in_background(parent, f"Writing the {document.title}...", document.render,
                                save)


def print_document(parent: QWidget, ctx: Context, document: Document,
                   chosen: tuple[str, int], sent: Callable[[str], None],
                   failed: Callable[[str], None]) -> Future[bytes]:
    """The one print flow: rendered behind a busy dialog, handed to the spooler, then
    audited. `sent(what the spooler said)` or `failed(message)`."""
    printer, copies = chosen

    def send(data: bytes) -> None:
        try:
            answer = send_to_printer(data, printer, copies)
            document.printed(ctx, printer, copies)
        except (OSError, subprocess.SubprocessError, ServiceError) as exc:
            failed(str(exc))
            return
        sent(answer)

    return render_in_background(parent, "Preparing the print...", document.render, send)


def ask_pdf_path(parent: QWidget, suggested: str) -> Path | None:
    start = str(Path.home() / "Documents" / suggested) if (Path.home() / "Documents").is_dir() \
        else str(Path.home() / suggested)
    name, _ = QFileDialog.getSaveFileName(parent, "Export PDF", start, "PDF files (*.pdf)")
    if not name:
        return None
    path = Path(name)
    return path if path.suffix.lower() == ".pdf" else path.with_suffix(".pdf")


def print_command(pdf: Path, printer: str, copies: int) -> list[str] | None:
    """The spooler command for this platform, or None where the shell prints instead."""
    if sys.platform.startswith("win"):
        return None
    lp = shutil.which("lp")
    if lp is None:
        raise FileNotFoundError("no `lp` command: install CUPS, or export the PDF and print "
                                "it from a PDF viewer")
    command = [lp, "-n", str(max(1, copies))]
    if printer:
        command += ["-d", printer]
    return [*command, str(pdf)]


def ask_printer(parent: QWidget) -> tuple[str, int] | None:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print PDF")
    if dialog.exec() != QPrintDialog.DialogCode.Accepted:
        return None
    return printer.printerName(), printer.copyCount()


def send_to_printer(pdf_bytes: bytes, printer: str, copies: int) -> str:
    """Returns what the spooler said (the job id on CUPS)."""
    folder = Path(tempfile.mkdtemp(prefix="ketalog-print-"))
    path = folder / "ketalog.pdf"
    path.write_bytes(pdf_bytes)
    command = print_command(path, printer, copies)
    if command is None:
        os.startfile(str(path), "print")  # type: ignore[attr-defined]  # Windows only
        return "sent to the default printer"
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise OSError(result.stderr.strip() or f"lp exited with {result.returncode}")
    return result.stdout.strip() or "sent"
