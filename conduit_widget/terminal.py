"""Text from a server made fit for a terminal: one line, no control sequences, no key.

A terminal obeys what it is sent: ``ESC ] 52 ; c ; ... BEL`` writes the clipboard, ``ESC ] 0 ; ... BEL`` sets the
window title, ``ESC [ 2 J`` clears the screen, the single byte 0x9b starts a CSI as ``ESC [`` does on terminals that
read 8-bit controls, and U+202E reverses the text that follows it. A server's progress message, error, task id
or URL may hold any of them, so the CLI prints nothing that came from a server without passing it through
``for_terminal``: whole sequences are removed (not just their ESC, which would leave ``]52;c;...`` behind), then
every remaining C0, DEL, C1 and bidirectional-override character, and what is left is redacted.
"""

from __future__ import annotations

import re
from typing import Final

from conduit_widget.client.redaction import redact

# A control string (OSC, DCS, SOS, PM, APC; 7-bit "ESC x" or 8-bit form) runs to its terminator, ST (ESC \ or
# 0x9c) or, for OSC as xterm reads it, BEL; one left unterminated runs to the end of the text, as a terminal
# would swallow it.
_CONTROL_STRING: Final = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
# CSI (ESC [ or 0x9b): parameter bytes, intermediate bytes, one final byte.
_CSI: Final = r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
# Every other escape: intermediates (ESC ( B, ESC # 8) and a final byte (ESC c resets the terminal).
_ESCAPE: Final = r"\x1b[\x20-\x2f]*[\x30-\x7e]?"
_SEQUENCES: Final = re.compile(f"{_CONTROL_STRING}|{_CSI}|{_ESCAPE}")
# Line breaks and tabs become spaces (the text is one line); every other control character goes.
_SPACES: Final = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029 ]+")
_CONTROLS: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def for_terminal(text: object) -> str:
    """`text` (str() of it) on one line, without control sequences or characters, redacted (`redact` knows every key
    this process was given, the CLI's included, in whatever form a server echoes it).

    Sequences go before redaction, so a key split by them (``condt_ab\x1b[0mcd``) is whole again when it is
    looked for."""
    cleaned = _SEQUENCES.sub("", str(text))
    return redact(_SPACES.sub(" ", _CONTROLS.sub("", _SPACES.sub(" ", cleaned))).strip())
