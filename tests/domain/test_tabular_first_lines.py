"""tabular.first_lines: the first lines of a text, read from a prefix, are the whole text's first lines."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dragonnet.tabular import first_lines

# Every line boundary str.splitlines knows, CR LF among them (cut between its CR and LF by some prefix).
BREAKS = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
lines = st.lists(st.tuples(st.text(alphabet=st.sampled_from("ab,;\t é谷"), max_size=12), st.sampled_from(BREAKS)),
                 max_size=40)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(lines, st.integers(0, 45), st.integers(1, 64), st.booleans())
def test_the_first_lines_are_the_whole_text_s(
    parts: list[tuple[str, str]], count: int, prefix: int, last_unterminated: bool
) -> None:
    text = "".join(line + brk for line, brk in parts) + ("tail" if last_unterminated else "")
    assert first_lines(text, count, prefix) == text.splitlines()[:count]


def test_a_large_file_and_a_long_first_line() -> None:
    text = "x" * 200_000 + "\r\n" + "".join(f"row {i}\r\n" for i in range(50_000))
    assert first_lines(text, 120) == text.splitlines()[:120]
    assert first_lines("", 5) == [] and first_lines("one", 5) == ["one"]
