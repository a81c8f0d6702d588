"""The audit head a document carries: printed, typed back, found in a PDF's bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain.audit_head import PRINTED_HEX, AuditHead, heads_in_pdf, parse_typed

heads = st.builds(AuditHead, st.integers(1, 10**15),
                  st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))


@given(heads)
def test_the_printed_head_typed_back_matches_the_chain(head):
    typed = parse_typed(head.printed.removeprefix("audit "))
    assert typed.entry == head.entry and len(typed.hash) == PRINTED_HEX
    assert typed.matches(head.hash)


@given(heads, st.binary(max_size=200), st.binary(max_size=200))
def test_the_keyword_is_found_in_any_surrounding_bytes(head, before, after):
    data = before + b"/Keywords (" + head.keyword.encode() + b")" + after
    assert head in heads_in_pdf(data)


@given(heads, st.text(alphabet="0123456789abcdef", min_size=12, max_size=12))
def test_a_different_hash_does_not_match(head, other):
    if head.hash.startswith(other):
        return
    assert not AuditHead(head.entry, other).matches(head.hash)


def test_upper_case_and_separators_are_accepted():
    assert parse_typed(" #12: 0123456789ABCDEF ") == AuditHead(12, "0123456789abcdef")
    assert parse_typed("12 0123456789ab").hash == "0123456789ab"
