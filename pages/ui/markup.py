"""Text that a person typed, or that came from S3, shown to others as exactly that text.

Streamlit renders Markdown in almost every element: st.markdown, captions, alerts, table cells, widget labels and
help. A value from a user (a path, a business need, an object's name, a display name) must never become a link, an
image, coloured text or an icon there. `literal` turns any value into Markdown that renders as the value itself;
`bold`, `link` and `table` build the few pieces of markup the pages need around such values. A page never puts a
value into Markdown any other way (tests/test_code_quality.py checks that). A person's own words at length (a
business need, a reason, a message quoting them) go to st.text or a dataframe instead, which render no Markdown:
there they keep every character as typed, where `literal` must put an invisible word joiner into `www.`, `://`,
`@` and `:word` to keep them from becoming links or icons.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Sequence

from core.domain import visible


class Markdown(str):
    """Markdown that is safe to render: built here, from literal text and our own markup."""


# Escaped anywhere in a line: emphasis, code, links and images, raw HTML and autolinks, tables, strike-through,
# math, entities (`&#x202E;` would make a bidi override) and Streamlit's `:color[...]` directives.
_INLINE = re.compile(r"([\\`*_\[\]<>|~$&!])")
# What would start a block at the start of a line: a heading, a list, a quote, a setext underline, a fence.
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")
# GitHub's autolink literals (www., http://, someone@host) and Streamlit's :emoji: and :material/icon: shortcodes
# are found in the text *after* Markdown escapes are read, so no backslash stops them: an invisible word joiner
# (U+2060) right after the trigger does. No shortcode is one or two digits (`:100:` and `:1234:` are): a time of day
# (14:05:33) keeps no joiner, which would be copied with it.
_TRIGGERS = re.compile(r"(?i)(?<=www)(?=\.)|(?<=:)(?=[a-z/]|(?!\d{1,2}:)[\w+-]+:)|(?<=@)(?=[\w-])")
WORD_JOINER = "\u2060"


def literal(value: object, *, lines: bool = False) -> Markdown:
    """`value` as Markdown that renders as exactly its text. One line unless `lines`: then each line of the text
    is a line of the output (a hard break), never a heading, list, quote or code block."""
    text = str(value)
    return _remembered(text, lines) if len(text) <= 256 else _escaped(text, lines)


def _escaped(value: str, lines: bool) -> Markdown:
    text = visible(value)
    if not lines:
        return Markdown(_line(" ".join(text.splitlines())))
    parts = text.strip().splitlines()
    # An empty line between two lines would end the paragraph: a word joiner keeps it a line of its own.
    return Markdown("  \n".join(_line(part) if part.strip() else WORD_JOINER for part in parts))


@functools.lru_cache(maxsize=8192)
def _remembered(value: str, lines: bool) -> Markdown:
    """A page escapes the same names, labels and cells at every rerun: short ones are escaped once a process."""
    return _escaped(value, lines)


def _line(text: str) -> str:
    # The joiners go in before the escapes: `x@_host` is an address to GitHub's autolinks, `x@\_host` to the regex.
    text = _INLINE.sub(r"\\\1", _TRIGGERS.sub(WORD_JOINER, text.strip()))
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2) if len(m.group(2)) == 1 else _number(m), text)


def _number(match: re.Match[str]) -> str:
    """`1.` or `2)` at the start of a line would start a numbered list: escape its dot or bracket."""
    marker = match.group(2)
    return match.group(1) + marker[:-1] + "\\" + marker[-1]


def bold(value: object) -> Markdown:
    return Markdown(f"**{literal(value)}**")


def link(label: object, url: str) -> Markdown:
    """A link to one of our own URLs (the AWS console): its text literal, the URL with nothing that ends it early."""
    if not url.startswith("https://"):
        raise ValueError(f"not one of Gatehouse's own https links: {url[:40]!r}")
    safe = urllib.parse.quote(url, safe=":/?&=%#+,;@-._~")
    return Markdown(f"[{literal(label)}]({safe})")


def links(labelled: Sequence[tuple[object, str]]) -> Markdown:
    """Several of our own links side by side (one a granted path), each as `link` makes it."""
    return Markdown(" · ".join(link(label, url) for label, url in labelled))


def cell(value: object) -> Markdown:
    return value if isinstance(value, Markdown) else literal(value)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> Markdown:
    """One Markdown element for a whole table: far cheaper to draw than an element a cell. A cell is shown as its
    text unless it is Markdown made here (`bold`, `link`)."""
    lines = ["| " + " | ".join(literal(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return Markdown("\n".join(lines))
