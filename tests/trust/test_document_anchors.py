"""A printed or exported document carries the audit chain's head (footer and PDF
metadata). An attacker who also deletes the anchor log and the backups, then hides the
tail of the chain (who viewed and exported), is still found by the documents."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from ketalog.domain.audit_head import AuditHead
from ketalog.domain.clock import FixedClock
from ketalog.services import auth
from ketalog.services.anchors import anchor_log_path, given_heads, head_problems
from ketalog.services.errors import ServiceError
from ketalog.services.exports import export_session_pdf
from ketalog.store.connection import open_for_verify
from tests.store.helpers import NURSE_PW, build_signed_session
from tests.trust.attack import full_verify, raw, reopen, without_trigger

START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def _exported(tmp_path):
    path = tmp_path / "clinic.sqlite"
    clock = FixedClock(START)
    store = reopen(path, clock)
    signed = build_signed_session(store, clock)
    clock.advance(hours=1)
    nurse = auth.login(store, clock, "nina", NURSE_PW)
    pdf = export_session_pdf(nurse, signed.session_id, tmp_path / "session.pdf")
    head = store.conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    log = anchor_log_path(store)
    store.close()
    return path, clock, pdf, head, log


def _hide_the_tail(path, first_id: int) -> None:
    """Delete every audit entry from `first_id` on (events only: logins, views,
    exports), as someone with the file and sqlite3 would to hide a look at a record."""
    conn = raw(path)
    actions = {r[0] for r in conn.execute("SELECT action FROM audit_log WHERE id >= ?",
                                          [first_id])}
    assert actions and not actions & {"insert", "update", "delete"}, actions
    without_trigger(conn, "audit_log_append_only_delete",
                    f"DELETE FROM audit_log WHERE id >= {first_id}")
    conn.close()


def test_the_page_and_the_metadata_carry_the_head(tmp_path):
    _, _, pdf, head, _ = _exported(tmp_path)
    reader = PdfReader(pdf)
    footer = reader.pages[0].extract_text()
    keywords = reader.metadata["/Keywords"]
    entry, digest = keywords.split(":")[1:]
    assert int(entry) < head  # gathered before its own export entry was written
    assert f"audit #{entry} {digest[:16]}" in footer
    assert [h for h, _ in given_heads([pdf], [])] == [AuditHead(int(entry), digest)]


def test_a_hidden_tail_is_found_by_the_exported_document_alone(tmp_path):
    path, clock, pdf, _, log = _exported(tmp_path)
    printed = given_heads([pdf], [])[0][0]
    log.unlink()  # the attacker removes every other anchor too
    shutil.rmtree(path.parent / "backups", ignore_errors=True)
    _hide_the_tail(path, printed.entry)
    assert full_verify(path, clock) == []  # nothing inside the file gives it away
    store = open_for_verify(path, clock)
    try:
        problems = head_problems(store, given_heads([pdf], []))
        typed = head_problems(store, given_heads([], [printed.printed.removeprefix("audit ")]))
    finally:
        store.close()
    assert problems == [f"audit log entry {printed.entry} is gone, but document session.pdf "
                        "recorded it: entries were deleted"]
    assert typed and "entries were deleted" in typed[0]


def test_an_untouched_chain_holds_the_documents_head(tmp_path):
    path, clock, pdf, _, _ = _exported(tmp_path)
    store = open_for_verify(path, clock)
    try:
        assert head_problems(store, given_heads([pdf], ["#3 " + "0" * 16])) == [
            "audit log entry 3 differs from the page footer typed in (#3 0000000000000000): "
            "the chain was rewritten"]
        assert head_problems(store, given_heads([pdf], [])) == []
    finally:
        store.close()


@pytest.mark.parametrize("text", ["", "12", "12 abc", "x 0123456789abcdef", "1 " + "g" * 16])
def test_a_badly_typed_head_is_refused_with_the_expected_shape(text):
    with pytest.raises(ServiceError, match="expected the entry number"):
        given_heads([], [text])


def test_a_file_without_a_head_is_refused(tmp_path):
    other = tmp_path / "other.pdf"
    other.write_bytes(b"%PDF-1.4\n%%EOF\n")
    with pytest.raises(ServiceError, match="carries no audit head"):
        given_heads([other], [])
    with pytest.raises(ServiceError, match="could not read"):
        given_heads([tmp_path / "missing.pdf"], [])


def _verify(args, clock, capsys):  # noqa: ANN001, ANN201
    from ketalog.cli import main

    code = main(args, clock)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ketalog_verify_takes_the_document_and_the_typed_footer(tmp_path, clock, capsys):
    """The same attack through `ketalog verify --document / --anchor`, as a clinic runs it."""
    path, _, pdf, _, log = _exported(tmp_path)
    printed = given_heads([pdf], [])[0][0]
    typed = printed.printed.removeprefix("audit ")
    code, out, _ = _verify(["--db", str(path), "verify", "--document", str(pdf),
                            "--anchor", typed], clock, capsys)
    assert code == 0 and "sound" in out
    log.unlink()
    shutil.rmtree(path.parent / "backups", ignore_errors=True)
    _hide_the_tail(path, printed.entry)
    code, out, _ = _verify(["--db", str(path), "verify"], clock, capsys)
    assert code == 0  # without the document nothing gives it away
    code, out, _ = _verify(["--db", str(path), "verify", "--document", str(pdf)], clock, capsys)
    assert code == 1
    assert (f"audit log entry {printed.entry} is gone, but document session.pdf recorded "
            "it: entries were deleted") in out
    code, out, _ = _verify(["--db", str(path), "verify", "--anchor", typed], clock, capsys)
    assert code == 1 and "the page footer typed in" in out


@pytest.mark.parametrize("extra", [["--anchor", "12 abc"], ["--document", "missing.pdf"]])
def test_ketalog_verify_refuses_a_bad_head_in_one_line(tmp_path, clock, capsys, extra):
    path, *_ = _exported(tmp_path)
    code, out, err = _verify(["--db", str(path), "verify", *extra], clock, capsys)
    assert code != 0 and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1, err
    assert "expected the entry number" in err or "could not read" in err
