"""MLLP framing: split anywhere, junk, truncated and oversized frames."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ketalog.interop.mllp import Frame, FrameProblem, MllpDecoder, wrap


def feed_all(decoder: MllpDecoder, chunks: list[bytes]) -> list[Frame | FrameProblem]:
    out: list[Frame | FrameProblem] = []
    for chunk in chunks:
        out += decoder.feed(chunk)
    return out


def test_frames_survive_any_split():
    stream = wrap(b"MSH|one") + b"\r\n" + wrap(b"MSH|two") + wrap(b"")
    for cut in range(len(stream) + 1):
        for cut2 in range(cut, len(stream) + 1, 3):
            out = feed_all(MllpDecoder(), [stream[:cut], stream[cut:cut2], stream[cut2:]])
            assert out == [Frame(b"MSH|one"), Frame(b"MSH|two"), Frame(b"")], (cut, cut2)


def test_junk_before_a_frame_is_skipped_and_end_without_start_is_reported():
    out = feed_all(MllpDecoder(), [b"GET / HTTP/1.1\r\n\x1c\r", wrap(b"MSH|ok")])
    assert out == [FrameProblem("frame without a start block (0x0B)"), Frame(b"MSH|ok")]


def test_truncated_frame_then_a_good_one():
    out = MllpDecoder().feed(b"\x0bMSH|cut off\x0bMSH|whole\x1c\r")
    assert isinstance(out[0], FrameProblem) and "truncated" in out[0].reason
    assert out[1] == Frame(b"MSH|whole")


def test_oversized_frame_is_fatal_and_memory_stays_bounded():
    decoder = MllpDecoder(max_frame_bytes=1000)
    out = feed_all(decoder, [b"\x0b" + b"x" * 600, b"x" * 600])
    assert out == [FrameProblem("frame exceeds 1000 bytes", fatal=True)]
    assert decoder.pending_bytes == 0
    flood = MllpDecoder(max_frame_bytes=1000)
    assert flood.feed(b"z" * 1500)[0].fatal
    big_in_one = MllpDecoder(max_frame_bytes=10).feed(wrap(b"y" * 11))
    assert big_in_one == [FrameProblem("frame exceeds 10 bytes", fatal=True)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_any_bytes_only_yield_frames_or_problems(chunks):
    decoder = MllpDecoder(max_frame_bytes=256)
    out = feed_all(decoder, chunks)
    assert all(isinstance(x, Frame | FrameProblem) for x in out)
    assert all(len(x.payload) <= 256 for x in out if isinstance(x, Frame))
    assert decoder.pending_bytes <= 256 + 64


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40).filter(lambda b: b"\x0b" not in b and b"\x1c" not in b),
                min_size=1, max_size=5), st.integers(1, 17))
def test_wrapped_payloads_come_back_whatever_the_chunking(payloads, size):
    stream = b"".join(wrap(p) for p in payloads)
    chunks = [stream[i:i + size] for i in range(0, len(stream), size)]
    assert feed_all(MllpDecoder(), chunks) == [Frame(p) for p in payloads]
