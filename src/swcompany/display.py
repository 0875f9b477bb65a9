"""Make model-derived text safe to print: no escape sequences, controls or bidi tricks.

A model (or a prompt injection reaching it) controls strings we print: the design's
``how_to_run``, file names, error messages quoting its output. Raw, they could write the
clipboard (OSC 52), erase lines, move the cursor or reorder text (bidi overrides). Pure
functions; callers also print with rich markup off, so ``[red]`` in model text stays text.
"""

from __future__ import annotations

import re
import unicodedata

# ANSI/ECMA-48 sequences, 7-bit and 8-bit: CSI, OSC (to BEL or ST), DCS/SOS/PM/APC, two-byte ESC.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*+[ -/]*+[@-~]?"
    r"|\x1b\][^\x07\x1b\x9c]*+(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[PX^_][^\x1b\x9c]*+(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*+[0-~]?"
    r"|\x9b[0-?]*+[ -/]*+[@-~]?"
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*+(?:\x07|\x1b\\|\x9c)?"
)
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _unsafe(ch: str, keep_newlines: bool) -> bool:
    if keep_newlines and ch in "\n\t":
        return False
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES


def strip_control(text: str, *, keep_newlines: bool = True) -> str:
    """Remove escape sequences and control, invisible and bidi characters (for stored fields)."""
    text = _ESCAPE_SEQUENCE.sub("", text)
    return "".join(ch for ch in text if not _unsafe(ch, keep_newlines))


def terminal_safe(text: str, *, keep_newlines: bool = False) -> str:
    """Text fit for a terminal: sequences removed, other unsafe characters shown as ``\\xNN``/``\\uNNNN``.

    Escaping (rather than dropping) shows the reader that something odd was there.
    """
    text = _ESCAPE_SEQUENCE.sub("", text)
    out = []
    for ch in text:
        if not _unsafe(ch, keep_newlines):
            out.append(ch)
        elif ch in "\n\t\r":
            out.append(" ")
        else:
            out.append(ascii(ch)[1:-1])
    return "".join(out)
