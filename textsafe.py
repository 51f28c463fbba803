"""Text from stored or user-supplied data, made safe for the medium it is written to.

Labels, task ids, file names, kernel logs and exception texts come from whoever wrote the store,
the baseline or the candidate. None of them may steer the medium they are shown in: no terminal
escape sequence or rich markup, no Markdown heading, HTML or link, no spreadsheet formula, no
character that makes an XML file unparseable, and no line of its own where a CI runner reads
``::error`` style commands. One helper per medium; every renderer calls the one for its medium
on every piece of data and never on its own fixed text.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rich.text import Text

# Unicode categories that change how text is laid out or interpreted rather than what it says:
# control characters (C0, DEL, C1: escape sequences, newlines, carriage returns), format
# characters (bidirectional overrides, zero-width joiners), line and paragraph separators,
# lone surrogates and unassigned code points.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(value: object, keep: str = "") -> str:
    """``value`` as one line of plain text, every control or format character written out as an
    escape (``\\x1b``, ``\\n``, ``\\u202e``), so that it cannot move the cursor, start a line or
    reorder what follows. Characters in ``keep`` (a tab in source code) stay as they are."""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        _escape_char(c) if unicodedata.category(c) in _INVISIBLE and c not in keep else c
        for c in text
    )


def term(value: object, style: str = "") -> Text:
    """Data for a rich console or table: a ``Text`` (never parsed for markup or emoji codes)
    holding ``visible(value)``."""
    return Text(visible(value), style=style)


def term_line(value: object, style: str = "") -> Text:
    """``term`` for a title or a heading: never wrapped (a wrapped line could start with data
    that a CI runner reads as a command), cut with an ellipsis where it is too wide."""
    text = term(value, style)
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def term_join(*parts: str | tuple[object, str] | Text) -> Text:
    """Fixed text and data in one ``Text``: a ``str`` part is the program's own plain text, a
    ``(value, style)`` pair is data shown with a style, a ``Text`` is taken as it is."""
    out = Text()
    for part in parts:
        if isinstance(part, Text):
            out.append_text(part)
        elif isinstance(part, tuple):
            out.append_text(term(part[0], part[1]))
        else:
            out.append(part)
    return out


# ASCII punctuation that means something inside a line of GitHub-flavoured Markdown: emphasis,
# code, links and images, table cells, HTML and entities, mentions, strike-through and math.
# (Headings, lists and quotes need the start of a line, which data never gets: ``visible``
# writes its newlines out.) CommonMark takes a backslash before any of them literally.
_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()!|~@$")


def markdown(value: object) -> str:
    """Data for Markdown, in a table cell or inside a line of prose: one line, every character
    with a Markdown or HTML meaning backslash-escaped (``<`` becomes ``&lt;`` for renderers
    that pass HTML through)."""
    out = []
    for char in visible(value):
        if char == "<":
            out.append("&lt;")
        elif char == ">":
            out.append("&gt;")
        elif char == "&":
            out.append("&amp;")
        elif char in _MARKDOWN_SPECIAL:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


# What a spreadsheet reads as the start of a formula (or, for tab and carriage return, as a
# cell break that hides one), and, since the first cell of a CSV line starts that line, what a
# CI runner reads as a command when the file is printed to its log (GitHub's ``::error``,
# Azure's ``##vso[``, TeamCity's ``##teamcity[``).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "::", "##")
# A lone dash is the program's "none" (no model, no strategy) and no spreadsheet's formula.
_NOT_A_FORMULA = frozenset({"-"})


def csv_cell(value: Any) -> Any:
    """Data for a CSV cell: numbers as they are; text that a spreadsheet would read as a formula
    or a CI runner as a command gets a leading apostrophe, and control characters are written
    out."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_FORMULA_START) and text not in _NOT_A_FORMULA:
        return "'" + visible(text)
    return visible(text)


def _xml_allowed(char: str) -> bool:
    code = ord(char)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def xml_text(value: object, one_line: bool = True) -> str:
    """Data for an XML attribute or text node: characters XML 1.0 cannot hold are written out as
    escapes (ElementTree escapes ``<``, ``&`` and quotes itself). With ``one_line`` every control
    character is written out too, newlines included."""
    text = value if isinstance(value, str) else str(value)
    if one_line:
        return visible(text)
    return "".join(c if _xml_allowed(c) else _escape_char(c) for c in text)


__all__ = ["csv_cell", "markdown", "term", "term_join", "term_line", "visible", "xml_text"]
