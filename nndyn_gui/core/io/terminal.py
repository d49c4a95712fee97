"""Text from files, made safe to print on a terminal.

A run's title, status message or config keys come from a file anyone can write; printed
raw, an ESC sequence in them can set the terminal's title, clear the screen or hide text
(bidi overrides), and a lone surrogate cannot even be encoded. Every command-line
message that may carry such text goes through `printable`.
"""

from __future__ import annotations

import re

# C0/C1 controls, DEL, bidi overrides / isolates and lone surrogates
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` with control characters shown as escapes (\\x1b, \\u202e, ...)."""

    def esc(m: re.Match[str]) -> str:
        c = ord(m.group())
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return _UNPRINTABLE.sub(esc, text)
