"""Reading a log in byte blocks cut into chunks without a Python object per line
(:func:`corridor.ingest.nmea.bounded_chunks`) gives the same lines, the same overlong-line
stand-ins and the same chunk cuts as reading it line by line (``bounded_lines`` then
``_chunks``), however the bytes fall into blocks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from corridor.ingest.nmea import _chunks, bounded_chunks, bounded_lines

_LINES = st.lists(st.one_of(
    st.sampled_from([b"!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*5C", b"$PGHP,1,2013,3,18",
                     b"", b"  $PGHP,2", b"\r", b"# x", b"\x00", b"$", b" "]),
    st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
    st.integers(20, 90).map(lambda n: b"x" * n),  # longer than the limit (32)
), max_size=60)


def _by_lines(data: bytes, cuts: list[int], size: int, limit: int):
    blocks = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)], strict=True)]
    return [(b"\n".join(chunk), len(chunk), first)
            for chunk, first in _chunks(bounded_lines(blocks, limit), size)]


def _by_blocks(data: bytes, cuts: list[int], size: int, limit: int):
    blocks = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)], strict=True)]
    return list(bounded_chunks(blocks, size, limit))


@settings(max_examples=400, deadline=None)
@given(_LINES, st.booleans(), st.lists(st.integers(0, 3000), max_size=8), st.integers(1, 7))
def test_block_chunks_are_the_line_by_line_chunks(lines, final_break, cuts, size):
    data = b"\n".join(lines) + (b"\n" if final_break and lines else b"")
    cuts = sorted({c for c in cuts if c <= len(data)})
    got = _by_blocks(data, cuts, size, 32)
    assert got == _by_lines(data, cuts, size, 32)
    assert sum(n for _c, n, _f in got) == len(list(bounded_lines([data], 32)))


def test_a_long_file_in_megabyte_blocks_is_cut_at_the_same_lines(data_dir):
    text = b"".join(p.read_bytes() for p in sorted((data_dir / "ais-nmea").rglob("*"))
                    if p.is_file())
    assert text.count(b"\n") > 5000
    cuts = list(range(4093, len(text), 4093))
    got = _by_blocks(text, cuts, 997, 8192)
    assert len(got) > 5
    assert got == _by_lines(text, cuts, 997, 8192)


def test_an_overlong_line_is_never_held_whole():
    import tracemalloc

    block = b"x" * (1 << 20)

    def blocks():
        for _ in range(40):  # a 40 MB line without a line break
            yield block
        yield b"\n!AIVDM,1,1,,A,1,0*00\n"

    tracemalloc.start()
    try:
        got = list(bounded_chunks(blocks(), 10))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == [(b"\x00line too long\x00\n!AIVDM,1,1,,A,1,0*00", 2, 1)]
    assert peak < 8 << 20
