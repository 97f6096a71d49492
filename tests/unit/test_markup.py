"""pages/ui/markup.py: any text, made `literal`, is Markdown that a CommonMark parser reads back as exactly that text.

The parser here is markdown-it-py (CommonMark with tables and strike-through, raw HTML on). Streamlit's own renderer
(react-markdown with GitHub's extensions, emoji, icons, colours and math) is looked at in Chromium by
tests/browser/test_user_text_is_text.py; what only it does (autolinks found after escapes are read, `:shortcodes:`)
is what the word joiner is for, checked here by the characters it must stand between."""

from __future__ import annotations

import html
import re
from datetime import date, time

from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from core.domain import visible
from pages.ui.markup import WORD_JOINER, bold, link, literal, table

PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# Every character Markdown, GitHub's extensions or Streamlit give a meaning to, and a few that they do not.
TRICKY = st.lists(
    st.sampled_from([*"abw :/.@[]()!<>*_`~|$&#;-+=\\{}^%\"'\t1)\n", "www.", "https://", "\u202e", "é"]), max_size=40
).map("".join)


def text_of(markdown: str) -> tuple[str, set[str]]:
    """What a reader sees, and the kinds of element the parser made on the way."""
    tokens = PARSER.parse(markdown)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in (t.children or [])}
    rendered = PARSER.render(markdown).replace("<br />\n", "\n")
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip().replace(WORD_JOINER, ""), kinds


def shown(text: str, *, lines: bool = False) -> str:
    parts = visible(text).splitlines() if lines else [" ".join(visible(text).splitlines())]
    return "\n".join(part.strip() for part in parts).strip()


@given(TRICKY)
def test_any_text_made_literal_reads_back_as_that_text_and_nothing_else(text: str) -> None:
    seen, kinds = text_of(literal(text))
    assert seen == shown(text)
    assert kinds <= {"paragraph_open", "paragraph_close", "inline", "text"}, kinds


@given(TRICKY)
@example("a\n\na")  # an empty line between two: a paragraph break would drop it
@example("\n a\n \n\nb \n")
def test_text_of_several_lines_keeps_its_lines_and_starts_no_block(text: str) -> None:
    seen, kinds = text_of(literal(text, lines=True))
    assert seen == shown(text, lines=True)
    assert kinds <= {"paragraph_open", "paragraph_close", "inline", "text", "hardbreak"}, kinds


@given(TRICKY)
@example("x@_attacker.example")  # an escape inside the address must not hide it from the joiner
@example("see www.attacker.example or :material/warning:")
def test_nothing_that_streamlit_would_turn_into_a_link_or_an_icon_survives(text: str) -> None:
    made = literal(text)
    without_escapes = re.sub(r"\\(.)", r"\1", made)
    assert not re.search(r"(?i)www\.|https?:/|@[\w-]|:[a-z/]|:(?!\d{1,2}:)[\w+-]+:", without_escapes), made


@given(st.sampled_from(["", "at "]), st.dates(), st.times())
def test_a_time_of_day_carries_no_invisible_character_to_copy(before: str, day: date, moment: time) -> None:
    """A copied timestamp once held a word joiner after its hours (a `:05:` taken for an emoji shortcode)."""
    text = f"{before}{day:%d %b %Y} {moment:%H:%M:%S} UTC"
    assert literal(text) == text


def test_a_number_that_is_an_emoji_shortcode_still_gets_its_joiner() -> None:
    assert literal(":100: :1234:") == f":{WORD_JOINER}100: :{WORD_JOINER}1234:"


def test_a_text_direction_override_is_named_not_obeyed() -> None:
    assert literal("ok\u202evsc.exe") == "ok⟨U+202E⟩vsc.exe"


@given(TRICKY, TRICKY)
def test_a_table_cell_stays_in_its_cell(first: str, second: str) -> None:
    tokens = PARSER.parse(table(["A", "B"], [[first, bold(second)]]))
    cells = [t for t in tokens if t.type == "inline"]
    assert len(cells) == 4  # two headers, two cells: no | in a value opens another
    assert {c.type for t in cells for c in (t.children or [])} <= {"text", "strong_open", "strong_close"}


def test_a_link_is_ours_with_its_text_literal() -> None:
    made = link("Open [on] AWS", "https://eu-west-2.console.aws.amazon.com/s3/buckets/b?prefix=a b)/")
    [inline] = [t for t in PARSER.parse(made) if t.type == "inline"]
    opened = next(c for c in inline.children or [] if c.type == "link_open")
    assert opened.attrs["href"] == "https://eu-west-2.console.aws.amazon.com/s3/buckets/b?prefix=a%20b%29/"
    assert text_of(made)[0] == "Open [on] AWS"
